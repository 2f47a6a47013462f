"""What the local ViddyScribe accepts: bodies, inputs and generation_config, and how it
refuses, in either documented error shape.

Written from the documents, never from the client (see `viddyscribe`). A check that fails
raises `Refusal` with the code ViddyScribe answers; `answer` turns it into the response.
"""

from __future__ import annotations

import json
import math
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

from aiohttp import web

from providers.simulators.viddyscribe_data import (
    AD_TYPES,
    AUDIO_MAGIC,
    BOOL_FIELDS,
    CATEGORIES,
    CONFIG_FIELDS,
    ERRORS,
    FORMATS,
    LANGUAGES,
    MAX_INSTRUCTIONS,
    RETRY_CODES,
    STRING_FIELDS,
)
from providers.simulators.viddyscribe_state import Job

RetryIn = Literal["body", "header", "both"]
DEFAULT_RETRY = 7


class Refusal(Exception):
    def __init__(
        self,
        code: str,
        message: str | None = None,
        *,
        retry_after: int | None = None,
        upload_status: str | None = None,
    ) -> None:
        super().__init__(code)
        self.code, self.message = code, message
        self.retry_after, self.upload_status = retry_after, upload_status


def answer(refusal: Refusal, retry_in: RetryIn = "body") -> tuple[web.Response, int | None]:
    """The response for `refusal`, and the retry_after it carries (if any).

    A 409 names its code in `code` with a sentence in `error` (get-job-results OpenAPI);
    every other error names it in `error` with the sentence in `message`. A 429 over a limit
    that passes says when in `retry_after` (the seed), as a Retry-After header, or both.
    """
    status, message = ERRORS.get(refusal.code, (400, "Simulated error."))
    message = refusal.message or message
    body: dict[str, Any]
    if status == 409:
        body = {"error": message, "code": refusal.code}
        body["upload_status"] = refusal.upload_status or (
            "failed" if refusal.code == "upload_failed" else "verifying"
        )
    else:
        body = {"error": refusal.code, "message": message}
    headers: dict[str, str] = {}
    retry: int | None = None
    if refusal.retry_after is not None or refusal.code in RETRY_CODES:
        retry = refusal.retry_after if refusal.retry_after is not None else DEFAULT_RETRY
        if retry_in in ("body", "both"):
            body["retry_after"] = retry
        if retry_in in ("header", "both"):
            headers["Retry-After"] = str(retry)
    return web.json_response(body, status=status, headers=headers), retry


def read_object(raw: bytes | str, what: str = "request body") -> dict[str, Any]:
    try:
        body = json.loads(raw)
    except ValueError:
        raise Refusal("bad_request", f"The {what} is not valid JSON.") from None
    if not isinstance(body, dict):
        raise Refusal("bad_request", f"The {what} must be a JSON object.")
    return body


@dataclass(frozen=True)
class Source:
    """A generate or upload call's `input`: a public link, a known media id, or a file."""

    type: Literal["url", "media_id", "file", "signed_url"]
    value: str = ""
    filename: str = ""
    content_type: str = ""


def parse_input(value: Any, *, allowed: frozenset[str]) -> Source:
    if not isinstance(value, dict):
        raise Refusal("bad_request", "`input` must be an object with a `type`.")
    kind = value.get("type")
    if kind not in allowed:
        raise Refusal("bad_request", f"`input.type` must be one of {', '.join(sorted(allowed))}.")
    if kind == "url":
        url = value.get("url")
        parts = urlsplit(url) if isinstance(url, str) else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
            raise Refusal("bad_request", "`input.url` must be a public http(s) link.")
        return Source("url", url, str(value.get("filename") or ""))  # type: ignore[arg-type]
    if kind == "media_id":
        media_id = value.get("media_id")
        if not isinstance(media_id, str) or not media_id:
            raise Refusal("bad_request", "`input.media_id` is required.")
        return Source("media_id", media_id)
    if kind == "signed_url":
        filename, content_type = value.get("filename"), value.get("content_type")
        if not isinstance(filename, str) or not filename:
            raise Refusal("bad_request", "`input.filename` is required for a signed upload.")
        if not isinstance(content_type, str) or "/" not in content_type:
            raise Refusal("bad_request", "`input.content_type` is required for a signed upload.")
        return Source("signed_url", filename=filename, content_type=content_type)
    return Source("file")


