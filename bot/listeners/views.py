"""Modals: a submission becomes field errors or a job; a provider switch re-renders the form."""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot import ids
from bot.kinds import KINDS
from bot.listeners.common import STORE_UNSURE, not_configured
from bot.modals import ModalContext, request_modal
from bot.notify import slack_error
from bot.parse import ModalErrors, parse_modal
from bot.service import Origin, Reelbot, StoreUnsure
from providers.base import JobKind

log = logging.getLogger(__name__)
_CHANNEL_ID = re.compile(r"^[CDG][A-Z0-9]{2,}$")


def _kind(context: ModalContext | None) -> JobKind | None:
    try:
        return JobKind(context.kind) if context is not None else None
    except ValueError:
        return None


def _chosen(view: dict[str, Any], context: ModalContext) -> str:
    values = view.get("state", {}).get("values", {})
    element = values.get(ids.PROVIDER_BLOCK, {}).get(ids.PROVIDER_ACTION, {})
    selected = (element or {}).get("selected_option") or {}
    return str(selected.get("value") or context.provider)


def register(app: AsyncApp, reelbot: Reelbot) -> None:
    @app.view(ids.REQUEST_MODAL)
    async def submitted(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        context = ModalContext.load(view.get("private_metadata"))
        kind = _kind(context)
        if context is None or kind is None:
            await ack(response_action="clear")
            return
        words = KINDS[kind]
        offer = reelbot.offers(kind).get(_chosen(view, context))
        if offer is None:
            first = next((f.name for f in reelbot.forms(kind)[0].form.fields), ids.PROVIDER_BLOCK)
            missing = reelbot.unconfigured(kind)
            await ack(response_action="errors", errors={first: not_configured(words, missing)})
            return
        result = parse_modal(view.get("state", {}).get("values", {}), offer)
        if isinstance(result, ModalErrors):
            await ack(response_action="errors", errors=result.errors)
            return
        user_id = str(body["user"]["id"])
        channel_id = context.channel_id
        if not _CHANNEL_ID.match(channel_id):
            channel_id = await reelbot.notifier.direct_message(
                user_id, f"I'll post your {words.noun} here in our DM."
            )
        origin = Origin(
            user_id=user_id,
            channel_id=channel_id,
            request_id=str(view.get("id") or body.get("trigger_id") or ""),
            team_id=(body.get("team") or {}).get("id"),
            thread_ts=context.thread_ts,
        )
        try:
            job = await reelbot.create_job(result, origin)
        except StoreUnsure:
            await ack(response_action="errors", errors={offer.form.subject: STORE_UNSURE})
            return
        await ack()
        reelbot.start(job)

    @app.action(ids.PROVIDER_ACTION)
    async def provider_switched(
        ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        view = body.get("view") or {}
        context = ModalContext.load(view.get("private_metadata"))
        kind = _kind(context)
        if context is None or kind is None:
            return
        offers = reelbot.offers(kind)
        chosen = offers.get(_chosen(view, context))
        if chosen is None:
            return
        fresh = ModalContext(kind.value, chosen.name, context.channel_id, context.thread_ts)
        choices = [(p.name, p.label) for p in offers.values()]
        try:
            await client.views_update(
                view_id=view.get("id"),
                hash=view.get("hash"),
                view=request_modal(KINDS[kind], chosen.form, fresh, choices),
            )
        except SlackApiError as exc:
            # hash_conflict: the person changed the modal again meanwhile; that update wins.
            log.info("views.update for a provider switch failed: %s", slack_error(exc))
