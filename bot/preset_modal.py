"""The channel preset editor: a kind's own request modal (bot/modals.py) for one provider, less
the video or script, under a channel picker and the kind, with a button that clears the
channel's preset. Saved instead of submitted. Pure: no I/O."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bot import ids
from bot.blocks import Block, plain
from bot.kinds import KindWords
from bot.modals import ModalContext, request_modal
from providers.forms import Choice, Form

PRESET_COMMAND = "/reel preset"
TITLE = "Channel presets"


def preset_kind_label(words: KindWords) -> str:
    return f"{words.command} ({words.noun})"


def _channel_block(channel_id: str) -> Block:
    element: dict[str, Any] = {
        "type": "conversations_select",
        "action_id": ids.PRESET_CHANNEL_ACTION,
        "placeholder": plain("Pick a channel"),
        "filter": {"include": ["public", "private"], "exclude_bot_users": True},
    }
    if channel_id:
        element["initial_conversation"] = channel_id
    return {
        "type": "input",
        "block_id": ids.PRESET_CHANNEL_BLOCK,
        "dispatch_action": True,
        "label": plain("Channel"),
        "element": element,
    }


def _kind_block(kinds: Sequence[tuple[str, str]], chosen: str) -> Block:
    options = [{"text": plain(label, 75), "value": value} for value, label in kinds]
    element: dict[str, Any] = {
        "type": "static_select",
        "action_id": ids.PRESET_KIND_ACTION,
        "options": options,
    }
    initial = next((o for o in options if o["value"] == chosen), None)
    if initial is not None:
        element["initial_option"] = initial
    return {
        "type": "input",
        "block_id": ids.PRESET_KIND_BLOCK,
        "dispatch_action": True,
        "label": plain("Command"),
        "element": element,
    }


def _context(text: str, block_id: str) -> Block:
    return {
        "type": "context",
        "block_id": block_id,
        "elements": [{"type": "mrkdwn", "text": text[:3000]}],
    }


def _clear_block(words: KindWords) -> Block:
    return {
        "type": "actions",
        "block_id": "preset_actions",
        "elements": [
            {
                "type": "button",
                "action_id": ids.PRESET_CLEAR_ACTION,
                "text": plain("Clear this channel's preset"),
                "style": "danger",
                "value": "clear",
                "confirm": {
                    "title": plain("Clear the preset?"),
                    "text": {
                        "type": "mrkdwn",
                        "text": f"`{words.command}` in the channel picked above goes back to "
                        "the workspace's defaults.",
                    },
                    "confirm": plain("Clear it"),
                    "deny": plain("Keep it"),
                },
            }
        ],
    }


def preset_modal(
    words: KindWords,
    form: Form,
    context: ModalContext,
    offers: Sequence[tuple[str, str]],
    kinds: Sequence[tuple[str, str]],
    values: Mapping[str, Any] | None = None,
    chosen: Mapping[str, Choice] | None = None,
    note: str | None = None,
) -> dict[str, Any]:
    """The editor for `context.channel_id` (none yet: the picker is empty) and the kind of
    `words`. `kinds` (value, label) are the kinds offered here; `note` says what just
    happened (a preset cleared)."""
    view = request_modal(words, form, context, offers, values, chosen)
    fields = [
        b for b in view["blocks"] if (b.get("element") or {}).get("action_id") != form.subject
    ]
    head: list[Block] = []
    if note:
        head.append(_context(note, "preset_note"))
    head += [
        _channel_block(context.channel_id),
        _kind_block(kinds, context.kind),
        _context(
            f"`{words.command}` in this channel, and its form, start from these values. "
            "Options people type still win.",
            "preset_about",
        ),
    ]
    return view | {
        "callback_id": ids.PRESET_MODAL,
        "title": plain(TITLE, 24),
        "submit": plain("Save preset", 24),
        "close": plain("Cancel", 24),
        "blocks": [*head, *fields, _clear_block(words)],
    }


def saved_view(text: str) -> dict[str, Any]:
    """What the editor turns into once saved."""
    return {
        "type": "modal",
        "callback_id": ids.PRESET_MODAL + "_saved",
        "title": plain(TITLE, 24),
        "close": plain("Done", 24),
        "blocks": [
            {"type": "section", "block_id": "preset_saved", "text": {"type": "mrkdwn",
             "text": text[:3000]}},
        ],
    }  # fmt: skip
