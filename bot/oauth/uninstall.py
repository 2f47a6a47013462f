"""Uninstalls: `app_uninstalled` removes the workspace's installation (bot and installers)
and its own stored settings (channel presets, provider keys); `tokens_revoked` removes the
revoked bot token or users' installations. `app_uninstalled` also cancels the workspace's
unfinished jobs, so nothing more is created or spent for it; what is left of their Slack
updates finds no token and is refused with a log line (bot/oauth/teams.py)."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore

from bot.oauth.teams import TeamTokens
from bot.service import Reelbot

log = logging.getLogger(__name__)
UNINSTALLED = "Reelbot was uninstalled from this workspace."


def register(
    app: AsyncApp,
    installations: AsyncInstallationStore,
    tokens: TeamTokens,
    reelbot: Reelbot,
) -> None:
    @app.event("app_uninstalled")
    async def app_uninstalled(context: AsyncBoltContext) -> None:
        team_id = context.team_id
        await installations.async_delete_all(enterprise_id=context.enterprise_id, team_id=team_id)
        dropped = stopped = 0
        if team_id:
            tokens.forget(team_id)
            dropped = await reelbot.store.config_drop(team_id)
            stopped = await reelbot.cancel_workspace(team_id, UNINSTALLED)
        log.info(
            "workspace %s uninstalled Reelbot: its installation, %d stored settings and %d "
            "unfinished jobs removed",
            team_id,
            dropped,
            stopped,
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
