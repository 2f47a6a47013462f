"""/reel, Reelbot's hub: `jobs`, `status ID`, `cancel ID`, `providers`, `spend` (this
month's spend on paid providers), `settings` (admins), `preset` (the channel preset editor,
for admins), `keys` (admins: the workspace's own provider keys) and `help` (also for anything
else)."""

from __future__ import annotations

import logging
import re
import time
from datetime import UTC, datetime
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.admins import SLACK_BUSY
from bot.blocks import dollars
from bot.budget import NO_TEAM
from bot.home_view import settings_message, workspace_settings
from bot.jobs import Job
from bot.kinds import KINDS
from bot.listeners.common import STORE_DOWN_SAID, outcome_text, team_of
from bot.listeners.preset_editor import NOT_ADMIN, open_editor
from bot.listeners.provider_keys import open_keys
from bot.mrkdwn import escape
from bot.service import Outcome, Reelbot
from bot.store import STORE_DOWN
from bot.store.spend import SpendReport, month_of

log = logging.getLogger(__name__)
COMMAND = "/reel"


async def help_text(reelbot: Reelbot, team_id: str | None) -> str:
    kinds = [KINDS[k] for k in KINDS if await reelbot.offers(k, team_id)]
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
        f"• `{COMMAND} keys`: this workspace's own provider keys (workspace admins only)",
        f"• `{COMMAND} help`: this list",
    ]
    return "\n".join(lines)


_ID = re.compile(r"[0-9a-f]{4,32}")
# A person's jobs read to find theirs in one workspace (the store keeps 50 a person).
OWN_READ = 50
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


def in_workspace(job: Job, team_id: str | None) -> bool:
    """Whether a person's job belongs where they ask from. On Enterprise Grid a person has the
    same user id in every workspace of the org; a job recorded without a workspace (before
    they were recorded) shows everywhere, as does every job where the workspace is unknown."""
    return team_id is None or job.team_id is None or job.team_id == team_id


async def own_jobs(reelbot: Reelbot, user_id: str, team_id: str | None, count: int) -> list[Job]:
    """The person's most recent jobs in this workspace, newest first."""
    found = await reelbot.store.recent_for_user(user_id, OWN_READ)
    return [job for job in found if in_workspace(job, team_id)][:count]


async def jobs_text(reelbot: Reelbot, user_id: str, team_id: str | None) -> str:
    found = await own_jobs(reelbot, user_id, team_id, 10)
    if not found:
        return "You have no jobs yet. Try `/clip`, `/avatar` or `/describe`."
    now = time.time()
    return "*Your recent jobs*\n" + "\n".join(_line(reelbot, job, now) for job in found)


async def _own_job(reelbot: Reelbot, user_id: str, team_id: str | None, word: str) -> Job | str:
    """The person's job in this workspace an id (or its first characters) names, or why there
    is none."""
    wanted = word.strip().lower().strip("`")
    if not _ID.fullmatch(wanted):
        return f"Give the job's id, e.g. `{COMMAND} status a1b2c3d4` (see `{COMMAND} jobs`)."
    found = await own_jobs(reelbot, user_id, team_id, OWN_READ)
    matches = [j for j in found if j.id.startswith(wanted)]
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


async def providers_text(reelbot: Reelbot, team_id: str | None) -> str:
    lines = ["*Providers this workspace can use*"]
    for kind, words in KINDS.items():
        for provider in (await reelbot.offers(kind, team_id)).values():
            limits = [f"{w.limit} per {_PER.get(w.seconds, f'{w.seconds} s')}"
                      for w in provider.rate_windows]  # fmt: skip
            if provider.in_flight_limit is not None:
                limits.append(f"{provider.in_flight_limit} at a time")
            shown = f" ({', '.join(limits)})" if limits else ""
            lines.append(f"• {provider.label}: `{words.command}` makes {words.noun}{shown}")
    missing = [(label, var) for k in KINDS for label, var in await reelbot.unconfigured(k, team_id)]
    if len(lines) == 1:
        lines.append("None yet.")
    if missing:
        named = ", ".join(f"{label} (`{var}`)" for label, var in missing)
        lines.append(f"Not set up here: {named}.")
    return "\n".join(lines)


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
        try:
            await _answer(reelbot, ack, body, client, respond)
        except STORE_DOWN as exc:
            log.warning("/reel: the store did not answer (%s)", type(exc).__name__)
            if ack.response is None:
                await ack(text=STORE_DOWN_SAID, response_type="ephemeral")
            else:
                await respond(text=STORE_DOWN_SAID, response_type="ephemeral")


