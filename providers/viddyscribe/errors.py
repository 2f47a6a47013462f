"""ViddyScribe's error answers: every documented code as a sentence, and the functions that
read error bodies and failed jobs.

Bodies come in two shapes and both are read, never one field alone: `{"error": <code>,
"message": <sentence>}` (with `retry_after` on a 429), and on a 409 `{"error": <sentence>,
"code": <code>, "upload_status": ...}`. A code neither field names is found by HTTP status.
"""

from __future__ import annotations

import email.utils
import json
import math
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

DEFAULT_RETRY_AFTER = 30.0
# upload_not_ready: "Retry shortly".
NOT_READY_RETRY_AFTER = 5.0

# The codes marked "assumed" are not spelled out by any source read: the 400, generic 403 and
# 404 bodies' codes are not shown, so the words of the overview's table stand in for them.
ERRORS: dict[str, tuple[type[ProviderError], str]] = {
    "bad_request": (  # assumed: "400 Bad request - invalid parameters"
        BadInput,
        "ViddyScribe did not accept this request{detail}, so check the options and try again.",
    ),
    "unauthorized": (
        NeedsAdmin,
        "ViddyScribe refused Reelbot's API key, so a workspace admin must check "
        "VIDDYSCRIBE_API_KEY.",
    ),
    "forbidden": (  # assumed: "403 Forbidden - plan restriction or input limit"
        NeedsAdmin,
        "ViddyScribe's plan does not allow this request, so a workspace admin must check "
        "the ViddyScribe plan.",
    ),
    "feature_not_available": (
        NeedsAdmin,
        "The ViddyScribe plan does not include what this request asks for, so pick another "
        "output or type, or a workspace admin must upgrade the plan.",
    ),
    "video_too_long": (
        NeedsAdmin,
        "This video is longer than the ViddyScribe plan allows, so use a shorter video, or "
        "a workspace admin must raise the plan's limit.",
    ),
    "file_too_large": (
        NeedsAdmin,
        "This file is bigger than the ViddyScribe plan allows, so use a smaller file, or a "
        "workspace admin must raise the plan's limit.",
    ),
    "not_found": (  # assumed: "404 Not found - media or job not found"
        Failed,
        "ViddyScribe no longer has this video or job, so ask for the description again.",
    ),
    "upload_failed": (
        BadInput,
        "ViddyScribe could not verify the uploaded video, so upload it again or share a link "
        "to it.",
    ),
    "upload_not_ready": (
        RateLimited,
        "ViddyScribe is still checking the uploaded video, so Reelbot will try again in a "
        "few seconds.",
    ),
    "no_video_stream": (
        BadInput,
        "ViddyScribe found no picture in this file (it may be audio only), so use a file "
        "with a video stream.",
    ),
    "rate_limit_exceeded": (
        RateLimited,
        "ViddyScribe asked Reelbot to slow down, so this description starts as soon as "
        "ViddyScribe allows.",
    ),
    "concurrency_limit_exceeded": (
        RateLimited,
        "ViddyScribe is checking too many of this team's videos at once, so this one starts "
        "after a short wait.",
    ),
    "queue_limit_exceeded": (
        RateLimited,
        "ViddyScribe's queue for this team is full, so this description starts when earlier "
        "ones finish.",
    ),
    "plan_limit_exceeded": (
        NeedsAdmin,
        "The ViddyScribe plan's allocation is used up, so an admin must act: a workspace "
        "admin must add to the ViddyScribe plan before more descriptions can be made.",
    ),
}

_BY_STATUS = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    415: "no_video_stream",
    429: "rate_limit_exceeded",
}


def clean(text: str | None, secrets: tuple[str, ...], limit: int = 160) -> str:
    """Provider text made safe to show: one line, short, no secret, no braces or final period."""
    line = " ".join((text or "").split())
    for secret in secrets:
        if secret:
            line = line.replace(secret, "[redacted]")
    line = line.replace("{", "(").replace("}", ")")
    if len(line) > limit:
        line = line[: limit - 1].rstrip() + "…"
    return line.rstrip(".").strip()


