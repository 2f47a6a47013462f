"""The workspace provider keys modal (pure): what it shows and what a submission asks for.

One input per key field of every provider this build knows, always empty (a key is never
shown again: the modal says only whether the workspace has its own), and a checkbox to
remove the workspace's own keys. Blank means unchanged.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from slack_sdk.models.blocks import (
    CheckboxesElement,
    ContextBlock,
    DividerBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot import ids
from bot.mrkdwn import escape
from bot.workspace_keys import Credential, credentials, invalid_value
from providers.plugin import ProviderPlugin

_VALUE = "value"
_REMOVE = "remove"
TITLE = "Provider keys"


class KeyState(enum.Enum):
    OWN = "set for this workspace"
    UNREADABLE = "set, but unreadable with the app's current secret key: set it again"
    APP = "using the app's key"
    NONE = "not set"


def _key_block(provider: str, credential: Credential) -> str:
    return f"key:{provider}:{credential.field}"


def _remove_block(provider: str) -> str:
    return f"remove:{provider}"


def keys_modal(
    plugins: Sequence[ProviderPlugin[Any]], states: Mapping[str, KeyState]
) -> dict[str, Any]:
    blocks: list[Any] = [
        SectionBlock(
            text=MarkdownTextObject(
                text="Keys set here are used for this workspace only, instead of the app's. "
                "They are kept encrypted and never shown again. Leave a field blank to keep "
                "what is there."
            )
        )
    ]
    for plugin in plugins:
        state = states.get(plugin.name, KeyState.NONE)
        blocks += [
            DividerBlock(),
            SectionBlock(text=MarkdownTextObject(text=f"*{escape(plugin.label)}*: {state.value}")),
        ]
        for credential in credentials(plugin):
            blocks.append(
                InputBlock(
                    block_id=_key_block(plugin.name, credential),
                    label=credential.label,
                    optional=True,
                    element=PlainTextInputElement(
                        action_id=_VALUE,
                        placeholder="Leave blank to keep" if state is KeyState.OWN else None,
                        max_length=1000,
                    ),
                )
            )
        if state in (KeyState.OWN, KeyState.UNREADABLE):
            remove = f"Remove this workspace's {plugin.label} key"
            blocks.append(
                InputBlock(
                    block_id=_remove_block(plugin.name),
                    label="Remove",
                    optional=True,
                    element=CheckboxesElement(
                        action_id=_VALUE, options=[Option(value=_REMOVE, text=remove)]
                    ),
                )
            )
    blocks.append(
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text="A job is always checked with the workspace's current key, so change "
                    "a key when none of this workspace's jobs is under way."
                )
            ]
        )
    )
    view = View(
        type="modal",
        callback_id=ids.PROVIDER_KEYS_MODAL,
        title=TITLE,
        submit="Save",
        close="Cancel",
        blocks=blocks,
    )
    return view.to_dict()


def notice_modal(text: str) -> dict[str, Any]:
    """A modal that only explains (not an admin, no REELBOT_SECRET_KEY)."""
    view = View(
        type="modal",
        title=TITLE,
        close="Close",
        blocks=[SectionBlock(text=MarkdownTextObject(text=text))],
    )
    return view.to_dict()


@dataclass
class KeyChanges:
    """What a submission asks for: new key fields per provider, providers to forget, and
    errors by block id (then nothing is to change)."""

    typed: dict[str, dict[str, str]] = field(default_factory=dict)
    remove: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)


def read_submission(
    plugins: Sequence[ProviderPlugin[Any]],
    values: Mapping[str, Any],
    own: Mapping[str, Mapping[str, str]],
) -> KeyChanges:
    """`values` is the view's state; `own` the key fields each provider has for this
    workspace now (that can be read), which blank fields keep."""
    changes = KeyChanges()
    for plugin in plugins:
        wanted = credentials(plugin)
        typed: dict[str, str] = {}
        for credential in wanted:
            block = _key_block(plugin.name, credential)
            raw = ((values.get(block) or {}).get(_VALUE) or {}).get("value") or ""
            value = raw.strip()
            if not value:
                continue
            problem = invalid_value(value)
            if problem is not None:
                changes.errors[block] = problem
            typed[credential.field] = value
        picked = ((values.get(_remove_block(plugin.name)) or {}).get(_VALUE) or {}).get(
            "selected_options"
        ) or []
        removing = any(option.get("value") == _REMOVE for option in picked)
        if removing and typed:
            changes.errors[_remove_block(plugin.name)] = (
                "Either remove the key or type a new one, not both."
            )
            continue
        if removing:
            changes.remove.append(plugin.name)
            continue
        if not typed:
            continue
        merged = dict(own.get(plugin.name) or {}) | typed
        missing = [c for c in wanted if not merged.get(c.field)]
        if missing:
            changes.errors[_key_block(plugin.name, missing[0])] = (
                f"{plugin.label} needs this too: give every field of it."
            )
            continue
        changes.typed[plugin.name] = {c.field: merged[c.field] for c in wanted}
    return changes
