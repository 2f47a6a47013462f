"""Reading a channel back: the paging of conversations.history and conversations.replies.

Free of sandbox state: the server hands in the messages and renders the page it gets back.
Time bounds and cursors are compared in whole microseconds, the precision of a Slack ts.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from bot.sandbox.validation import JSONDict, _ApiError

if TYPE_CHECKING:
    from bot.sandbox.server import Message

HISTORY_LIMIT, HISTORY_LIMIT_MAX = 100, 999
REPLIES_LIMIT, REPLIES_LIMIT_MAX = 1000, 1000
# Slack's cursors are base64 of "next_ts:<ts in microseconds>"; callers treat them as opaque.
_CURSOR_PREFIX = "next_ts:"


def ts_micros(value: Any, error: str = "invalid_arguments") -> int:
    """A ts ("1700000000.000100", or a number of seconds) in microseconds, or `error`."""
    try:
        seconds = Decimal(str(value).strip())
    except InvalidOperation:
        raise _ApiError(error) from None
    if not seconds.is_finite() or seconds < 0:
        raise _ApiError(error)
    return int(seconds * 1_000_000)


def flag(params: JSONDict, name: str) -> bool:
    """A boolean argument: true, 1, "true" or "1" (slack_sdk sends "1"/"0"); else false."""
    value = params.get(name)
    if isinstance(value, bool | int):
        return bool(value)
    return str(value).strip().lower() in ("1", "true")


def limit_of(params: JSONDict, default: int, most: int) -> int:
    """The page size asked for: `default` when absent or not positive, at most `most`."""
    value = params.get("limit")
    if value in (None, ""):
        return default
    try:
        limit = int(value)
    except (TypeError, ValueError):
        raise _ApiError("invalid_limit") from None
    return default if limit < 1 else min(limit, most)


def encode_cursor(ts: str) -> str:
    return base64.b64encode(f"{_CURSOR_PREFIX}{ts_micros(ts)}".encode()).decode()


def decode_cursor(cursor: Any) -> int:
    """The microsecond ts a cursor points at, or `invalid_cursor`."""
    try:
        decoded = base64.b64decode(str(cursor), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise _ApiError("invalid_cursor") from None
    micros = decoded.removeprefix(_CURSOR_PREFIX)
    if micros == decoded or not micros.isdigit():
        raise _ApiError("invalid_cursor")
    return int(micros)


@dataclass(frozen=True)
class TimeRange:
    """oldest/latest as given, exclusive unless `inclusive`; unbounded where not given."""

    oldest: int | None
    latest: int | None
    inclusive: bool

    @classmethod
    def of(cls, params: JSONDict) -> TimeRange:
        oldest, latest = params.get("oldest"), params.get("latest")
        return cls(
            oldest=None if oldest in (None, "") else ts_micros(oldest, "invalid_ts_oldest"),
            latest=None if latest in (None, "") else ts_micros(latest, "invalid_ts_latest"),
            inclusive=flag(params, "inclusive"),
        )

    def holds(self, ts: str) -> bool:
        at = ts_micros(ts)
        if self.oldest is not None and (
            at < self.oldest or (at == self.oldest and not self.inclusive)
        ):
            return False
        return self.latest is None or at < self.latest or (at == self.latest and self.inclusive)


@dataclass(frozen=True)
class Page:
    messages: list[Message]
    next_ts: str | None  # where the next page starts; None on the last page

    def paging(self) -> JSONDict:
        """`has_more` and `response_metadata.next_cursor` (empty on the last page)."""
        cursor = "" if self.next_ts is None else encode_cursor(self.next_ts)
        return {"has_more": self.next_ts is not None, "response_metadata": {"next_cursor": cursor}}


def history_page(roots: list[Message], params: JSONDict) -> Page:
    """One page of a channel's top-level messages, newest first, from `latest` back."""
    bounds = TimeRange.of(params)
    limit = limit_of(params, HISTORY_LIMIT, HISTORY_LIMIT_MAX)
    start = decode_cursor(params["cursor"]) if params.get("cursor") else None
    chosen = [
        m for m in roots if bounds.holds(m.ts) and (start is None or ts_micros(m.ts) <= start)
    ]
    chosen.sort(key=lambda m: ts_micros(m.ts), reverse=True)
    return Page(chosen[:limit], chosen[limit].ts if len(chosen) > limit else None)


def replies_page(parent: Message | None, replies: list[Message], params: JSONDict) -> Page:
    """One page of a thread: the parent first (on the first page only, whatever the time
    bounds), then its replies within the bounds, oldest first, from `oldest` on."""
    bounds = TimeRange.of(params)
    limit = limit_of(params, REPLIES_LIMIT, REPLIES_LIMIT_MAX)
    start = decode_cursor(params["cursor"]) if params.get("cursor") else None
    chosen = [
        m for m in replies if bounds.holds(m.ts) and (start is None or ts_micros(m.ts) >= start)
    ]
    chosen.sort(key=lambda m: ts_micros(m.ts))
    lead = [parent] if parent is not None and start is None else []
    room = limit - len(lead)
    return Page(lead + chosen[:room], chosen[room].ts if len(chosen) > room else None)
