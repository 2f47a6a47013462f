"""What the local HeyGen accepts: v3 and v2 create bodies, list queries, and the refusal it raises.

Written from the documents, never from the client (see `heygen`). A check that fails raises
`Refusal` with the code HeyGen answers; the server turns it into the answer's shape.
"""

from __future__ import annotations

import json
import math
import re
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal, Protocol

MAX_SCRIPT = 5000
ASPECT_RATIOS = frozenset({"16:9", "9:16", "4:5", "5:4", "1:1", "auto"})
IDEMPOTENCY_KEY = re.compile(r"[A-Za-z0-9_:.\-]{1,255}")
HEX_COLOUR = re.compile(r"#[0-9A-Fa-f]{6}")
_V3_FIELDS = """type avatar_id script voice_id audio_url audio_asset_id aspect_ratio resolution
output_format background caption voice_settings engine callback_url callback_id title fit
expressiveness motion_prompt remove_background watermark"""
V3_AVATAR_FIELDS = frozenset(_V3_FIELDS.split())
_V2_FIELDS = """video_inputs dimension caption caption_mode title callback_id callback_url
folder_id fps enable_watermark test subtitles"""
V2_FIELDS = frozenset(_V2_FIELDS.split())

Shape = Literal["v3", "v2", "v1"]


