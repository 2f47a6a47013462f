"""Block Kit for a job's messages: the root status message and one reply per result.

Typed values in, plain dicts out; pure: no I/O. Every piece of text that came from a person or
a provider is escaped, in the blocks and in the fallback `text` alike, so a link typed as
`<!channel>` never notifies anyone.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from typing import Any

from bot import ids
from bot.jobs import Job, JobState
from bot.kinds import KINDS, results
from bot.mrkdwn import escape, link
from bot.previews import description_lines
from providers.base import Clip, ErrorKind, File, Output, Video

Block = dict[str, Any]
EXCERPT = 280
PREVIEW = 1500
_SECTION_MAX = 3000
_LINK_MAX = 2800
_IMAGE_URL_MAX = 3000
_EDITOR = "Edit in the provider's editor"


def _cut(text: str, limit: int) -> str:
    return _limit(" ".join(text.split()), limit)


def plain(text: str, limit: int = 150) -> dict[str, Any]:
    return {"type": "plain_text", "text": _cut(text, limit), "emoji": True}


def _limit(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": _limit(text, _SECTION_MAX)}}


def _context(*parts: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": p} for p in parts[:10]]}


def slack_date(at: float, fallback_format: str = "%Y-%m-%d %H:%M UTC") -> str:
    fallback = time.strftime(fallback_format, time.gmtime(at))
    return f"<!date^{int(at)}^{{date_short_pretty}} at {{time}}|{fallback}>"


def duration(seconds: float | None) -> str:
    if seconds is None or not math.isfinite(seconds) or seconds < 0:
        return "unknown length"
    whole = round(seconds)
    return f"{whole // 60}:{whole % 60:02d}"


def dollars(cents: int) -> str:
    return f"${cents / 100:,.2f}"


def progress_bar(percent: float, width: int = 20) -> str:
    """A text bar for a percentage: `██████░░░░░░░░░░░░░░`."""
    filled = round(max(0.0, min(100.0, percent)) / 100 * width)
    return "\u2588" * filled + "\u2591" * (width - filled)


# --- root status message ---------------------------------------------------------------------
def _state_line(job: Job, label: str) -> str:
    words = KINDS[job.kind]
    match job.state:
        case JobState.AWAITING_CONFIRMATION:
            quote = f" {escape(job.notice)}" if job.notice else ""
            line = f":moneybag: *Waiting for <@{job.user_id}> to confirm.*{quote}"
        case JobState.QUEUED:
            line = ":hourglass_flowing_sand: *Queued*"
        case JobState.SUBMITTING:
            line = f":outbox_tray: *Sending to {label}*"
        case JobState.SUBMITTED:
            line = f":outbox_tray: *Submitted to {label}*"
        case JobState.RENDERING:
            shown = [escape(job.stage)] if job.stage else []
            if job.percent is not None:
                shown.append(f"{job.percent:.0f}%")
            where = f" ({', '.join(shown)})" if shown else ""
            line = f":film_frames: *{label} {words.working}{where}*"
            if job.percent is not None:
                line += f"\n`{progress_bar(job.percent)}` {job.percent:.0f}%"
        case JobState.DONE:
            n = len(job.outputs)
            line = (
                f":white_check_mark: *Done: {results(job.kind, n)} in the thread*"
                if n
                else f":white_check_mark: *Done, but {label} {words.empty}*"
            )
        case JobState.FAILED:
            line = f":x: *Failed:* {escape(job.error or 'the provider gave up.')}"
            line += _charge_note(job, label)
        case JobState.CANCELLED:
            who = f" by <@{job.cancelled_by}>" if job.cancelled_by else ""
            line = f":no_entry_sign: *Cancelled{who}*; Reelbot stopped tracking this job."
            line += _charge_note(job, label)
    if job.notice and not job.terminal and job.state is not JobState.AWAITING_CONFIRMATION:
        line += f"\n{escape(job.notice)}"
    return line


def _charge_note(job: Job, label: str) -> str:
    """For a job that ended without its results: what it was charged, or may have been."""
    if job.charged_cents:
        return (
            f"\n{label} had already charged {dollars(job.charged_cents)} for this request; "
            f"ask {label}'s support about a refund."
        )
    if job.error_kind is ErrorKind.CREATE_LOST and job.quoted_cents:
        return f"\n{label} may have charged up to {dollars(job.quoted_cents)} (the quote)."
    return ""


def _button(action_id: str, text: str, value: str, style: str | None = None) -> Block:
    button: Block = {"type": "button", "action_id": action_id, "text": plain(text), "value": value}
    if style:
        button["style"] = style
    return button


def _actions(job: Job) -> Block | None:
    if job.terminal:
        return None
    cancel = _button(ids.CANCEL_ACTION, "Cancel", job.id, "danger")
    if job.state is JobState.AWAITING_CONFIRMATION:
        confirm = _button(ids.CONFIRM_ACTION, "Confirm", job.id, "primary")
        return {"type": "actions", "block_id": f"job:{job.id}", "elements": [confirm, cancel]}
    cancel["confirm"] = {
        "title": plain("Cancel this job?"),
        "text": {"type": "plain_text", "text": "Reelbot will stop tracking it."},
        "confirm": plain("Cancel job"),
        "deny": plain("Keep it"),
    }
    return {"type": "actions", "block_id": f"job:{job.id}", "elements": [cancel]}


def _costs(job: Job) -> str | None:
    if job.charged_cents is not None:
        charged = f"charged {dollars(job.charged_cents)}"
        if job.quoted_cents is not None and job.quoted_cents != job.charged_cents:
            charged += f" (quoted {dollars(job.quoted_cents)})"
        return charged
    if job.quoted_cents is not None:
        return f"quoted {dollars(job.quoted_cents)}"
    return None


def root_message(job: Job, label: str) -> tuple[str, list[Block]]:
    words = KINDS[job.kind]
    titled = f" *{escape(job.title)}*" if job.title else ""
    source = escape(job.source)
    asked = words.asked.format(what=titled.strip() or "a video", titled=titled, source=source)
    headline = f"<@{job.user_id}> asked {label} for {asked}"
    facts = [label, words.noun, f"job `{job.id[:8]}`", slack_date(job.created_at)]
    costs = _costs(job)
    if costs:
        facts.append(costs)
    body: list[Block] = [
        _section(headline),
        _section(_state_line(job, label)),
        _context(" · ".join(facts)),
    ]
    actions = _actions(job)
    if actions is not None:
        body.append(actions)
    return root_text(job, label), body


def _readable(text: str, limit: int = 300) -> str:
    """Text for a notification or a screen reader: no bold or code marks."""
    return _cut(text.replace("*", "").replace("`", ""), limit)


def root_text(job: Job, label: str) -> str:
    """The root message's fallback `text`: what happened, then for what, in plain words
    ("Done: 3 clips from Vizard for All-hands highlights")."""
    words = KINDS[job.kind]
    subject = escape(_cut(job.title, 150)) if job.title else escape(_cut(job.source, 150))
    what = f"{words.noun} from {label} for {subject}"
    match job.state:
        case JobState.AWAITING_CONFIRMATION:
            line = f"Waiting for confirmation: {what}"
        case JobState.QUEUED:
            line = f"Queued: {what}"
        case JobState.SUBMITTING:
            line = f"Sending to {label}: {words.noun} for {subject}"
        case JobState.SUBMITTED:
            line = f"Submitted to {label}: {words.noun} for {subject}"
        case JobState.RENDERING:
            percent = f" ({job.percent:.0f}%)" if job.percent is not None else ""
            line = f"{label} {words.working}{percent}: {subject}"
        case JobState.DONE:
            n = len(job.outputs)
            line = (
                f"Done: {results(job.kind, n)} from {label} for {subject}"
                if n
                else f"Done, but {label} {words.empty}: {subject}"
            )
        case JobState.FAILED:
            line = f"Failed: {what}"
        case JobState.CANCELLED:
            line = f"Cancelled: {what}"
    detail = job.error if job.state is JobState.FAILED else None
    if job.notice and not job.terminal:
        detail = job.notice
    if detail:
        line += f". {escape(_readable(detail))}"
    return line


def end_reply(job: Job, label: str) -> tuple[str, list[Block]]:
    """The thread reply of a job that ended without results, mentioning the requester."""
    words = KINDS[job.kind]
    if job.state is JobState.DONE:
        said = f"Done, but {label} {words.empty}."
        return f"<@{job.user_id}> {said}", [_section(f"<@{job.user_id}> {said}")]
    reason = escape(job.error or f"{label} gave up.")
    return f"<@{job.user_id}> Failed: {_readable(reason)}", [
        _section(f"<@{job.user_id}> *Failed:* {reason}")
    ]


def render_key(text: str, body: list[Block]) -> str:
    """A digest of a root message, to skip chat.update when nothing changed."""
    return hashlib.sha256(json.dumps([text, body], sort_keys=True).encode()).hexdigest()


def moved_notice(channel_id: str) -> str:
    return (
        f"I can't post in <#{channel_id}>, so I'll keep you posted here. "
        f"To get the results in the channel next time, invite me there with `/invite @Reelbot`."
    )


# --- results ---------------------------------------------------------------------------------
def result_reply(
    index: int,
    total: int,
    output: Output,
    *,
    job_id: str | None = None,
    requester: str | None = None,
) -> tuple[str, list[Block]]:
    """One result as a thread reply; `index` counts from 1. With `job_id`, a link that
    expires gets a Fresh link button (its value names the job and the output). With
    `requester` (the last result), the reply mentions them, so Slack notifies them."""
    refresh = f"{job_id}:{index - 1}" if job_id and output.expires_at is not None else None
    if isinstance(output, Clip):
        text, body = clip_reply(index, total, output, refresh)
    elif isinstance(output, Video):
        text, body = video_reply(index, total, output, refresh)
    else:
        text, body = file_reply(index, total, output, refresh)
    thumbnail = _thumbnail(output, index, total)
    if thumbnail is not None:
        body.append(thumbnail)
    if requester is not None:
        ready = _all_ready(total, output)
        body.append(_context(f"<@{requester}> {ready}"))
        text = f"<@{requester}> {text}" + (f" ({ready.rstrip('.')})" if total > 1 else "")
    return text, body


def _all_ready(total: int, output: Output) -> str:
    one, many = {"clip": ("clip", "clips"), "video": ("video", "videos")}.get(
        output.type, ("file", "files")
    )
    if total == 1:
        return f"your {one} is ready."
    return f"both {many} are ready." if total == 2 else f"all {total} {many} are ready."


def _thumbnail(output: Output, index: int, total: int) -> Block | None:
    """The provider's thumbnail as an image block, when it gave a web address for one."""
    if not isinstance(output, Clip | Video):
        return None
    url = output.thumbnail_url
    if not url or not url.startswith(("https://", "http://")) or len(url) > _IMAGE_URL_MAX:
        return None
    # Plain text: shown as typed, never read as markup.
    title = output.title.strip() or (
        f"your {output.type}" if total == 1 else f"{output.type} {index}"
    )
    return {"type": "image", "image_url": url, "alt_text": _cut(f"Thumbnail of {title}", 2000)}


