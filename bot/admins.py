"""Whether Slack says a person is a workspace admin or owner (users.info): one answer, cached a
minute, for everything admin-only (App Home's admin part, `/reel settings` and `spend`, the
preset editor, the provider keys form).

The cache is keyed by workspace and person: on Enterprise Grid a person has the same user id in
every workspace of the org, and may be an admin in one of them only.

Two ways to ask. `is_admin` uses the client as given, whose retry handlers wait out a 429's
Retry-After: for work done after Slack has its ack. `quick` makes one call without retries and
with a short timeout: for what must answer within Slack's 3 s (a view submission's errors, a
trigger_id's modal); it says None when Slack could not tell in time, and the caller says so
instead of guessing.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import OrderedDict
from collections.abc import Callable

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.notify import slack_error

log = logging.getLogger(__name__)

CACHE_SECONDS = 60.0
# Of Slack's 3 s: how long a quick check may wait for users.info.
QUICK_SECONDS = 1.0
SLACK_BUSY = (
    "Slack is busy, so I couldn't check that you're a workspace admin. Try again in a moment."
)
_KEPT = 10_000
_UNREACHABLE: tuple[type[Exception], ...] = (aiohttp.ClientError, TimeoutError)


def _says_admin(answer: object) -> bool:
    user = (answer.get("user") if isinstance(answer, dict) else None) or {}
    return bool(user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner"))


def _without_retries(client: AsyncWebClient, seconds: float) -> AsyncWebClient:
    """The same workspace's client (token, URL, session), answering a 429 at once."""
    return AsyncWebClient(
        token=client.token,
        base_url=client.base_url,
        timeout=max(1, math.ceil(seconds)),
        ssl=client.ssl,
        proxy=client.proxy,
        session=client.session,
        trust_env_in_session=client.trust_env_in_session,
        headers=client.headers,
        team_id=client.default_params.get("team_id"),
        logger=client.logger,
        retry_handlers=[],
    )


class Admins:
    def __init__(
        self,
        *,
        cache_seconds: float = CACHE_SECONDS,
        quick_seconds: float = QUICK_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._cache_seconds = cache_seconds
        self._quick_seconds = quick_seconds
        self._clock = clock
        self._known: OrderedDict[tuple[str, str], tuple[bool, float]] = OrderedDict()

    def known(self, team: str | None, user_id: str) -> bool | None:
        """The cached answer, when there is a fresh one."""
        found = self._known.get((team or "", user_id))
        if found is None or found[1] <= self._clock():
            return None
        return found[0]

    def _remember(self, team: str | None, user_id: str, admin: bool) -> bool:
        key = (team or "", user_id)
        self._known.pop(key, None)
        self._known[key] = (admin, self._clock() + self._cache_seconds)
        while len(self._known) > _KEPT:
            self._known.popitem(last=False)
        return admin

    async def is_admin(self, client: AsyncWebClient, team: str | None, user_id: str) -> bool:
        """Slack's answer, waiting out rate limits; a member when Slack refuses to say (not
        cached, so an admin is not shut out for a minute by one failure)."""
        known = self.known(team, user_id)
        if known is not None:
            return known
        try:
            answer = await client.users_info(user=user_id)
        except SlackApiError as exc:
            log.info("users.info failed (%s); treating %s as a member", slack_error(exc), user_id)
            return False
        except _UNREACHABLE as exc:
            log.info("users.info failed (%s); treating %s as a member", type(exc).__name__,
                     user_id)  # fmt: skip
            return False
        return self._remember(team, user_id, _says_admin(answer.data))

    async def quick(self, client: AsyncWebClient, team: str | None, user_id: str) -> bool | None:
        """Slack's answer within `quick_seconds`, or None when Slack could not say in time
        (rate limited, down, slow)."""
        known = self.known(team, user_id)
        if known is not None:
            return known
        try:
            async with asyncio.timeout(self._quick_seconds):
                answer = await _without_retries(client, self._quick_seconds).users_info(
                    user=user_id
                )
        except SlackApiError as exc:
            status = exc.response.status_code
            log.info("users.info failed (%s, HTTP %s) for %s", slack_error(exc), status, user_id)
            if status == 429 or status >= 500:
                return None
            return False
        except _UNREACHABLE as exc:
            log.info("users.info did not answer in time (%s) for %s", type(exc).__name__, user_id)
            return None
        return self._remember(team, user_id, _says_admin(answer.data))
