"""App Home: the Home tab is published for the person who opens it.

A redelivered event (Slack retries events) publishes the same view again: harmless, so no
dedupe. The Cancel buttons on the Home are the status messages' own (bot/listeners/actions.py).
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError

from bot.home_tab import HomeTab
from bot.notify import slack_error

log = logging.getLogger(__name__)


def register(app: AsyncApp, tab: HomeTab) -> None:
    @app.event("app_home_opened")
    async def home_opened(event: dict[str, Any], body: dict[str, Any]) -> None:
        if event.get("tab") != "home":
            return  # the Messages tab: nothing to publish
        user_id = str(event.get("user") or "")
        team_id = str(body.get("team_id") or "") or None
        try:
            await tab.publish(user_id, team_id)
        except SlackApiError as exc:
            log.warning("Home of %s not published (%s)", user_id, slack_error(exc))