def parse_config(value: Any, endpoint: str) -> dict[str, Any]:
    """generation_config checked, with the documented defaults filled in."""
    if value is None:
        value = {}
    if not isinstance(value, dict):
        raise Refusal("bad_request", "`generation_config` must be an object.")
    for name in value:
        if name not in CONFIG_FIELDS:
            raise Refusal("bad_request", f"Unknown generation_config option `{name}`.")
    config = {
        "language": "en-US",
        "format": "vtt",
        "video_category": "Auto",
        "ad_type": "standard_ad",
        **value,
    }
    if config["language"] not in LANGUAGES:
        raise Refusal("bad_request", f"Unsupported language `{config['language']}`.")
    if config["format"] not in FORMATS:
        raise Refusal("bad_request", "`format` must be one of json, vtt, srt, edl.")
    if config["video_category"] not in CATEGORIES:
        raise Refusal("bad_request", f"Unknown video_category `{config['video_category']}`.")
    if config["ad_type"] not in AD_TYPES:
        raise Refusal("bad_request", "`ad_type` must be standard_ad or extended_ad.")
    if endpoint == "audio" and config["ad_type"] != "standard_ad":
        # "generate_ad_audio (Standard AD only)"; the refusal's shape is assumed.
        raise Refusal("bad_request", "Audio generation supports standard_ad only.")
    for name in BOOL_FIELDS & config.keys():
        if not isinstance(config[name], bool):
            raise Refusal("bad_request", f"`{name}` must be true or false.")
    for name in STRING_FIELDS & config.keys():
        if not isinstance(config[name], str) or not config[name].strip():
            raise Refusal("bad_request", f"`{name}` must be a non-empty string.")
    if len(config.get("custom_instructions", "")) > MAX_INSTRUCTIONS:
        raise Refusal("bad_request", "`custom_instructions` is too long.")
    level = config.get("volume_level_db")
    if level is not None and (
        isinstance(level, bool) or not isinstance(level, int | float) or not math.isfinite(level)
    ):
        raise Refusal("bad_request", "`volume_level_db` must be a number.")
    return config


def looks_like_video(head: bytes, content_type: str) -> bool:
    """Whether the first bytes (or the declared type) are a video's, not audio only."""
    if content_type.lower().startswith("audio/"):
        return False
    if head.startswith(b"RIFF"):
        return head[8:12] != b"WAVE"
    return not head.startswith(AUDIO_MAGIC)


def rate(calls: deque[float], per_minute: int | None, now: float) -> None:
    """At most `per_minute` generate calls in any 60 s (assumed: numbers are not documented)."""
    while calls and now - calls[0] >= 60:
        calls.popleft()
    if per_minute is not None and len(calls) >= per_minute:
        raise Refusal("rate_limit_exceeded", retry_after=max(1, math.ceil(60 - (now - calls[0]))))
    calls.append(now)


def admit(
    jobs: Iterable[Job],
    *,
    allocation: int | None,
    queue_limit: int | None,
    render_seconds: float,
    now: float,
) -> None:
    """The team's allocation (jobs ever), then its queue (jobs not finished)."""
    made = list(jobs)
    if allocation is not None and len(made) >= allocation:
        raise Refusal("plan_limit_exceeded")
    open_ends = [j.created + render_seconds for j in made if j.created + render_seconds > now]
    if queue_limit is not None and len(open_ends) >= queue_limit:
        wait = max(1, math.ceil(min(open_ends) - now))
        raise Refusal("queue_limit_exceeded", retry_after=wait)
