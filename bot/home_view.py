"""The App Home tab and the workspace settings, as Block Kit (slack_sdk's block models).

Pure: typed values in, plain dicts out. Everyone sees their own recent jobs (with Cancel on
the unfinished ones: the status message's own button, so the same handler and the same
requester-only rule apply) and the providers; workspace admins also see everyone's unfinished
jobs, this month's spend and the workspace settings. Long lists end with an "and N more"
line, so a view stays within Slack's 100 blocks and 3,000 characters a section.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    DividerBlock,
    MarkdownTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot import ids
from bot.blocks import dollars, slack_date
from bot.jobs import Job, JobState
from bot.kinds import KINDS, results
from bot.mrkdwn import escape, link
from bot.store.base import ActiveJobs

if TYPE_CHECKING:
    from bot.service import Reelbot

# Jobs listed before "and N more": 1 block per own job, lines in sections for the admin's.
OWN_SHOWN = 15
ACTIVE_SHOWN = 30
VIEW_BLOCKS = 100
_SECTION = 3000
_SOURCE = 80


@dataclass(frozen=True)
class WorkspaceSettings:
    """What the workspace runs with, as an admin reads it (never a secret)."""

    team_budget_cents: int | None = None
    user_budget_cents: int | None = None
    # (command, default provider's label, the other providers' labels) per kind offered.
    defaults: tuple[tuple[str, str, tuple[str, ...]], ...] = ()
    results_as_files: bool = True
    confirm_expiry_minutes: float = 15.0


def workspace_settings(reelbot: Reelbot) -> WorkspaceSettings:
    defaults = []
    for kind, words in KINDS.items():
        labels = [provider.label for provider in reelbot.offers(kind).values()]
        if labels:
            defaults.append((words.command, labels[0], tuple(labels[1:])))
    return WorkspaceSettings(
        team_budget_cents=reelbot.budget.team_cents,
        user_budget_cents=reelbot.budget.user_cents,
        defaults=tuple(defaults),
        results_as_files=reelbot.results_as_files,
        confirm_expiry_minutes=reelbot.confirm_expiry_seconds / 60,
    )


@dataclass(frozen=True)
class AdminPart:
    """What only workspace admins see. `spend` is /reel spend's text, None without paid
    providers."""

    active: ActiveJobs
    settings: WorkspaceSettings
    spend: str | None = None


@dataclass(frozen=True)
class Home:
    user_id: str
    # The person's newest jobs first (more than are shown: the rest are counted).
    jobs: Sequence[Job]
    # /reel providers' text: the providers configured here, with their limits.
    providers: str
    labels: Mapping[str, str] = field(default_factory=dict)
    admin: AdminPart | None = None


# --- pieces ----------------------------------------------------------------------------------
def _cut(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _section(text: str, accessory: ButtonElement | None = None) -> SectionBlock:
    shown = MarkdownTextObject(text=_limit(text, _SECTION))
    return SectionBlock(text=shown, accessory=accessory)


def _limit(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _context(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=_limit(text, _SECTION))])


def _label(home_labels: Mapping[str, str], job: Job) -> str:
    return home_labels.get(job.provider, job.provider.title())


def source_text(job: Job) -> str:
    """The job's title or source, as a link when the source is one."""
    shown = _cut(job.title or job.source, _SOURCE)
    if job.source.startswith(("https://", "http://")) and len(job.source) <= 1000:
        return link(job.source, shown)
    return escape(shown)


def state_text(job: Job, label: str, *, own: bool = True) -> str:
    """A job's state in a few words, with the emoji its status message shows."""
    words = KINDS[job.kind]
    match job.state:
        case JobState.AWAITING_CONFIRMATION:
            who = "your" if own else "a"
            return f":moneybag: waiting for {who} Confirm"
        case JobState.QUEUED:
            return ":hourglass_flowing_sand: queued"
        case JobState.SUBMITTING | JobState.SUBMITTED:
            return f":outbox_tray: sent to {label}"
        case JobState.RENDERING:
            percent = f" ({job.percent:.0f}%)" if job.percent is not None else ""
            return f":film_frames: {label} {words.working}{percent}"
        case JobState.DONE:
            return ":white_check_mark: done"
        case JobState.FAILED:
            return ":x: failed"
        case JobState.CANCELLED:
            return ":no_entry_sign: cancelled"


def where_text(job: Job) -> str:
    """Where the job's status message and results are."""
    channel = job.root_channel
    if channel is None:
        return "Its status message is on its way."
    place = "our direct messages" if channel.startswith("D") else f"<#{channel}>"
    if job.state is JobState.DONE:
        if job.outputs:
            return f"{results(job.kind, len(job.outputs))} in the thread of its message in {place}"
        return f"No results; its message is in {place}"
    return f"Its status message is in {place}"


def _cancel_button(job: Job) -> ButtonElement:
    return ButtonElement(
        text="Cancel",
        action_id=ids.CANCEL_ACTION,
        value=job.id,
        style="danger",
        confirm=ConfirmObject(
            title="Cancel this job?",
            text="Reelbot will stop tracking it.",
            confirm="Cancel job",
            deny="Keep it",
        ),
    )


