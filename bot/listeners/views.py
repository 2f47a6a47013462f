"""The clip modal's submission: field errors back into the modal, or a job."""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot import ids
from bot.listeners.common import NOT_CONFIGURED, STORE_DOWN, clip_provider
from bot.parse import ModalErrors, parse_clip_modal
from bot.service import Origin, Reelbot

log = logging.getLogger(__name__)
_CHANNEL_ID = re.compile(r"^[CDG][A-Z0-9]{2,}$")


def register(app: AsyncApp, reelbot: Reelbot) -> None:
    @app.view(ids.CLIP_MODAL)
    async def clip_submitted(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        provider = clip_provider(reelbot)
        if provider is None:
            await ack(response_action="errors", errors={ids.URL_BLOCK: NOT_CONFIGURED})
            return
        result = parse_clip_modal(view.get("state", {}).get("values", {}))
        if isinstance(result, ModalErrors):
            await ack(response_action="errors", errors=result.errors)
            return
        user_id = str(body["user"]["id"])
        meta = json.loads(view.get("private_metadata") or "{}")
        channel_id = str(meta.get("channel_id", ""))
        if not _CHANNEL_ID.match(channel_id):
            channel_id = await reelbot.notifier.direct_message(
                user_id, "I'll post your clips here in our DM."
            )
        origin = Origin(
            user_id=user_id,
            channel_id=channel_id,
            team_id=(body.get("team") or {}).get("id"),
            thread_ts=meta.get("thread_ts"),
        )
        try:
            job = await reelbot.create_job(provider, result.request, result.source, origin)
        except Exception:
            log.exception("could not store a clip modal request")
            await ack(response_action="errors", errors={ids.URL_BLOCK: STORE_DOWN})
            return
        await ack()
        await reelbot.start(job)
