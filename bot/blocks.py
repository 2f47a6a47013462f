"""Block Kit builders: typed values in, plain dicts out. Pure: no I/O."""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any

from bot import ids
from bot.jobs import Job, JobState
from providers import vizard
from providers.base import Output

Block = dict[str, Any]
EXCERPT = 280
_SECTION_MAX = 3000
_LINK_MAX = 2800


def escape(text: str) -> str:
    """Text a person typed or a provider returned, made inert in mrkdwn."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cut(text: str, limit: int) -> str:
    return _limit(" ".join(text.split()), limit)


def _plain(text: str, limit: int = 150) -> dict[str, Any]:
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
    if seconds is None:
        return "unknown length"
    whole = round(seconds)
    return f"{whole // 60}:{whole % 60:02d}"


# --- root status message ---------------------------------------------------------------------
def _state_line(job: Job, label: str) -> str:
    match job.state:
        case JobState.QUEUED:
            line = ":hourglass_flowing_sand: *Queued*"
        case JobState.SUBMITTED:
            line = f":outbox_tray: *Submitted to {label}*"
        case JobState.RENDERING:
            pct = f" ({job.percent:.0f}%)" if job.percent is not None else ""
            line = f":film_frames: *{label} is making the clips{pct}*"
        case JobState.DONE:
            n = len(job.outputs)
            line = (
                f":white_check_mark: *Done: {n} clip{'s' if n != 1 else ''} in the thread*"
                if n
                else f":white_check_mark: *Done, but {label} found no clips in this video*"
            )
        case JobState.FAILED:
            line = f":x: *Failed:* {escape(job.error or 'the provider gave up.')}"
        case JobState.CANCELLED:
            who = f" by <@{job.cancelled_by}>" if job.cancelled_by else ""
            line = f":no_entry_sign: *Cancelled{who}*; Reelbot stopped tracking this job."
    if job.notice and not job.terminal:
        line += f"\n{escape(job.notice)}"
    return line


def root_message(job: Job, label: str) -> tuple[str, list[Block]]:
    name = job.request.get("projectName")
    what = f"*{escape(name)}*" if name else "a video"
    headline = f"<@{job.user_id}> asked {label} for clips of {what}: {escape(job.source)}"
    state = _state_line(job, label)
    blocks: list[Block] = [
        _section(headline),
        _section(state),
        _context(f"{label} · clips · job `{job.id[:8]}` · {slack_date(job.created_at)}"),
    ]
    if not job.terminal:
        blocks.append(
            {
                "type": "actions",
                "block_id": f"job:{job.id}",
                "elements": [
                    {
                        "type": "button",
                        "action_id": ids.CANCEL_ACTION,
                        "text": _plain("Cancel"),
                        "style": "danger",
                        "value": job.id,
                        "confirm": {
                            "title": _plain("Cancel this job?"),
                            "text": {
                                "type": "plain_text",
                                "text": "Reelbot will stop tracking it.",
                            },
                            "confirm": _plain("Cancel job"),
                            "deny": _plain("Keep it"),
                        },
                    }
                ],
            }
        )
    text = f"{label} clips for {job.source}: {job.state.value}"
    return text, blocks


def render_key(text: str, blocks: list[Block]) -> str:
    """A digest of a root message, to skip chat.update when nothing changed."""
    return hashlib.sha256(json.dumps([text, blocks], sort_keys=True).encode()).hexdigest()


def moved_notice(channel_id: str) -> str:
    return (
        f"I can't post in <#{channel_id}>, so I'll keep you posted here. "
        f"To get the clips in the channel next time, invite me there with `/invite @Reelbot`."
    )


# --- results ---------------------------------------------------------------------------------
def clip_reply(index: int, total: int, clip: Output) -> tuple[str, list[Block]]:
    title = clip.title.strip() or f"Clip {index}"
    facts = [f"*Length* {duration(clip.duration_s)}"]
    if clip.score is not None:
        facts.append(f"*Viral score* {clip.score:g}/10")
    if clip.topics:
        facts.append("*Topics* " + escape(", ".join(clip.topics[:5])))
    body = [f"*{index}/{total} · {escape(_cut(title, 200))}*", " · ".join(facts)]
    if clip.reason:
        body.append(f"_Why it works:_ {escape(_cut(clip.reason, 500))}")
    if clip.text:
        body.append("> " + escape(_cut(clip.text, EXCERPT)))
    blocks: list[Block] = [_section("\n".join(body)), _link_section(clip)]
    if clip.editor_url and len(clip.editor_url) <= _LINK_MAX:
        blocks.append(_context(f"<{clip.editor_url}|Edit in the provider's editor>"))
    return f"Clip {index}/{total}: {escape(title)}", blocks


def _link_section(clip: Output) -> Block:
    # A link is never cut: one that does not fit a section is left out, and the reply says so.
    if len(clip.url) > _LINK_MAX:
        return _section(
            "The download link is too long for Slack to show; find this clip in "
            "the provider's project page."
        )
    link = f"<{clip.url}|Download the clip>"
    if clip.expires_at is not None:
        link += f" (link works until {slack_date(clip.expires_at)})"
    return _section(link)


# --- clip modal ------------------------------------------------------------------------------
def _option(value: str, text: str) -> dict[str, Any]:
    return {"text": _plain(text, 75), "value": value}


def clip_modal(private_metadata: str) -> dict[str, Any]:
    languages = [_option(code, f"{name} ({code})") for code, name in vizard.LANGUAGES.items()]
    lengths = [_option(str(n), label) for n, label in vizard.PREFER_LENGTHS.items()]
    switches = [
        _option(ids.SUBTITLES_OPTION, "Burn in subtitles"),
        _option(ids.HEADLINE_OPTION, "Add a headline"),
    ]
    return {
        "type": "modal",
        "callback_id": ids.CLIP_MODAL,
        "private_metadata": private_metadata,
        "title": _plain("Clip a video", 24),
        "submit": _plain("Make clips", 24),
        "close": _plain("Cancel", 24),
        "blocks": [
            {
                "type": "input",
                "block_id": ids.URL_BLOCK,
                "label": _plain("Video link"),
                "hint": _plain("A direct .mp4/.mov/.avi/.3gp link or a YouTube, Vimeo, Loom… page"),
                "element": {
                    "type": "plain_text_input",
                    "action_id": ids.URL_BLOCK,
                    "max_length": 2000,
                    "placeholder": _plain("https://example.com/talk.mp4"),
                },
            },
            {
                "type": "input",
                "block_id": ids.LANG_BLOCK,
                "label": _plain("Spoken language"),
                "element": {
                    "type": "static_select",
                    "action_id": ids.LANG_BLOCK,
                    "options": languages[:100],
                    "initial_option": languages[0],
                },
            },
            {
                "type": "input",
                "block_id": ids.LENGTH_BLOCK,
                "label": _plain("Clip lengths"),
                "element": {
                    "type": "multi_static_select",
                    "action_id": ids.LENGTH_BLOCK,
                    "options": lengths,
                    "initial_options": [lengths[0]],
                },
            },
            {
                "type": "input",
                "block_id": ids.SWITCHES_BLOCK,
                "optional": True,
                "label": _plain("Extras"),
                "element": {
                    "type": "checkboxes",
                    "action_id": ids.SWITCHES_BLOCK,
                    "options": switches,
                    "initial_options": switches,
                },
            },
            {
                "type": "input",
                "block_id": ids.NAME_BLOCK,
                "optional": True,
                "label": _plain("Project name"),
                "element": {
                    "type": "plain_text_input",
                    "action_id": ids.NAME_BLOCK,
                    "max_length": 100,
                },
            },
        ],
    }
