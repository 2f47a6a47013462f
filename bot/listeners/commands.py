"""Every kind's slash command: help, the modal, or a job at once."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.kinds import KINDS, KindWords
from bot.listeners.common import MODAL_FAILED, STORE_UNSURE, not_configured
from bot.modals import ModalContext, request_modal
from bot.notify import slack_error
from bot.parse import Invalid, OpenModal, ShowHelp, help_text, parse_command
from bot.service import Origin, Reelbot, StoreUnsure
from providers.base import JobKind

log = logging.getLogger(__name__)

Handler = Callable[[AsyncAck, dict[str, Any], AsyncWebClient, AsyncRespond], Awaitable[None]]


async def _reply(ack: AsyncAck, text: str) -> None:
    """Answer only the person who typed the command."""
    await ack(text=text, response_type="ephemeral")


def register(app: AsyncApp, reelbot: Reelbot) -> None:
    for kind, words in KINDS.items():
        app.command(words.command)(_handler(kind, words, reelbot))


def _handler(kind: JobKind, words: KindWords, reelbot: Reelbot) -> Handler:
    async def command(
        ack: AsyncAck, command: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        offers = reelbot.offers(kind)
        text = str(command.get("text") or "")
        missing = reelbot.unconfigured(kind)
        if not offers:
            if text.strip().lower() in {"help", "-h", "--help", "?"}:
                await _reply(
                    ack, help_text(words.command, words.noun, reelbot.forms(kind), missing)
                )
            else:
                await _reply(ack, not_configured(words, missing))
            return
        outcome = parse_command(text, offers, default=next(iter(offers)))
        if isinstance(outcome, ShowHelp):
            await _reply(ack, help_text(words.command, words.noun, list(offers.values()), missing))
            return
        if isinstance(outcome, Invalid):
            await _reply(ack, outcome.message)
            return
        if isinstance(outcome, OpenModal):
            await ack()
            offer = offers[outcome.provider]
            context = ModalContext(kind.value, offer.name, str(command["channel_id"]))
            choices = [(p.name, p.label) for p in offers.values()]
            view = request_modal(words, offer.form, context, choices)
            try:
                await client.views_open(trigger_id=command["trigger_id"], view=view)
            except SlackApiError as exc:
                log.warning("views.open failed: %s", slack_error(exc))
                failed = MODAL_FAILED.format(command=words.command, example=offer.form.example)
                await respond(text=failed, response_type="ephemeral")
            return
        origin = Origin(
            user_id=str(command["user_id"]),
            channel_id=str(command["channel_id"]),
            request_id=str(command.get("trigger_id") or ""),
            team_id=command.get("team_id"),
        )
        try:
            job = await reelbot.create_job(outcome, origin)
        except StoreUnsure:
            await _reply(ack, STORE_UNSURE)
            return
        await ack()
        reelbot.start(job)

    return command
