"""/reel, Reelbot's hub: `jobs`, `status ID`, `cancel ID`, `providers`, `spend` (this
month's spend on paid providers), `settings` (admins), `preset` (the channel preset editor,
for admins) and `help` (also for anything else)."""

from __future__ import annotations

import logging
import re
import time
from datetime import UTC, datetime
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks import dollars
from bot.budget import NO_TEAM
from bot.home_view import settings_message, workspace_settings
from bot.jobs import Job
from bot.kinds import KINDS
from bot.listeners.common import outcome_text
from bot.listeners.preset_editor import NOT_ADMIN, open_editor, team_of
from bot.mrkdwn import escape
from bot.notify import slack_error
from bot.service import Outcome, Reelbot
from bot.store.spend import SpendReport, month_of

log = logging.getLogger(__name__)
COMMAND = "/reel"


def help_text(reelbot: Reelbot) -> str:
    kinds = [KINDS[k] for k in KINDS if reelbot.offers(k)]
    lines = [
        "*Reelbot* makes AI videos from Slack.",
        *(f"• `{w.command}` makes {w.noun} (`{w.command} help` for its options)" for w in kinds),
        f"• `{COMMAND} jobs`: your recent jobs and their state",
        f"• `{COMMAND} status ID`: one of your jobs (the id shown on its status message, "
        "e.g. `a1b2c3d4`)",
        f"• `{COMMAND} cancel ID`: stop one of your jobs",
        f"• `{COMMAND} providers`: the providers this workspace can use, with their limits",
        f"• `{COMMAND} spend`: this month's spend on paid providers (admins see everyone's)",
        f"• `{COMMAND} settings`: the workspace settings (workspace admins only)",
        f"• `{COMMAND} preset`: this channel's defaults for each command (admins set them)",
        f"• `{COMMAND} help`: this list",
    ]
    return "\n".join(lines)


_ID = re.compile(r"[0-9a-f]{4,32}")
_PER = {60: "minute", 3600: "hour", 86400: "day"}


def _label(reelbot: Reelbot, job: Job) -> str:
    return reelbot.notifier.label(job)


def _line(reelbot: Reelbot, job: Job, now: float) -> str:
    ago = max(0, int(now - job.created_at))
    when = f"{ago // 60} min ago" if ago < 3600 else f"{ago // 3600} h ago"
    source = escape(job.title or job.source)[:80]
    return (
        f"• `{job.id[:8]}` {_label(reelbot, job)} {KINDS[job.kind].noun} · "
        f"*{job.state.value.replace('_', ' ')}* · {when} · {source}"
    )


async def jobs_text(reelbot: Reelbot, user_id: str) -> str:
    found = await reelbot.store.recent_for_user(user_id, 10)
    if not found:
        return "You have no jobs yet. Try `/clip`, `/avatar` or `/describe`."
    now = time.time()
    return "*Your recent jobs*\n" + "\n".join(_line(reelbot, job, now) for job in found)


async def _own_job(reelbot: Reelbot, user_id: str, word: str) -> Job | str:
    """The person's job an id (or its first characters) names, or why there is none."""
    wanted = word.strip().lower().strip("`")
    if not _ID.fullmatch(wanted):
        return f"Give the job's id, e.g. `{COMMAND} status a1b2c3d4` (see `{COMMAND} jobs`)."
    matches = [
        j for j in await reelbot.store.recent_for_user(user_id, 50) if j.id.startswith(wanted)
    ]
    if not matches:
        return f"None of your recent jobs has the id `{wanted}`; `{COMMAND} jobs` lists them."
    if len(matches) > 1:
        return f"Several of your jobs start with `{wanted}`; give more of the id."
    return matches[0]


def status_text(reelbot: Reelbot, job: Job) -> str:
    lines = [_line(reelbot, job, time.time())]
    if job.outputs:
        lines.append(f"{len(job.outputs)} result(s) in the thread of its status message.")
    if job.error:
        lines.append(f"Why it stopped: {escape(job.error)}")
    elif job.notice:
        lines.append(escape(job.notice))
    if job.charged_cents is not None:
        lines.append(f"Charged {dollars(job.charged_cents)}.")
    elif job.quoted_cents is not None:
        lines.append(f"Quoted {dollars(job.quoted_cents)}.")
    return "\n".join(lines)


def providers_text(reelbot: Reelbot) -> str:
    lines = ["*Providers this workspace can use*"]
    for kind, words in KINDS.items():
        for provider in reelbot.offers(kind).values():
            limits = [f"{w.limit} per {_PER.get(w.seconds, f'{w.seconds} s')}"
                      for w in provider.rate_windows]  # fmt: skip
            if provider.in_flight_limit is not None:
                limits.append(f"{provider.in_flight_limit} at a time")
            shown = f" ({', '.join(limits)})" if limits else ""
            lines.append(f"• {provider.label}: `{words.command}` makes {words.noun}{shown}")
    missing = [(label, var) for k in KINDS for label, var in reelbot.unconfigured(k)]
    if len(lines) == 1:
        lines.append("None yet.")
    if missing:
        named = ", ".join(f"{label} (`{var}`)" for label, var in missing)
        lines.append(f"Not set up here: {named}.")
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
    async def reel(
        ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        words = str(body.get("text") or "").split()
        sub = words[0].lower() if words else "help"
        user_id = str(body.get("user_id") or "")
        if sub == "preset":
            await ack()
            said: str | None = NOT_ADMIN
            if await is_admin(client, user_id):
                said = await open_editor(
                    client, reelbot, trigger_id=str(body.get("trigger_id") or ""),
                    team=team_of(body), channel_id=str(body.get("channel_id") or ""),
                )  # fmt: skip
            if said:
                await respond(text=said, response_type="ephemeral")
            return
        if sub == "jobs":
            await ack(text=await jobs_text(reelbot, user_id), response_type="ephemeral")
            return
        if sub in ("status", "cancel"):
            job = await _own_job(reelbot, user_id, words[1] if len(words) > 1 else "")
            if isinstance(job, str):
                await ack(text=job, response_type="ephemeral")
                return
            if sub == "status":
                await ack(text=status_text(reelbot, job), response_type="ephemeral")
                return
            outcome, latest = await reelbot.cancel(job.id, user_id)
            said = (
                f"Cancelled `{job.id[:8]}`; Reelbot stopped tracking it."
                if outcome is Outcome.DONE
                else outcome_text(outcome, latest, "cancel")
            )
            await ack(text=said, response_type="ephemeral")
            return
        if sub == "providers":
            await ack(text=providers_text(reelbot), response_type="ephemeral")
            return
        if sub == "settings":
            await _settings(reelbot, ack, client, user_id)
            return
        if sub != "spend":
            await ack(text=help_text(reelbot), response_type="ephemeral")
            return
        team = str(body.get("team_id") or "") or NO_TEAM
        report = await reelbot.store.spend_report(team, month_of(time.time()))
        admin = await is_admin(client, user_id)
        await ack(text=spend_text(reelbot, report, user_id, admin), response_type="ephemeral")


MEMBERS_SETTINGS = (
    "Only workspace admins can see Reelbot's settings. Ask one of them, or see `/reel help` "
    "for what you can do."
)


async def _settings(reelbot: Reelbot, ack: AsyncAck, client: AsyncWebClient, user_id: str) -> None:
    if not await is_admin(client, user_id):
        await ack(text=MEMBERS_SETTINGS, response_type="ephemeral")
        return
    text, blocks = settings_message(workspace_settings(reelbot))
    await ack(text=text, blocks=blocks, response_type="ephemeral")