async def _answer(
    reelbot: Reelbot,
    ack: AsyncAck,
    body: dict[str, Any],
    client: AsyncWebClient,
    respond: AsyncRespond,
) -> None:
    words = str(body.get("text") or "").split()
    sub = words[0].lower() if words else "help"
    user_id, team = str(body.get("user_id") or ""), team_of(body)
    # Store reads answer in the ack; what asks Slack (users.info) acks first and answers
    # with respond(): a rate-limited users.info waits out its Retry-After, past Slack's 3 s.
    if sub == "jobs":
        await ack(text=await jobs_text(reelbot, user_id, team), response_type="ephemeral")
    elif sub in ("status", "cancel"):
        answer = await _status_or_cancel(reelbot, user_id, team, sub, words[1:])
        await ack(text=answer, response_type="ephemeral")
    elif sub == "providers":
        await ack(text=await providers_text(reelbot, team), response_type="ephemeral")
    elif sub == "preset":
        await ack()
        refusal = await _preset(reelbot, client, body, user_id)
        if refusal:
            await respond(text=refusal, response_type="ephemeral")
    elif sub == "keys":
        await ack()
        said = await open_keys(client, reelbot, body, user_id)
        if said is not None:
            await respond(text=said, response_type="ephemeral")
    elif sub == "settings":
        await ack()
        await _settings(reelbot, client, respond, user_id, team)
    elif sub == "spend":
        await ack()
        report = await reelbot.store.spend_report(team or NO_TEAM, month_of(time.time()))
        admin = await reelbot.admins.is_admin(client, team, user_id)
        await respond(text=spend_text(reelbot, report, user_id, admin), response_type="ephemeral")
    else:
        await ack(text=await help_text(reelbot, team), response_type="ephemeral")


async def _status_or_cancel(
    reelbot: Reelbot, user_id: str, team: str | None, sub: str, rest: list[str]
) -> str:
    job = await _own_job(reelbot, user_id, team, rest[0] if rest else "")
    if isinstance(job, str):
        return job
    if sub == "status":
        return status_text(reelbot, job)
    outcome, latest = await reelbot.cancel(job.id, user_id)
    if outcome is Outcome.DONE:
        return f"Cancelled `{job.id[:8]}`; Reelbot stopped tracking it."
    return outcome_text(outcome, latest, "cancel")


async def _preset(
    reelbot: Reelbot, client: AsyncWebClient, body: dict[str, Any], user_id: str
) -> str | None:
    """Opens the channel preset editor for an admin (quickly: its trigger_id lasts 3 s);
    otherwise the sentence to say."""
    team = team_of(body)
    admin = await reelbot.admins.quick(client, team, user_id)
    if admin is None:
        return SLACK_BUSY
    if not admin:
        return NOT_ADMIN
    return await open_editor(
        client, reelbot, trigger_id=str(body.get("trigger_id") or ""), team=team or NO_TEAM,
        channel_id=str(body.get("channel_id") or ""),
    )  # fmt: skip


MEMBERS_SETTINGS = (
    "Only workspace admins can see Reelbot's settings. Ask one of them, or see `/reel help` "
    "for what you can do."
)


async def _settings(
    reelbot: Reelbot,
    client: AsyncWebClient,
    respond: AsyncRespond,
    user_id: str,
    team_id: str | None,
) -> None:
    if not await reelbot.admins.is_admin(client, team_id, user_id):
        await respond(text=MEMBERS_SETTINGS, response_type="ephemeral")
        return
    text, blocks = settings_message(await workspace_settings(reelbot, team_id))
    await respond(text=text, blocks=blocks, response_type="ephemeral")
