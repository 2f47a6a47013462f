"""Modal submissions: field errors, or a job."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot import ids
from bot.kinds import KINDS
from bot.listeners.common import STORE_UNSURE, not_configured, team_of
from bot.listeners.forms import chosen_provider, kind_of
from bot.modals import ModalContext
from bot.parse import ModalErrors, parse_modal
from bot.service import Origin, Reelbot, StoreUnsure
from providers.base import Provider
from providers.forms import FILE_VALUE

log = logging.getLogger(__name__)
_CHANNEL_ID = re.compile(r"^[CDG][A-Z0-9]{2,}$")


def _block_ids(view: Mapping[str, Any]) -> dict[str, str]:
    """Field name -> the block id it has in this view (a re-rendered field's differs)."""
    found: dict[str, str] = {}
    for block in view.get("blocks") or []:
        element = block.get("element") or {}
        if block.get("type") == "input" and element.get("action_id"):
            found[str(element["action_id"])] = str(block.get("block_id"))
    return found


def stand_in(reelbot: Reelbot, offer: Provider, context: ModalContext) -> dict[str, Any]:
    """The uploaded video the modal shows in place of its link field: the file itself, for a
    provider that takes files; a signed link to it, for one that takes links."""
    file, form = context.file, offer.form
    if file is None:
        return {}
    if form.takes_files:
        return {form.subject: None, FILE_VALUE: file.model_dump()}
    if reelbot.media_links is not None:
        return {form.subject: reelbot.media_links.link(file)}
    return {}


def register(app: AsyncApp, reelbot: Reelbot) -> None:
    @app.view(ids.REQUEST_MODAL)
    async def submitted(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        context = ModalContext.load(view.get("private_metadata"))
        kind = kind_of(context)
        if context is None or kind is None:
            await ack(response_action="clear")
            return
        words = KINDS[kind]
        # The form on screen is the context's provider's; a switch still on its way is not.
        offer = (await reelbot.offers(kind, team_of(body))).get(context.provider)
        blocks = _block_ids(view)
        if offer is not None and chosen_provider(view, context) != context.provider:
            await ack(
                response_action="errors",
                errors={ids.PROVIDER_BLOCK: "These fields are for another provider than the "
                        "one chosen here: wait a moment for them to change, or choose the "
                        "provider again."},
            )  # fmt: skip
            return
        if offer is None:
            first = next(iter(blocks.values()), ids.PROVIDER_BLOCK)
            missing = await reelbot.unconfigured(kind, team_of(body))
            await ack(response_action="errors", errors={first: not_configured(words, missing)})
            return
        result = parse_modal(
            view.get("state", {}).get("values", {}), offer, stand_in(reelbot, offer, context)
        )
        if not isinstance(result, ModalErrors):
            stale = await reelbot.catalogs.stale_picks(offer, result.values)
            if stale:
                result = ModalErrors(stale)
        given = stand_in(reelbot, offer, context)
        if not isinstance(result, ModalErrors) and given and context.file is not None:
            # Said as the file it is, never as the signed link a provider got.
            source = f"the file {context.file.name}"
            result = replace(result, description=replace(result.description, source=source))
        if isinstance(result, ModalErrors):
            # An error about a field not shown (the link, when a file stands in) goes on the
            # first one that is.
            first = next(iter(blocks.values()), ids.PROVIDER_BLOCK)
            errors = {blocks.get(name, first): text for name, text in result.errors.items()}
            await ack(response_action="errors", errors=errors)
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
        link = given.get(offer.form.subject) if FILE_VALUE not in given else None
        if link and context.file is not None:
            origin = replace(origin, media=context.file, media_link=str(link))
        try:
            job = await reelbot.create_job(result, origin)
        except StoreUnsure:
            subject = blocks.get(offer.form.subject, next(iter(blocks.values()), ""))
            await ack(response_action="errors", errors={subject: STORE_UNSURE})
            return
        await ack()
        reelbot.start(job)
