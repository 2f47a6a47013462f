"""Uninstalls: `app_uninstalled` removes the workspace's installation (bot and installers)
and its own stored settings (channel presets, provider keys); `tokens_revoked` removes the
revoked bot token or users' installations. `app_uninstalled` also cancels the workspace's
unfinished jobs, so nothing more is created or spent for it; what is left of their Slack
updates finds no token and is refused with a log line (bot/oauth/teams.py)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore

from bot.oauth.teams import TeamTokens
from bot.service import Reelbot
from bot.store import STORE_DOWN

log = logging.getLogger(__name__)
UNINSTALLED = "Reelbot was uninstalled from this workspace."
_T = TypeVar("_T")


async def _persist(step: Callable[[], Awaitable[_T]], tries: int = 5) -> _T:
    """A store step retried with a short backoff while the store does not answer."""
    for attempt in range(1, tries + 1):
        try:
            return await step()
        except STORE_DOWN as exc:
            if attempt == tries:
                raise
            log.warning("uninstall: the store did not answer (%s); trying again", exc)
            await asyncio.sleep(0.5 * attempt)
    raise AssertionError("unreachable")


def register(
    app: AsyncApp,
    installations: AsyncInstallationStore,
    tokens: TeamTokens,
    reelbot: Reelbot,
) -> None:
    @app.event("app_uninstalled")
    async def app_uninstalled(context: AsyncBoltContext) -> None:
        team_id = context.team_id
        if team_id:
            tokens.forget(team_id)
            # Spending stops first, the installation goes last: Slack sends this event once,
            # so a step the store refused is tried again rather than left for later.
            stopped = await _persist(lambda: reelbot.cancel_workspace(team_id, UNINSTALLED))
            dropped = await _persist(lambda: reelbot.store.config_drop(team_id))
        else:
            stopped = dropped = 0
        await _persist(
            lambda: installations.async_delete_all(
                enterprise_id=context.enterprise_id, team_id=team_id
            )
        )
        if team_id:
            # Again: a turn may have looked the token up while the jobs were being cancelled.
            tokens.forget(team_id)
        log.info(
            "workspace %s uninstalled Reelbot: %d unfinished jobs cancelled, %d stored settings "
            "and its installation removed",
            team_id,
            stopped,
            dropped,
        )

    @app.event("tokens_revoked")
    async def tokens_revoked(event: dict[str, Any], context: AsyncBoltContext) -> None:
        revoked = event.get("tokens") or {}
        users = [str(u) for u in revoked.get("oauth") or []]
        for user_id in users:
            await installations.async_delete_installation(
                enterprise_id=context.enterprise_id, team_id=context.team_id, user_id=user_id
            )
        bots = revoked.get("bot") or []
        if bots:
            await installations.async_delete_bot(
                enterprise_id=context.enterprise_id, team_id=context.team_id
            )
        if context.team_id:
            tokens.forget(context.team_id)
        log.info(
            "workspace %s revoked tokens: %d bot, %d user installations removed",
            context.team_id,
            len(bots),
            len(users),
        )
