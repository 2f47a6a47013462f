"""slack_sdk's retry handlers, each telling /metrics when it tries a call again."""

from __future__ import annotations

from collections.abc import Callable

from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

# Called with the reason ("rate_limited", "connection", "server_error") before each retry.
OnRetry = Callable[[str], None]


class _Counted(AsyncRetryHandler):
    reason = ""
    on_retry: OnRetry | None = None

    async def prepare_for_next_attempt_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        if self.on_retry is not None:
            self.on_retry(self.reason)
        await super().prepare_for_next_attempt_async(
            state=state, request=request, response=response, error=error
        )


class _RateLimited(_Counted, AsyncRateLimitErrorRetryHandler):
    reason = "rate_limited"


class _Connection(_Counted, AsyncConnectionErrorRetryHandler):
    reason = "connection"


class _ServerError(_Counted, AsyncServerErrorRetryHandler):
    reason = "server_error"


def retry_handlers(*, posting: bool, on_retry: OnRetry | None) -> list[AsyncRetryHandler]:
    """429s always (Slack did nothing then); connection errors and 5xx too unless `posting`:
    a post that answered 5xx or dropped is reconciled by reading the thread back, never
    resent blindly (bot/notify.py)."""
    handlers: list[_Counted] = [_RateLimited(max_retry_count=5)]
    if not posting:
        handlers += [_Connection(max_retry_count=2), _ServerError(max_retry_count=2)]
    for handler in handlers:
        handler.on_retry = on_retry
    return list(handlers)