def clip_reply(
    index: int, total: int, clip: Clip, refresh: str | None = None
) -> tuple[str, list[Block]]:
    title = clip.title.strip() or f"Clip {index}"
    facts = [f"*Length* {duration(clip.duration_s)}"]
    if clip.score is not None:
        facts.append(f"*Viral score* {clip.score:g}/10")
    if clip.topics:
        facts.append("*Topics* " + escape(", ".join(clip.topics[:5])))
    body = [f"*{index}/{total} · {escape(_cut(title, 200))}*", " · ".join(facts)]
    if clip.reason:
        body.append(f"_Why it works:_ {escape(_cut(clip.reason, 500))}")
    if clip.transcript:
        body.append("> " + escape(_cut(clip.transcript, EXCERPT)))
    blocks: list[Block] = [
        _section("\n".join(body)),
        _link_section(clip.url, "clip", clip, refresh),
    ]
    if clip.editor_url and len(link(clip.editor_url, _EDITOR)) <= _SECTION_MAX:
        blocks.append(_context(link(clip.editor_url, _EDITOR)))
    return f"Clip {index} of {total}: {escape(_cut(title, 200))}", blocks


def video_reply(
    index: int, total: int, video: Video, refresh: str | None = None
) -> tuple[str, list[Block]]:
    title = video.title.strip() or ("Your video" if total == 1 else f"Video {index}")
    counter = f"{index}/{total} · " if total > 1 else ""
    length = f"\n*Length* {duration(video.duration_s)}" if video.duration_s is not None else ""
    head = _section(f"*{counter}{escape(_cut(title, 200))}*{length}")
    return f"{escape(_cut(title, 200))} is ready", [
        head,
        _link_section(video.url, "video", video, refresh),
    ]


