"""Message shortcuts ("Make an avatar video"): the kind's modal, prefilled from the message,
with the results going into that message's thread."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.kinds import KINDS, KindWords
from bot.listeners.common import MODAL_FAILED, not_configured
from bot.listeners.forms import open_request_modal
from bot.parse import plain_text
from bot.service import Reelbot
from providers.base import JobKind
from providers.forms import FieldType

# Slack's longest plain-text input.
_INPUT_MAX = 3000


def register(app: AsyncApp, reelbot: Reelbot) -> None:
    for kind, words in KINDS.items():
        if words.shortcut is not None:
            app.shortcut(words.shortcut)(_handler(kind, words, reelbot))


def _handler(kind: JobKind, words: KindWords, reelbot: Reelbot) -> Any:
    async def shortcut(ack: AsyncAck, body: dict[str, Any], client: Any) -> None:
        await ack()
        user_id = str((body.get("user") or {}).get("id") or "")
        channel_id = str((body.get("channel") or {}).get("id") or "")
        message = body.get("message") or {}
        offers = reelbot.offers(kind)
        if not offers:
            await reelbot.notifier.ephemeral(
                channel_id, user_id, not_configured(words, reelbot.unconfigured(kind))
            )
            return
        provider = next(iter(offers.values()))
        subject = provider.form.subject_field
        values: dict[str, Any] = {}
        if subject.type is FieldType.TEXT:
            limit = min(subject.max_length or _INPUT_MAX, _INPUT_MAX)
            values[subject.name] = plain_text(str(message.get("text") or "")).strip()[:limit]
        opened = await open_request_modal(
            client,
            reelbot,
            kind,
            provider,
            trigger_id=str(body.get("trigger_id") or ""),
            channel_id=channel_id,
            thread_ts=str(message.get("thread_ts") or message.get("ts") or "") or None,
            values=values,
        )
        if not opened:
            failed = MODAL_FAILED.format(command=words.command, example=provider.form.example)
            await reelbot.notifier.ephemeral(channel_id, user_id, failed)

    return shortcut
