"""HeyGen's error answers: every code as a sentence, and the functions that read error bodies.

Errors arrive in three shapes and are all read: v3's `{"error": {code, message, param}}`,
v2 generate's `{"data": null, "error": {code, message}}` and v1's numeric `{code, message}`.
"""

from __future__ import annotations

import email.utils
import json
import time
from typing import Any

import httpx

from providers.base import (
    BadInput,
    Failed,
    NeedsAdmin,
    ProviderError,
    RateLimited,
    Unavailable,
)
from providers.heygen.api import V1_OK

DEFAULT_RETRY_AFTER = 30.0
IN_PROGRESS_RETRY_AFTER = 5.0


_KEY_SENTENCE = (
    NeedsAdmin,
    "HeyGen refused Reelbot's API key, so a workspace admin must check HEYGEN_API_KEY.",
)
_GONE_SENTENCE = (Failed, "HeyGen no longer has this video, so make it again.")
_TOO_LONG_SENTENCE = (
    NeedsAdmin,
    "This video is too long for the HeyGen plan, so shorten the script or a workspace admin "
    "must upgrade the plan.",
)

# Codes marked "assumed" are not spelled out by any source read: trial and test-mode caps are
# documented as limits only, and v3's failure_code for an over-long video is not shown.
ERRORS: dict[str, tuple[type[ProviderError], str]] = {
    # v3 (developers.heygen.com/docs/error-codes)
    "unauthorized": _KEY_SENTENCE,
    "forbidden": (
        NeedsAdmin,
        "HeyGen does not let Reelbot's API key make videos, so a workspace admin must use a "
        "key with access to video generation.",
    ),
    "resource_access_denied": (
        BadInput,
        "The HeyGen account has no access to this avatar or voice, so pick another one.",
    ),
    "insufficient_credit": (
        NeedsAdmin,
        "The HeyGen account is out of credits, so a workspace admin must add credits or "
        "upgrade the plan.",
    ),
    "not_found": (
        Failed,
        "HeyGen could not find this video or what it is made from, so make it again.",
    ),
    "validation_error": (
        BadInput,
        "HeyGen did not accept the {field}, so change it and try again.",
    ),
    "rate_limit_exceeded": (
        RateLimited,
        "HeyGen is busy with this account's other videos, so this one starts as soon as "
        "HeyGen allows.",
    ),
    "payload_too_large": (
        BadInput,
        "This request is too big for HeyGen, so shorten the script or title and try again.",
    ),
    "conflict": (
        Failed,
        "HeyGen refused this request because it clashes with an earlier one, so start it "
        "again as a new request.",
    ),
    "request_in_progress": (
        RateLimited,
        "HeyGen is still handling this same request, so Reelbot will check again in a few seconds.",
    ),
    "asset_not_available": (
        BadInput,
        "HeyGen could not use a file this video needs, so check the avatar and background "
        "and try again.",
    ),
    "download_failed": (
        BadInput,
        "HeyGen could not download a file this video needs, so use a public link and try again.",
    ),
    # v2 generate's string codes, also assumed for a v3 look or voice that does not exist.
    "avatar_not_found": (
        BadInput,
        "HeyGen does not know this avatar, so pick another one from the list.",
    ),
    "voice_not_found": (
        BadInput,
        "HeyGen does not know this voice, so pick another one or leave it out to use the "
        "avatar's own voice.",
    ),
    # assumed: the limits page's trial daily cap (5-20 a day) and test mode's 10 a day, 60 a week.
    "trial_limit_exceeded": (
        NeedsAdmin,
        "HeyGen's free trial allows only a few videos a day and today's are used up, so try "
        "tomorrow or a workspace admin must move to a paid HeyGen API plan.",
    ),
    "test_mode_limit_exceeded": (
        BadInput,
        "HeyGen's test mode allows 10 videos a day and 60 a week and they are used up, so "
        "turn test mode off or try again later.",
    ),
    "video_too_long": _TOO_LONG_SENTENCE,  # assumed v3 spelling of 40119
    # v1/v2 numeric codes (docs.heygen.com/reference/errors, the seed)
    "40009": _KEY_SENTENCE,
    "400542": (
        NeedsAdmin,
        "HeyGen refused Reelbot's callback address, so a workspace admin must check "
        "REELBOT_PUBLIC_URL (a public http(s) address of the bot).",
    ),
    "400112": _KEY_SENTENCE,
    "40001": (
        BadInput,
        "HeyGen said something this video needs is missing, so check the avatar, voice and "
        "script and try again.",
    ),
    "400175": (
        BadInput,
        "HeyGen did not accept one of the options, so check the avatar, voice, colour and "
        "script length and try again.",
    ),
    "40104": _GONE_SENTENCE,
    "40119": _TOO_LONG_SENTENCE,
}