def _seconds(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) and number >= 0 else None


def _header_wait(response: httpx.Response) -> float | None:
    """Retry-After in seconds (a number or an HTTP date), or None."""
    raw = response.headers.get("Retry-After", "").strip()
    if not raw:
        return None
    number = _seconds(raw)
    if number is not None:
        return number
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def retry_after(response: httpx.Response, payload: Any, default: float) -> float:
    """The body's `retry_after` or the Retry-After header, whichever comes (the longer when
    both do), else `default`; never under a second."""
    body = _seconds(payload.get("retry_after")) if isinstance(payload, dict) else None
    waits = [w for w in (body, _header_wait(response)) if w is not None]
    return max(1.0, max(waits) if waits else default)


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def read_error(payload: Any) -> tuple[str | None, str | None]:
    """(code, message) from either body shape: the first of `code` and `error` that names a
    known code, else the first that looks like one; the message is `message`, else an
    `error` that is a sentence rather than a code."""
    if not isinstance(payload, dict):
        return None, None
    fields = [_text(payload.get("code")), _text(payload.get("error"))]
    known = next((f for f in fields if f is not None and f.lower() in ERRORS), None)
    code = known.lower() if known else next((f for f in fields if f and " " not in f), None)
    message = _text(payload.get("message"))
    if message is None:
        message = next((f for f in fields if f and " " in f), None)
    return code, message


def error_for(
    code: str, *, detail: str = "", wait: float = DEFAULT_RETRY_AFTER
) -> ProviderError | None:
    known = ERRORS.get(code)
    if known is None:
        return None
    cls, sentence = known
    sentence = sentence.format(detail=f" ({detail})" if detail else "")
    if cls is RateLimited:
        return RateLimited(sentence, retry_after=wait, code=code)
    return cls(sentence, code=code)


def error_from_response(response: httpx.Response, *, secrets: tuple[str, ...]) -> ProviderError:
    """The ProviderError a 4xx answer from ViddyScribe stands for."""
    status = response.status_code
    try:
        payload = json.loads(response.content)
    except ValueError:
        payload = None
    code, message = read_error(payload)
    if code not in ERRORS and status == 409:
        # A 409 is "not ready" or "verification failed": upload_status tells which.
        upload = payload.get("upload_status") if isinstance(payload, dict) else None
        code = "upload_failed" if upload == "failed" else "upload_not_ready"
    if code not in ERRORS and status in _BY_STATUS:
        code = _BY_STATUS[status]
    default = NOT_READY_RETRY_AFTER if code == "upload_not_ready" else DEFAULT_RETRY_AFTER
    wait = retry_after(response, payload, default)
    detail = clean(message, secrets) if code == "bad_request" else ""
    found = error_for(code, detail=detail, wait=wait) if code else None
    if found is not None:
        return found
    shown = f"{clean(code, secrets, 40)}, " if code else ""
    return Failed(
        f"ViddyScribe refused the request ({shown}HTTP {status}), so try again later or ask a "
        "workspace admin to check the ViddyScribe account.",
        code=code or f"http_{status}",
    )


def failure_error(
    code: str | None, message: str | None, *, secrets: tuple[str, ...]
) -> ProviderError:
    """A job get_results reports as failed (`error_code`, `error`). A failed job stays
    failed, so a limit named in it is not waited for: the job is asked for again."""
    code_text = (code or "").strip().lower()
    found = error_for(code_text) if code_text else None
    if found is not None and not isinstance(found, RateLimited):
        return found
    reason = clean(message, secrets) or "no reason given"
    return Failed(
        f"ViddyScribe could not describe this video ({reason}), so try again or use another video.",
        code=code_text or "failed",
    )


def unreadable() -> Unavailable:
    return Unavailable(
        "ViddyScribe sent an answer Reelbot could not read; Reelbot will keep trying.",
        code="malformed",
    )
