"""/reel, Reelbot's hub: `spend` (this month's spend on paid providers) and `help`."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks import dollars
from bot.budget import NO_TEAM
from bot.kinds import KINDS
from bot.notify import slack_error
from bot.service import Reelbot
from bot.store.spend import SpendReport, month_of

log = logging.getLogger(__name__)
COMMAND = "/reel"


def help_text(reelbot: Reelbot) -> str:
    kinds = [KINDS[k] for k in KINDS if reelbot.offers(k)]
    lines = [
        "*Reelbot* makes AI videos from Slack.",
        *(f"• `{w.command}` makes {w.noun} (`{w.command} help` for its options)" for w in kinds),
        f"• `{COMMAND} spend`: this month's spend on paid providers (admins see everyone's)",
        f"• `{COMMAND} help`: this list",
    ]
    return "\n".join(lines)


async def is_admin(client: AsyncWebClient, user_id: str) -> bool:
    """A workspace admin or owner, as Slack says (users.info)."""
    try:
        answer = await client.users_info(user=user_id)
    except SlackApiError as exc:
        log.info("users.info failed (%s); treating %s as a member", slack_error(exc), user_id)
        return False
    user = answer.get("user") or {}
    return bool(user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner"))


def _month_name(month: str) -> str:
    return datetime.strptime(month, "%Y-%m").replace(tzinfo=UTC).strftime("%B %Y")


def _of(limit: int | None) -> str:
    return f" of {dollars(limit)}" if limit is not None else ""


def spend_text(reelbot: Reelbot, report: SpendReport, user_id: str, admin: bool) -> str:
    budget = reelbot.budget
    labels = {p.name: p.label for p in reelbot.providers.values()}
    labels |= {p.name: p.label for p in reelbot.plugins}
    lines = [f"*Spend on paid providers, {_month_name(report.month)}*"]
    lines.append(f"This workspace: *{dollars(report.total)}*{_of(budget.team_cents)}.")
    mine = report.by_user.get(user_id, 0)
    if admin:
        by_provider = ", ".join(
            f"{labels.get(name, name)} {dollars(cents)}"
            for name, cents in sorted(report.by_provider.items())
        )
        lines.append(f"By provider: {by_provider or 'nothing yet'}.")
        people = sorted(report.by_user.items(), key=lambda item: -item[1])
        shown = ", ".join(f"<@{user}> {dollars(cents)}" for user, cents in people)
        lines.append(f"By person: {shown or 'nobody yet'}.")
        if budget.user_cents is not None:
            lines.append(f"Each person may spend {dollars(budget.user_cents)} a month.")
    else:
        lines.append(f"You: *{dollars(mine)}*{_of(budget.user_cents)}.")
    lines.append("Amounts are what the providers charged, or quoted while a job is on its way.")
    return "\n".join(lines)


def register(app: AsyncApp, reelbot: Reelbot) -> None:
    @app.command(COMMAND)
    async def reel(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        words = str(body.get("text") or "").split()
        sub = words[0].lower() if words else "help"
        if sub != "spend":
            await ack(text=help_text(reelbot), response_type="ephemeral")
            return
        user_id = str(body.get("user_id") or "")
        team = str(body.get("team_id") or "") or NO_TEAM
        report = await reelbot.store.spend_report(team, month_of(time.time()))
        admin = await is_admin(client, user_id)
        await ack(text=spend_text(reelbot, report, user_id, admin), response_type="ephemeral")
