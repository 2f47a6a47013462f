"""Uninstalls: `app_uninstalled` removes the workspace's installation (bot and installers)
and its own stored settings (channel presets, provider keys); `tokens_revoked` removes the
revoked bot token or users' installations. The workspace's jobs then find no token: their
Slack calls are refused with a log line (bot/oauth/teams.py) and retried with backoff."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore

from bot.oauth.teams import TeamTokens
from bot.store.base import JobStore

log = logging.getLogger(__name__)


def register(
    app: AsyncApp,
    installations: AsyncInstallationStore,
    tokens: TeamTokens,
    store: JobStore,
) -> None:
    @app.event("app_uninstalled")
    async def app_uninstalled(context: AsyncBoltContext) -> None:
        team_id = context.team_id
        await installations.async_delete_all(enterprise_id=context.enterprise_id, team_id=team_id)
        dropped = 0
        if team_id:
            tokens.forget(team_id)
            dropped = await store.config_drop(team_id)
        log.info(
            "workspace %s uninstalled Reelbot: its installation and %d stored settings removed",
            team_id,
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
