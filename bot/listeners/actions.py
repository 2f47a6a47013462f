"""Buttons on a job's root message: Cancel and Confirm, for its requester only."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot import ids
from bot.jobs import Job
from bot.listeners.common import outcome_text
from bot.service import Outcome, Reelbot


def register(app: AsyncApp, reelbot: Reelbot) -> None:
    @app.action(ids.CANCEL_ACTION)
    async def cancel(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        user_id = str(body["user"]["id"])
        outcome, job = await reelbot.cancel(str(action.get("value", "")), user_id)
        await _explain(reelbot, body, user_id, outcome, job, "cancel")

    @app.action(ids.FRESH_LINK_ACTION)
    async def fresh_link(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        user_id = str(body["user"]["id"])
        text = await reelbot.fresh_link(str(action.get("value", "")))
        channel_id = str((body.get("channel") or {}).get("id") or "")
        thread = (body.get("message") or {}).get("thread_ts")
        if channel_id:
            await reelbot.notifier.ephemeral(channel_id, user_id, text, thread_ts=thread)
        else:
            await reelbot.notifier.direct_message(user_id, text)

    @app.action(ids.CONFIRM_ACTION)
    async def confirm(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        user_id = str(body["user"]["id"])
        outcome, job = await reelbot.confirm(str(action.get("value", "")), user_id)
        await _explain(reelbot, body, user_id, outcome, job, "confirm")


async def _explain(
    reelbot: Reelbot,
    body: dict[str, Any],
    user_id: str,
    outcome: Outcome,
    job: Job | None,
    verb: str,
) -> None:
    if outcome is Outcome.DONE:
        return
    text = outcome_text(outcome, job, verb)
    channel_id = str((body.get("channel") or {}).get("id") or "")
    if channel_id:
        await reelbot.notifier.ephemeral(channel_id, user_id, text)
    else:
        await reelbot.notifier.direct_message(user_id, text)