# What a validation_error's `param` is called in the form.
PARAM_NAMES: dict[str, str] = {
    "script": "script",
    "avatar_id": "avatar",
    "voice_id": "voice",
    "aspect_ratio": "aspect ratio",
    "background": "background colour",
    "background.value": "background colour",
    "title": "title",
    "caption": "captions setting",
}

# A validation_error about these is an admin's to fix: the setting that produces each.
_SET_BY_ADMIN = {
    "callback_url": "REELBOT_PUBLIC_URL",
    "callback_id": "the Reelbot version (job ids)",
}

_BY_STATUS = {401: "unauthorized", 402: "insufficient_credit", 403: "forbidden"}


def _clean(text: str | None, secrets: tuple[str, ...], limit: int = 160) -> str:
    """Provider text made safe to show: one line, short, no secret, no final period."""
    line = " ".join((text or "").split())
    for secret in secrets:
        if secret:
            line = line.replace(secret, "[redacted]")
    if len(line) > limit:
        line = line[: limit - 1].rstrip() + "…"
    return line.rstrip(".")


def retry_after(response: httpx.Response, default: float) -> float:
    """Retry-After in seconds (a number or an HTTP date), else `default`."""
    raw = response.headers.get("Retry-After", "").strip()
    if not raw:
        return default
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return default
    return max(0.0, when.timestamp() - time.time())


def error_for(
    code: str,
    *,
    param: str | None = None,
    detail: str = "",
    wait: float = DEFAULT_RETRY_AFTER,
) -> ProviderError | None:
    known = ERRORS.get(code)
    if known is None:
        return None
    cls, sentence = known
    if code == "validation_error" and param in _SET_BY_ADMIN:
        # Values Reelbot fills in from its settings: the requester cannot change them.
        return NeedsAdmin(
            f"HeyGen did not accept `{param}`, which comes from Reelbot's own settings, so a "
            f"workspace admin must check {_SET_BY_ADMIN[param]}.",
            code=code,
        )
    if code == "validation_error":
        name, tag = (PARAM_NAMES.get(param, "value"), f"`{param}`") if param else ("request", "")
        inside = ": ".join(part for part in (tag, detail) if part)
        sentence = sentence.format(field=f"{name} ({inside})" if inside else name)
    if cls is RateLimited:
        return RateLimited(sentence, retry_after=wait, code=code)
    return cls(sentence, code=code)


def _read_error(payload: Any) -> tuple[str, str | None, str | None]:
    """(code, message, param) from any of HeyGen's three error shapes; code "" if none."""
    if not isinstance(payload, dict):
        return "", None, None
    inner = payload.get("error")
    if isinstance(inner, dict):
        code, message, param = inner.get("code"), inner.get("message"), inner.get("param")
    else:
        code, message, param = payload.get("code"), payload.get("message"), None
        if code == V1_OK:
            code = None
    code_text = "" if code is None or isinstance(code, bool) else str(code).strip()
    return (
        code_text,
        message if isinstance(message, str) else None,
        param if isinstance(param, str) else None,
    )


def error_from_response(response: httpx.Response, *, secrets: tuple[str, ...]) -> ProviderError:
    """The ProviderError a 4xx (or an error envelope) from HeyGen stands for."""
    status = response.status_code
    try:
        payload = json.loads(response.content)
    except ValueError:
        payload = None
    code, message, param = _read_error(payload)
    if code == "request_in_progress":
        wait = retry_after(response, IN_PROGRESS_RETRY_AFTER)
    else:
        wait = retry_after(response, DEFAULT_RETRY_AFTER)
    detail = _clean(message, secrets)
    found = error_for(code, param=param, detail=detail, wait=wait) if code else None
    if found is None and (status == 429 or code == "rate_limit_exceeded"):
        found = error_for("rate_limit_exceeded", wait=wait)
    if found is None and status in _BY_STATUS:
        found = error_for(_BY_STATUS[status])
    if found is None:
        shown = f"{_clean(code, secrets, 40)}, " if code else ""
        found = Failed(
            f"HeyGen refused the request ({shown}HTTP {status}), so try again later or ask "
            "a workspace admin to check the HeyGen account.",
            code=code or f"http_{status}",
        )
    return found


def failure_error(
    code: str | int | None, message: str | None, *, secrets: tuple[str, ...]
) -> ProviderError:
    """A failed render (v3 failure_code/failure_message, v2 error{code, message, detail})."""
    code_text = "" if code is None else str(code).strip()
    found = error_for(code_text) if code_text else None
    if found is not None:
        return found
    reason = _clean(message, secrets) or "no reason given"
    return Failed(
        f"HeyGen could not make this video ({reason}), so try again or change the script.",
        code=code_text or "failed",
    )


def unreadable() -> Unavailable:
    return Unavailable(
        "HeyGen sent an answer Reelbot could not read; Reelbot will keep trying.",
        code="malformed",
    )
