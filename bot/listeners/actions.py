"""Buttons on a job's root message."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot import ids
from bot.service import CancelOutcome, Reelbot


def register(app: AsyncApp, reelbot: Reelbot) -> None:
    @app.action(ids.CANCEL_ACTION)
    async def cancel(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        user_id = str(body["user"]["id"])
        channel_id = str((body.get("channel") or {}).get("id") or "")
        outcome, job = await reelbot.cancel(str(action.get("value", "")), user_id)
        if outcome is CancelOutcome.CANCELLED:
            return
        if outcome is CancelOutcome.NOT_YOURS and job is not None:
            text = (
                f"Only <@{job.user_id}>, who asked for these clips, can cancel them. "
                "Ask them if the job should stop."
            )
        elif outcome is CancelOutcome.ALREADY_FINISHED and job is not None:
            text = f"This job has already {job.state.value}; there is nothing left to cancel."
        elif outcome is CancelOutcome.BUSY:
            text = "That job is changing right now; please press Cancel again in a moment."
        else:
            text = "I can't find that job any more; it may have expired."
        if channel_id:
            await reelbot.notifier.ephemeral(channel_id, user_id, text)
        else:
            await reelbot.notifier.direct_message(user_id, text)