def file_reply(
    index: int, total: int, file: File, refresh: str | None = None
) -> tuple[str, list[Block]]:
    name = file.title.strip() or file.name
    blocks: list[Block] = [_section(f"*{escape(_cut(name, 200))}* ({escape(file.media_type)})")]
    if file.text:
        # Three backticks would end the code block early: break them with zero-width spaces.
        readable = description_lines(file.text)
        if readable is not None:
            more = " (the whole of it is in the file)"
            lines = "\n".join(f"• {escape(_cut(line, 300))}" for line in readable)
            blocks.append(_section(f"*The first descriptions*{more}\n{lines}"))
        else:
            preview = _limit(file.text.strip(), PREVIEW).replace("```", "`\u200b`\u200b`")
            blocks.append(_section(f"```{escape(preview)}```"))
    if file.url:
        blocks.append(_link_section(file.url, "file", file, refresh))
    return f"{escape(_cut(name, 200))} is ready", blocks


def _link_section(url: str, noun: str, output: Output, refresh: str | None) -> Block:
    # A link is never cut: one that does not fit a section is left out, and the reply says so.
    if len(link(url, "x")) > _LINK_MAX:
        return _section(
            f"The download link is too long for Slack to show; find this {noun} in "
            "the provider's project page."
        )
    shown = link(url, f"Download the {noun}")
    if output.expires_at is not None:
        shown += f" (link works until {slack_date(output.expires_at)})"
    section = _section(shown)
    if refresh is not None:
        section["accessory"] = _button(ids.FRESH_LINK_ACTION, "Fresh link", refresh)
    return section


def fresh_link(index: int, output: Output) -> str:
    """The ephemeral answer to Fresh link: the new link and how long it works."""
    url = output.url if isinstance(output, Clip | Video) else output.url or ""
    until = f" It works until {slack_date(output.expires_at)}." if output.expires_at else ""
    return f"A fresh link to result {index}: {link(url, 'download it here')}.{until}"
