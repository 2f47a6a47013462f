"""The AI Studios access token: exchanged once per life for every replica, sent raw.

POST /api/odin/v3/auth/token `{appId, userKey}` gives `data.token`, valid 24 h, which every call
carries as `Authorization: <token>` (no "Bearer"). The token lives in the shared state (the job
store) with a TTL a margin shorter than its life, so it is renewed before AI Studios would refuse
it, and each replica keeps a copy in memory. One replica renews at a time: it takes a short lock
with `shared_put_new`, exchanges, stores the token and releases the lock; the others wait for
the token to appear. The token and the user key are never logged or put in an error.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import secrets
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Generator
from dataclasses import dataclass

import httpx

from providers.aistudios.api import LABEL, TOKEN_LIFE_SECONDS, TOKEN_PATH, TokenData, read
from providers.aistudios.api import token_refused as _token_refused
from providers.base import NOT_SENT, SharedState, Unavailable
from providers.http import send

log = logging.getLogger(__name__)

SLOW_SIGN_IN = "AI Studios sign-in is taking longer than it should; Reelbot will keep trying."


@dataclass(frozen=True)
class _Entry:
    token: str
    expires_at: float  # epoch seconds: stop using it from then on
    raw: str  # exactly what the shared state holds, to delete only this one

    @classmethod
    def parse(cls, raw: str | None) -> _Entry | None:
        if raw is None:
            return None
        try:
            stored = json.loads(raw)
            token, expires_at = stored["token"], float(stored["expires_at"])
        except (ValueError, TypeError, KeyError):
            return None
        if not isinstance(token, str) or not token:
            return None
        return cls(token, expires_at, raw)

    def fresh(self) -> bool:
        return self.expires_at > time.time()


async def exchange_token(client: httpx.AsyncClient, app_id: str, user_key: str) -> str:
    """One token exchange. Repeating it is harmless, so it retries like a poll."""
    response = await send(
        client,
        "POST",
        TOKEN_PATH,
        label=LABEL,
        idempotent=True,
        json={"appId": app_id, "userKey": user_key},
    )
    return read(response, TokenData, exchange=True).token


class TokenAuth(httpx.Auth):
    """An httpx.Auth that puts the shared token on every request but the exchange itself.

    `scope` names the account (base URL, app id and a digest of the user key): tokens are
    shared between replicas under a hash of it. `life` is the token's life in seconds;
    `margin` how much sooner it is renewed (a quarter of the life, at most ten minutes, by
    default); `lock_seconds` how long a renewing replica may hold the lock before another may
    take over.
    """

    def __init__(
        self,
        shared: SharedState,
        scope: str,
        exchange: Callable[[], Awaitable[str]],
        *,
        life: float = TOKEN_LIFE_SECONDS,
        margin: float | None = None,
        lock_seconds: float = 60.0,
        wait_seconds: float | None = None,
        poll_interval: float = 0.05,
    ) -> None:
        if life <= 0:
            raise ValueError("a token's life must be positive")
        digest = hashlib.sha256(scope.encode()).hexdigest()[:16]
        self.key = f"aistudios:token:{digest}"
        self.lock_key = f"aistudios:token-lock:{digest}"
        self._shared = shared
        self._exchange = exchange
        self._usable = life - (min(600.0, life / 4) if margin is None else margin)
        if self._usable <= 0:
            raise ValueError("the margin must be shorter than the token's life")
        self._lock_seconds = lock_seconds
        self._wait_seconds = lock_seconds + 5.0 if wait_seconds is None else wait_seconds
        self._poll_interval = poll_interval
        self._local: _Entry | None = None
        self._lock = asyncio.Lock()

    # --- httpx ------------------------------------------------------------------------------
    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response]:
        raise RuntimeError("TokenAuth works with httpx.AsyncClient only")

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        if request.url.path.endswith(TOKEN_PATH):
            yield request  # the exchange carries the app id and user key, not a token
            return
        token = await self._token_before_sending()
        request.headers["Authorization"] = token
        response = yield request
        await response.aread()  # overriding async_auth_flow, so requires_response_body is ours
        if not _token_refused(response):
            return
        # Refused for its token, the request did nothing (a create made no project), so it is
        # sent once more with a renewed token. A second refusal is the caller's to report.
        log.info("AI Studios refused the access token; renewing it")
        await self.drop(token)
        request.headers["Authorization"] = await self._token_before_sending()
        yield request

    # --- the token --------------------------------------------------------------------------
    async def _token_before_sending(self) -> str:
        try:
            return await self.token()
        except Unavailable as exc:
            # Whatever failed, the request itself has not left: say so, so a create is retried.
            raise Unavailable(exc.message, code=NOT_SENT) from None

    async def token(self) -> str:
        """A token that is still fresh: this replica's copy, the shared one, or a new one."""
        local = self._local
        if local is not None and local.fresh():
            return local.token
        async with self._lock:
            local = self._local
            if local is not None and local.fresh():
                return local.token
            entry = await self._read_shared() or await self._renew()
            self._local = entry
            return entry.token

    async def drop(self, token: str) -> None:
        """Forget a token AI Studios refused, here and in the shared state, but never a newer
        one another replica stored meanwhile."""
        local = self._local
        if local is not None and local.token == token:
            self._local = None
        shared = await self._read_shared(fresh_only=False)
        if shared is not None and shared.token == token:
            await self._shared.shared_delete(self.key, value=shared.raw)

    async def _read_shared(self, *, fresh_only: bool = True) -> _Entry | None:
        entry = _Entry.parse(await self._shared.shared_get(self.key))
        if entry is None or (fresh_only and not entry.fresh()):
            return None
        return entry

    async def _renew(self) -> _Entry:
        mine = secrets.token_hex(8)
        deadline = time.monotonic() + self._wait_seconds
        while True:
            if await self._shared.shared_put_new(self.lock_key, mine, self._lock_seconds):
                try:
                    # Someone may have stored a token between our look and our lock.
                    return await self._read_shared() or await self._exchange_and_store()
                finally:
                    await self._shared.shared_delete(self.lock_key, value=mine)
            await asyncio.sleep(self._poll_interval)
            found = await self._read_shared()
            if found is not None:
                return found
            if time.monotonic() >= deadline:
                raise Unavailable(SLOW_SIGN_IN, code=NOT_SENT)

    async def _exchange_and_store(self) -> _Entry:
        started = time.time()  # before asking: the token's life may start a little later
        token = await self._exchange()
        expires_at = started + self._usable
        raw = json.dumps({"token": token, "expires_at": expires_at})
        ttl = expires_at - time.time()
        if ttl > 0:
            await self._shared.shared_put(self.key, raw, ttl)
        log.info("AI Studios access token renewed")
        return _Entry(token, expires_at, raw)
