"""Whose bot token a Slack call carries, with many workspaces.

What the bot does outside a Slack request (a job's turn: its root message, results, uploads,
files fetched from Slack) has no Bolt context to carry a token. So the workspace in hand is a
context variable, set by the runner for each job's turn and by a Bolt middleware for each
Slack request, and TeamWebClient puts that workspace's bot token (from the installation
store, kept briefly) on every call it makes. A workspace with no installation (uninstalled)
gets a clear refusal, never a call with some other workspace's token.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterator
from contextvars import ContextVar
from typing import Any

from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.oauth.records import TeamInstallationStore

log = logging.getLogger(__name__)

current_team: ContextVar[str | None] = ContextVar("reelbot_team", default=None)
# The error of a call refused here because the workspace has no installation.
NOT_INSTALLED = "not_installed"
# Slack's answers that say a stored token is no good any more: look it up again next time.
_TOKEN_GONE = frozenset({"invalid_auth", "token_revoked", "account_inactive", "not_authed"})
TOKEN_SECONDS = 30.0


@contextlib.contextmanager
def for_team(team_id: str | None) -> Iterator[None]:
    """Slack calls made inside are made for `team_id`'s workspace."""
    token = current_team.set(team_id)
    try:
        yield
    finally:
        current_team.reset(token)


class TeamTokens:
    """Each workspace's bot token, from the installation store, kept `ttl` seconds (dropped
    sooner on an uninstall here, or when Slack refuses it)."""

    def __init__(
        self,
        installations: TeamInstallationStore,
        ttl: float = TOKEN_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._installations = installations
        self._ttl = ttl
        self._clock = clock
        self._kept: dict[str, tuple[str, float]] = {}

    async def token(self, team_id: str) -> str | None:
        kept = self._kept.get(team_id)
        now = self._clock()
        if kept is not None and kept[1] > now:
            return kept[0]
        bot = await self._installations.async_find_bot_for_team(team_id)
        token = None if bot is None else bot.bot_token
        # Only a token is kept: a workspace that installs the app is served at once.
        if token is not None:
            self._kept[team_id] = (token, now + self._ttl)
        return token

    async def current(self) -> str | None:
        """The bot token of the workspace in hand, if it has one."""
        team_id = current_team.get()
        return None if team_id is None else await self.token(team_id)

    def forget(self, team_id: str) -> None:
        self._kept.pop(team_id, None)


def _carries_token(*parts: dict[str, Any] | None) -> bool:
    return any(part is not None and "token" in part for part in parts)


class TeamWebClient(AsyncWebClient):
    """An AsyncWebClient that signs each call with the bot token of the workspace in hand
    (`current_team`), unless the call brings its own token or client credentials."""

    def __init__(self, tokens: TeamTokens, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.tokens = tokens

    async def api_call(
        self,
        api_method: str,
        *,
        http_verb: str = "POST",
        files: dict[str, Any] | None = None,
        data: Any = None,
        params: dict[str, Any] | None = None,
        json: dict[str, Any] | None = None,
        headers: dict[str, Any] | None = None,
        auth: dict[str, Any] | None = None,
    ) -> AsyncSlackResponse:
        team_id = current_team.get()
        own = (
            self.token is not None
            or auth is not None
            or _carries_token(params, json, data if isinstance(data, dict) else None)
            or "Authorization" in (headers or {})
        )
        if not own:
            token = None if team_id is None else await self.tokens.token(team_id)
            if token is None:
                raise self._not_installed(api_method, http_verb, team_id)
            headers = {**(headers or {}), "Authorization": f"Bearer {token}"}
        try:
            return await super().api_call(
                api_method,
                http_verb=http_verb,
                files=files,
                data=data,
                params=params,
                json=json,
                headers=headers,
                auth=auth,
            )
        except SlackApiError as exc:
            if not own and team_id is not None and exc.response.get("error") in _TOKEN_GONE:
                self.tokens.forget(team_id)
            raise

    def _not_installed(self, api_method: str, http_verb: str, team_id: str | None) -> SlackApiError:
        if team_id is None:
            log.error("%s not sent: no workspace is known for this call", api_method)
        else:
            log.warning(
                "%s not sent: Reelbot has no installation in workspace %s (uninstalled?)",
                api_method,
                team_id,
            )
        response = AsyncSlackResponse(
            client=self,
            http_verb=http_verb,
            api_url=f"{self.base_url}{api_method}",
            req_args={},
            data={"ok": False, "error": NOT_INSTALLED},
            headers={},
            status_code=200,
        )
        return SlackApiError(f"Reelbot is not installed in workspace {team_id}", response)  # type: ignore[no-untyped-call]


async def bind_team(context: AsyncBoltContext, next: Callable[[], Awaitable[None]]) -> None:
    """Bolt middleware: a Slack request's calls are made for the workspace it came from.

    Not reset afterwards: Bolt's `next()` only marks the chain as continued, and the listener
    runs (or is started as a task, which copies the context) after this returns. Each request
    runs in a task of its own (aiohttp's handler, Socket Mode's listener task), and each sets
    its own workspace here before any listener code."""
    current_team.set(context.team_id)
    await next()
