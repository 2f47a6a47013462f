"""What Cuttr's error answers mean, each as a sentence a person understands.

The documents give an HTTP status and a message (401 "Missing X-API-Key header", "Invalid API
key", "API key expired"; 402 "Insufficient balance"; 403 "API billing not active"; 429 "Rate
limit exceeded" with Retry-After), not the body's shape: the message is looked for under
`error`, then `message` (assumed), and a status alone still reads right.
"""

from __future__ import annotations

import email.utils
import json
import time

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
_KEY = "a workspace admin must set a valid CUTTR_API_KEY"

# (HTTP status, words in Cuttr's message) -> (code, kind, sentence). First match wins.
ERRORS: tuple[tuple[int, str, str, type[ProviderError], str], ...] = (
    (401, "missing", "missing_key", NeedsAdmin,
     f"Reelbot sent no Cuttr key, so {_KEY}."),
    (401, "expired", "expired_key", NeedsAdmin,
     f"Cuttr says its API key has expired, so {_KEY} (Cuttr keys can expire)."),
    (401, "", "invalid_key", NeedsAdmin,
     f"Cuttr refused Reelbot's API key, so {_KEY}."),
    (402, "", "insufficient_balance", NeedsAdmin,
     "The Cuttr team wallet does not hold enough for this request, so a workspace admin "
     "must top it up (cuttr.com, Stripe, at least $5)."),
    (403, "", "billing_inactive", NeedsAdmin,
     "Cuttr API billing is not active for this team, so a workspace admin must activate "
     "it in Cuttr."),
    (404, "", "not_found", Failed,
     "Cuttr no longer knows this job, so its clips cannot be fetched."),
    (413, "", "too_large", BadInput,
     "Cuttr refused the video as too large, so try a shorter or smaller video."),
)  # fmt: skip


def message_of(response: httpx.Response) -> str:
    """Cuttr's own message (`error`, else `message`), or "" when the body says none."""
    try:
        body = json.loads(response.content)
    except ValueError:
        return ""
    if not isinstance(body, dict):
        return ""
    for name in ("error", "message"):
        value = body.get(name)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return ""


def retry_after(response: httpx.Response) -> float:
    """Retry-After in seconds or as an HTTP date; the default when missing or unreadable."""
    raw = response.headers.get("retry-after", "").strip()
    if raw.isdigit():
        return max(1.0, float(raw))
    if raw:
        try:
            when = email.utils.parsedate_to_datetime(raw)
        except (TypeError, ValueError):
            return DEFAULT_RETRY_AFTER
        return max(1.0, when.timestamp() - time.time())
    return DEFAULT_RETRY_AFTER


def _clean(message: str, secrets: tuple[str, ...]) -> str:
    for secret in secrets:
        if secret:
            message = message.replace(secret, "[redacted]")
    return message[:300]


def error_from_response(
    response: httpx.Response, *, secrets: tuple[str, ...] = ()
) -> ProviderError:
    status = response.status_code
    said = message_of(response)
    if status == 429:
        return RateLimited(
            "Cuttr asked Reelbot to slow down (60 requests a minute); it waits and tries again.",
            retry_after=retry_after(response),
            code="rate_limited",
        )
    if status >= 500:
        return Unavailable("Cuttr is not answering right now; Reelbot will keep trying.",
                           code=f"http_{status}")  # fmt: skip
    for known, words, code, kind, sentence in ERRORS:
        if status == known and words in said.lower():
            return kind(sentence, code=code)
    if status in (400, 422):
        detail = _clean(said, secrets).rstrip(".")
        because = f" ({detail})" if detail else ""
        return BadInput(
            f"Cuttr refused these options{because}, so check them and try again.",
            code="bad_request",
        )
    return Failed(f"Cuttr refused this request (HTTP {status}).", code=f"http_{status}")


def unreadable() -> Unavailable:
    return Unavailable(
        "Cuttr sent an answer Reelbot could not read; Reelbot will keep trying.",
        code="malformed",
    )