def own_job_block(job: Job, label: str) -> SectionBlock:
    words = KINDS[job.kind]
    lines = [
        f"*{escape(label)} {words.noun}* · {state_text(job, label)} · `{job.id[:8]}`",
        f"{source_text(job)} · {slack_date(job.created_at)}",
        where_text(job),
    ]
    if job.error and job.state is JobState.FAILED:
        lines.append(f"Why: {escape(_cut(job.error, 300))}")
    return _section("\n".join(lines), None if job.terminal else _cancel_button(job))


def _more(count: int, noun: str, hint: str) -> ContextBlock:
    return _context(f"…and {count} more {noun}. {hint}")


def _chunks(lines: Sequence[str], limit: int = _SECTION) -> list[str]:
    """Lines joined into texts of at most `limit` characters each."""
    chunks: list[str] = []
    current = ""
    for line in lines:
        line = _limit(line, limit)
        if current and len(current) + 1 + len(line) > limit:
            chunks.append(current)
            current = line
        else:
            current = f"{current}\n{line}" if current else line
    if current:
        chunks.append(current)
    return chunks


# --- sections --------------------------------------------------------------------------------
def own_jobs_blocks(home: Home) -> list[Block]:
    blocks: list[Block] = [_section("*Your recent jobs*")]
    if not home.jobs:
        blocks.append(_context("No jobs yet. Try `/clip`, `/avatar` or `/describe`."))
        return blocks
    for job in home.jobs[:OWN_SHOWN]:
        blocks.append(own_job_block(job, _label(home.labels, job)))
    if len(home.jobs) > OWN_SHOWN:
        blocks.append(_more(len(home.jobs) - OWN_SHOWN, "older jobs", "`/reel jobs` lists them."))
    return blocks


def active_jobs_blocks(active: ActiveJobs, labels: Mapping[str, str]) -> list[Block]:
    title = f"*Everyone's unfinished jobs in this workspace* ({active.total})"
    if not active.jobs:
        return [_section(f"{title}\nNone right now.")]
    lines = [title]
    for job in active.jobs[:ACTIVE_SHOWN]:
        label = _label(labels, job)
        lines.append(
            f"• <@{job.user_id}> · {escape(label)} {KINDS[job.kind].noun} · "
            f"{state_text(job, label, own=False)} · {source_text(job)} · "
            f"{slack_date(job.created_at)}"
        )
    blocks: list[Block] = [_section(chunk) for chunk in _chunks(lines)]
    hidden = active.total - min(len(active.jobs), ACTIVE_SHOWN)
    if hidden > 0:
        blocks.append(_more(hidden, "unfinished jobs", "The newest are shown."))
    return blocks


def settings_text(settings: WorkspaceSettings) -> str:
    budgets = [
        f"{dollars(cents)} for {who}"
        for cents, who in (
            (settings.team_budget_cents, "the workspace"),
            (settings.user_budget_cents, "each person"),
        )
        if cents is not None
    ]
    budget = ", ".join(budgets) + " a month" if budgets else "none (no monthly limit)"
    defaults = (
        "; ".join(
            f"`{command}` {escape(default)}"
            + (f" (also {', '.join(escape(o) for o in others)})" if others else "")
            for command, default, others in settings.defaults
        )
        or "none (no provider is set up yet)"
    )
    files = (
        "on (clips and videos are uploaded into the thread when they fit)"
        if settings.results_as_files
        else "off (clips and videos arrive as links)"
    )
    minutes = f"{settings.confirm_expiry_minutes:g} minute" + (
        "" if settings.confirm_expiry_minutes == 1 else "s"
    )
    return "\n".join(
        [
            "*Workspace settings*",
            f"• Budget for paid providers: {budget}",
            f"• Default providers: {defaults}",
            f"• Results as files: {files}",
            f"• A priced request waits {minutes} for its requester's Confirm",
        ]
    )


def settings_actions(origin: str) -> ActionsBlock:
    """The settings' two buttons; `origin` ("home" or "reel") is their value."""
    return ActionsBlock(
        block_id="workspace_settings",
        elements=[
            ButtonElement(
                text="Channel presets", action_id=ids.CHANNEL_PRESETS_ACTION, value=origin
            ),
            ButtonElement(text="Provider keys", action_id=ids.PROVIDER_KEYS_ACTION, value=origin),
        ],
    )


def settings_message(settings: WorkspaceSettings) -> tuple[str, list[dict[str, Any]]]:
    """`/reel settings` for an admin: the text fallback and the blocks."""
    text = settings_text(settings)
    return text, [_section(text).to_dict(), settings_actions("reel").to_dict()]


def providers_blocks(providers: str) -> list[Block]:
    return [_section(providers)]


def home_blocks(home: Home) -> list[Block]:
    blocks = own_jobs_blocks(home)
    blocks += [DividerBlock(), *providers_blocks(home.providers)]
    admin = home.admin
    if admin is not None:
        blocks += [DividerBlock(), *active_jobs_blocks(admin.active, home.labels)]
        if admin.spend is not None:
            blocks += [DividerBlock(), _section(admin.spend)]
        blocks += [
            DividerBlock(),
            _section(settings_text(admin.settings)),
            settings_actions("home"),
        ]
    return blocks


def home_view(home: Home) -> dict[str, Any]:
    """The Home tab for `views.publish`."""
    blocks = home_blocks(home)
    if len(blocks) > VIEW_BLOCKS:  # never by construction; Slack would refuse the view
        blocks = blocks[:VIEW_BLOCKS]
    return View(type="home", blocks=blocks).to_dict()
