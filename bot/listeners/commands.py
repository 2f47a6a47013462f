"""/clip: help, the modal, or a job at once."""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot import blocks, ids
from bot.listeners.common import MODAL_FAILED, NOT_CONFIGURED, STORE_DOWN, clip_provider
from bot.notify import slack_error
from bot.parse import Invalid, OpenModal, ShowHelp, help_text, parse_clip_text
from bot.service import Origin, Reelbot

log = logging.getLogger(__name__)


async def _reply(ack: AsyncAck, text: str) -> None:
    """Answer only the person who typed the command."""
    await ack(text=text, response_type="ephemeral")


def register(app: AsyncApp, reelbot: Reelbot) -> None:
    @app.command(ids.CLIP_COMMAND)
    async def clip(
        ack: AsyncAck, command: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        provider = clip_provider(reelbot)
        outcome = parse_clip_text(str(command.get("text") or ""))
        if isinstance(outcome, ShowHelp):
            await _reply(ack, help_text(configured=provider is not None))
            return
        if provider is None:
            await _reply(ack, NOT_CONFIGURED)
            return
        if isinstance(outcome, Invalid):
            await _reply(ack, outcome.message)
            return
        if isinstance(outcome, OpenModal):
            await ack()
            meta = json.dumps({"channel_id": command["channel_id"]})
            try:
                await client.views_open(
                    trigger_id=command["trigger_id"], view=blocks.clip_modal(meta)
                )
            except SlackApiError as exc:
                log.warning("views.open failed: %s", slack_error(exc))
                await respond(text=MODAL_FAILED, response_type="ephemeral")
            return
        origin = Origin(
            user_id=command["user_id"],
            channel_id=command["channel_id"],
            team_id=command.get("team_id"),
        )
        try:
            job = await reelbot.create_job(provider, outcome.request, outcome.source, origin)
        except Exception:
            log.exception("could not store a /clip request")
            await _reply(ack, STORE_DOWN)
            return
        await ack()
        await reelbot.start(job)