class Refusal(Exception):
    def __init__(
        self,
        code: str | int,
        message: str | None = None,
        *,
        param: str | None = None,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(code)
        self.code, self.message, self.param, self.retry_after = code, message, param, retry_after


@dataclass(frozen=True)
class Accepted:
    """What a create body that passed its checks asks for."""

    script: str
    test: bool
    captions: bool


class Account(Protocol):
    """What admission reads from the simulator, and the balance it charges."""

    credits: float
    credit_per_video: float
    concurrency: int
    render_seconds: float
    trial_daily_cap: int | None
    test_daily_cap: int
    test_weekly_cap: int


def admit(
    account: Account,
    made: deque[tuple[float, bool]],
    started: Iterable[float],
    *,
    test: bool,
    now: float,
) -> None:
    """Caps, credits and concurrency, in that order (the order is assumed).

    `made` is (when, test) per accepted create, `started` when each job began; an admitted
    create is charged and added to `made`.
    """
    while made and now - made[0][0] >= 7 * 86400:
        made.popleft()
    day = [was_test for at, was_test in made if now - at < 86400]
    if test and (
        day.count(True) >= account.test_daily_cap
        or sum(was_test for _, was_test in made) >= account.test_weekly_cap
    ):
        raise Refusal("test_mode_limit_exceeded")
    if (
        not test
        and account.trial_daily_cap is not None
        and (day.count(False) >= account.trial_daily_cap)
    ):
        raise Refusal("trial_limit_exceeded")
    if not test and account.credits < account.credit_per_video:
        raise Refusal("insufficient_credit")
    running = [at for at in started if now - at < account.render_seconds]
    if len(running) >= account.concurrency:
        soonest = min((at + account.render_seconds for at in running), default=now) - now
        raise Refusal("rate_limit_exceeded", retry_after=max(1, math.ceil(soonest)))
    if not test:
        account.credits -= account.credit_per_video
    made.append((now, test))


def check_idempotency_key(key: str) -> None:
    if not IDEMPOTENCY_KEY.fullmatch(key):
        raise Refusal(
            "validation_error",
            "Idempotency-Key must be 1-255 characters of [A-Za-z0-9_:.-].",
            param="Idempotency-Key",
        )


def parse_v3(
    body: dict[str, Any], looks: list[dict[str, Any]], voices: list[dict[str, Any]]
) -> Accepted:
    for name in body:
        if name not in V3_AVATAR_FIELDS:
            raise Refusal("validation_error", f"Unknown field {name}.", param=name)
    if body.get("type") != "avatar":
        raise Refusal(
            "validation_error",
            "type must be one of avatar, image, cinematic_avatar, studio.",
            param="type",
        )
    look = _look(looks, body.get("avatar_id"), "avatar_id", "validation_error")
    voice_id = body.get("voice_id")
    _voice(voices, voice_id, look, "voice_id", "validation_error")
    script = _script(body.get("script"), "script", "validation_error")
    aspect = body.get("aspect_ratio", "16:9")
    if aspect is not None and aspect not in ASPECT_RATIOS:
        raise Refusal("validation_error", "Unsupported aspect_ratio.", param="aspect_ratio")
    background = body.get("background")
    if background is not None and not _colour_ok(background, ("color", "image")):
        raise Refusal(
            "validation_error",
            "background.value must be a hex colour such as #ff0000.",
            param="background.value",
        )
    callback = body.get("callback_url")
    if callback is not None and not (
        isinstance(callback, str) and callback.startswith(("https://", "http://"))
    ):
        raise Refusal(
            "validation_error", "callback_url must be an http(s) URL.", param="callback_url"
        )
    caption = body.get("caption")
    if caption is not None and not (
        isinstance(caption, dict)
        and caption.get("file_format", "srt") == "srt"
        and caption.get("style") in (None, "default")
    ):
        raise Refusal("validation_error", "Invalid caption settings.", param="caption")
    return Accepted(script, test=False, captions=caption is not None)


def parse_v2(
    body: dict[str, Any], looks: list[dict[str, Any]], voices: list[dict[str, Any]]
) -> Accepted:
    for name in body:
        if name not in V2_FIELDS:
            raise Refusal(400175, f"Invalid parameter: {name}")
    scenes = body.get("video_inputs")
    if not isinstance(scenes, list) or not 1 <= len(scenes) <= 50:
        raise Refusal(40001, "video_inputs must hold 1-50 scenes")
    script = ""
    for scene in scenes:
        character = scene.get("character") if isinstance(scene, dict) else None
        voice = scene.get("voice") if isinstance(scene, dict) else None
        if not isinstance(character, dict) or not isinstance(voice, dict):
            raise Refusal(40001, "character and voice are required")
        if character.get("type") != "avatar":
            raise Refusal(400175, "character.type must be avatar")
        look = _look(looks, character.get("avatar_id"), "avatar_id", 40001)
        if voice.get("type") != "text" or not voice.get("voice_id"):
            raise Refusal(40001, "voice.type text with a voice_id is required")
        _voice(voices, voice.get("voice_id"), look, "voice_id", 40001)
        script += _script(voice.get("input_text"), "input_text", 400175)
        background = scene.get("background")
        if background is not None and not _colour_ok(background, ("color",)):
            raise Refusal(400175, "background.value must be a hex colour")
    dimension = body.get("dimension", {"width": 1280, "height": 720})
    if not isinstance(dimension, dict) or not all(
        _int(dimension.get(side)) and 128 <= dimension[side] <= 4096 and dimension[side] % 2 == 0
        for side in ("width", "height")
    ):
        raise Refusal(400175, "dimension must be even numbers from 128 to 4096")
    if len(script) > MAX_SCRIPT:
        raise Refusal(400175, f"input_text is longer than {MAX_SCRIPT} characters")
    callback = body.get("callback_url")
    if callback is not None and not (
        isinstance(callback, str) and callback.startswith(("https://", "http://"))
    ):
        raise Refusal(400542, "Url of this webhook endpoint is invalid")
    test = body.get("test") is True
    return Accepted(script, test=test, captions=body.get("caption") is True)


def read_object(raw: bytes, api: Shape) -> dict[str, Any]:
    try:
        body = json.loads(raw)
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise Refusal("validation_error" if api == "v3" else 400175, "Body must be a JSON object.")
    return body


def page(items: list[dict[str, Any]], query: Any, most: int, size: int) -> dict[str, Any]:
    """One page as v3 lists answer: `limit` 1..most, an opaque `token`, has_more/next_token."""
    raw_limit, token = query.get("limit", "20"), query.get("token")
    if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= most:
        raise Refusal("validation_error", f"limit must be 1-{most}.", param="limit")
    start = 0
    if token is not None:
        if not (token.startswith("pg_") and token[3:].isdigit()):
            raise Refusal("validation_error", "Invalid pagination token.", param="token")
        start = int(token[3:])
    end = start + min(int(raw_limit), size)
    more = end < len(items)
    return {"data": items[start:end], "has_more": more, "next_token": f"pg_{end}" if more else None}


def _look(
    looks: list[dict[str, Any]], avatar_id: Any, param: str, missing: str | int
) -> dict[str, Any]:
    if not isinstance(avatar_id, str) or not avatar_id:
        raise Refusal(missing, f"{param} is required.", param=param)
    look = next((a for a in looks if a["id"] == avatar_id), None)
    if look is None:
        raise Refusal("avatar_not_found", f"Avatar {avatar_id} not found.", param=param)
    return look


def _voice(
    voices: list[dict[str, Any]],
    voice_id: Any,
    look: dict[str, Any],
    param: str,
    missing: str | int,
) -> None:
    if voice_id is None:
        if not look.get("default_voice_id"):
            raise Refusal(
                missing, f"{param} is required: this avatar has no default voice.", param=param
            )
        return
    if not any(v["voice_id"] == voice_id for v in voices):
        raise Refusal("voice_not_found", f"Voice {voice_id} not found.", param=param)


def _script(value: Any, param: str, code: str | int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise Refusal(code, f"{param} is required.", param=param)
    if len(value) > MAX_SCRIPT:
        raise Refusal(code, f"{param} must be at most {MAX_SCRIPT} characters.", param=param)
    return value


def _colour_ok(background: Any, types: tuple[str, ...]) -> bool:
    if not isinstance(background, dict) or background.get("type") not in types:
        return False
    return background.get("type") != "color" or bool(
        isinstance(background.get("value"), str) and HEX_COLOUR.fullmatch(background["value"])
    )


def _int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
