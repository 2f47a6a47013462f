"""The one modal builder: any provider's form as Block Kit inputs. Pure: no I/O.

Each field is an input block whose block_id and action_id are the field's name; every on/off
field shares one checkbox group. With several providers of a kind, a provider select comes
first and re-renders the modal when changed (views.update).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from bot import ids
from bot.blocks import Block, plain
from bot.kinds import KindWords
from bot.mrkdwn import escape
from bot.parse import element_state
from providers.base import MediaFile
from providers.forms import Choice, FieldType, Form, FormField

_SELECT_MAX = 100
# Slack's longest plain-text input.
INPUT_MAX = 3000


@dataclass(frozen=True)
class ModalContext:
    """What the modal carries between opening and submission (in private_metadata)."""

    kind: str
    provider: str
    channel_id: str
    thread_ts: str | None = None
    # Counts re-renders, and provider switches among them (see `block_id`).
    revision: int = 0
    switches: int = 0
    # A video uploaded to Slack that the request is about (from a message shortcut).
    file: MediaFile | None = None
    # A channel preset's editor (bot/preset_modal.py) rather than a request; `reloads`
    # counts the times it was filled afresh (another channel or kind, or a preset cleared).
    preset: bool = False
    reloads: int = 0

    def dump(self) -> str:
        return json.dumps(
            {"kind": self.kind, "provider": self.provider, "channel_id": self.channel_id}
            | ({"thread_ts": self.thread_ts} if self.thread_ts else {})
            | ({"revision": self.revision} if self.revision else {})
            | ({"switches": self.switches} if self.switches else {})
            | ({"file": self.file.model_dump()} if self.file else {})
            | ({"preset": True} if self.preset else {})
            | ({"reloads": self.reloads} if self.reloads else {})
        )

    def block_id(self, spec: FormField) -> str:
        """Slack keeps what a person entered in a block whose id stays the same, whatever
        the new view says. So a field that depends on another (an outfit on the avatar) gets
        a new block id on every re-render, to show the pick given (none, after its avatar
        changed); other searchable fields only on a provider switch (another provider's
        list); the rest never, so nothing typed meanwhile is lost. A preset editor filled
        afresh renews every block id, to show the values it was filled with."""
        suffix = ""
        if spec.type is FieldType.LOOKUP and spec.depends_on and self.revision:
            suffix = str(self.revision)
        elif spec.type is FieldType.LOOKUP and self.switches:
            suffix = f"s{self.switches}"
        return self._renewed(spec.name, suffix)

    def suffixed(self, name: str) -> str:
        """The id of a block that is not one field's (the provider select, the switches):
        renewed only when a preset editor is filled afresh."""
        return self._renewed(name, "")

    def _renewed(self, name: str, suffix: str) -> str:
        # `name~...`, which `element_state` reads as the field `name`.
        if self.reloads:
            suffix += f"r{self.reloads}"
        return f"{name}~{suffix}" if suffix else name

    def next(self, provider: str | None = None) -> ModalContext:
        """The context of the next re-render; with `provider`, a switch to it."""
        switched = provider is not None and provider != self.provider
        return replace(
            self,
            provider=provider or self.provider,
            revision=self.revision + 1,
            switches=self.switches + (1 if switched else 0),
        )

    def reloaded(self, kind: str, provider: str, channel_id: str) -> ModalContext:
        """The context of a preset editor filled afresh (another channel or kind)."""
        return replace(
            self,
            kind=kind,
            provider=provider,
            channel_id=channel_id,
            revision=self.revision + 1,
            reloads=self.reloads + 1,
        )

    @classmethod
    def load(cls, raw: str | None) -> ModalContext | None:
        try:
            data = json.loads(raw or "")
        except ValueError:
            return None
        if not isinstance(data, dict):
            return None
        kind, provider, channel = data.get("kind"), data.get("provider"), data.get("channel_id")
        if not all(isinstance(v, str) for v in (kind, provider, channel)):
            return None
        thread = data.get("thread_ts")
        counts = [data.get("revision"), data.get("switches"), data.get("reloads")]
        revision, switches, reloads = (n if isinstance(n, int) and n >= 0 else 0 for n in counts)
        try:
            file = MediaFile.model_validate(data["file"]) if data.get("file") else None
        except ValueError:
            return None
        return cls(
            str(kind), str(provider), str(channel), str(thread) if thread else None, revision,
            switches, file, data.get("preset") is True, reloads,
        )  # fmt: skip


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB" if size >= 100_000 else f"{max(1, size // 1000)} KB"


def _file_block(form: Form, file: MediaFile, label: str, link_minutes: float | None) -> Block:
    """The uploaded video the request is about, in place of the link field; for a form that
    takes links only, how it gets there (a signed link), or why it cannot."""
    about = f":film_frames: *{escape(file.name)}* · {_megabytes(file.size)} · uploaded to Slack"
    if not form.takes_files and link_minutes is not None:
        about += (
            f"\n{escape(label)} takes a link: Reelbot hands it a private link to this file "
            f"that works for {link_minutes:g} minutes."
        )
    elif not form.takes_files:
        about += (
            f"\n{escape(label)} takes a link, and this Reelbot has no public address "
            "(REELBOT_PUBLIC_URL) to link the file from: give the video's link below."
        )
    return {
        "type": "context",
        "block_id": ids.FILE_BLOCK,
        "elements": [{"type": "mrkdwn", "text": about[:3000]}],
    }


def _option(value: str, text: str) -> dict[str, Any]:
    return {"text": plain(text, 75), "value": value}


def _input(spec: FormField, element: dict[str, Any], block_id: str | None = None) -> Block:
    block: Block = {
        "type": "input",
        "block_id": block_id or spec.name,
        "label": plain(spec.label),
        "element": {"action_id": spec.name, **element},
        "optional": not spec.required,
    }
    if spec.type in (FieldType.URL, FieldType.TEXT, FieldType.INTEGER, FieldType.LOOKUP):
        hint = spec.help[:1].upper() + spec.help[1:]
        if (spec.max_length or 0) > INPUT_MAX:
            hint += f". A form takes {INPUT_MAX:,}; send longer ones as a command"
        block["hint"] = plain(hint, 2000)
    if spec.type is FieldType.LOOKUP:
        # Picking one re-renders the modal: its preview, and the fields that depend on it.
        block["dispatch_action"] = True
    return block


def _preview(spec: FormField, choice: Choice) -> Block | None:
    image = choice.image_url
    if not image or not image.startswith("https://") or len(image) > 3000:
        return None
    about = f"*{escape(choice.label)}*" + (
        f" · {escape(choice.description)}" if choice.description else ""
    )
    return {
        "type": "context",
        "block_id": f"preview:{spec.name}",
        "elements": [
            {
                "type": "image",
                "image_url": image,
                "alt_text": f"{spec.label}: {choice.label}"[:2000],
            },
            {"type": "mrkdwn", "text": about[:3000]},
        ],
    }


def _field_block(spec: FormField, value: Any, block_id: str) -> Block:
    match spec.type:
        case FieldType.URL | FieldType.TEXT:
            element: dict[str, Any] = {"type": "plain_text_input", "multiline": spec.multiline}
            if spec.max_length:
                # Room for a longer starting value (a script carried over from another
                # provider's form): the submission then says it is too long, under the field.
                room = max(spec.max_length, len(str(value or "")))
                element["max_length"] = min(room, INPUT_MAX)
            if spec.placeholder:
                element["placeholder"] = plain(spec.placeholder)
            if value:
                element["initial_value"] = str(value)
            return _input(spec, element, block_id)
        case FieldType.CHOICE:
            options = [_option(c.value, c.label) for c in spec.choices][:_SELECT_MAX]
            element = {"type": "static_select", "options": options}
            initial = next((o for o in options if o["value"] == value), None)
            if initial is not None:
                element["initial_option"] = initial
            return _input(spec, element, block_id)
        case FieldType.CHOICES:
            options = [_option(c.value, c.label) for c in spec.choices][:_SELECT_MAX]
            element = {"type": "multi_static_select", "options": options}
            chosen = [o for o in options if o["value"] in (value or ())]
            if chosen:
                element["initial_options"] = chosen
            if spec.maximum is not None:
                element["max_selected_items"] = spec.maximum
            return _input(spec, element, block_id)
        case FieldType.INTEGER:
            element = {"type": "number_input", "is_decimal_allowed": False}
            if spec.minimum is not None:
                element["min_value"] = str(spec.minimum)
            if spec.maximum is not None:
                element["max_value"] = str(spec.maximum)
            if value is not None:
                element["initial_value"] = str(value)
            return _input(spec, element, block_id)
        case FieldType.LOOKUP:
            return _input(spec, _lookup_element(spec, value), block_id)
        case FieldType.SWITCH:
            raise ValueError("switches are rendered together")


def _lookup_element(spec: FormField, value: Any) -> dict[str, Any]:
    # Options come from the options request (block_suggestion) as the person types.
    element: dict[str, Any] = {
        "type": "external_select",
        "min_query_length": 0,
        "placeholder": plain(spec.placeholder or f"Search {spec.label.lower()}s"),
    }
    if isinstance(value, Choice):
        element["initial_option"] = _option(value.value, value.label or value.value)
    elif isinstance(value, str) and value:
        element["initial_option"] = _option(value, value)
    return element


def _switches(form: Form, values: Mapping[str, Any], block_id: str) -> Block | None:
    specs = [f for f in form.fields if f.type is FieldType.SWITCH]
    if not specs:
        return None
    options = [_option(f.name, f.label) for f in specs]
    element: dict[str, Any] = {
        "type": "checkboxes",
        "action_id": ids.SWITCHES_BLOCK,
        "options": options,
    }
    on = [o for o, f in zip(options, specs, strict=True) if values.get(f.name, f.default)]
    if on:
        element["initial_options"] = on
    return {
        "type": "input",
        "block_id": block_id,
        "optional": True,
        "label": plain(form.switches_label),
        "element": element,
    }


def _provider_select(offers: Sequence[tuple[str, str]], chosen: str, block_id: str) -> Block:
    options = [_option(name, label) for name, label in offers]
    return {
        "type": "input",
        "block_id": block_id,
        "dispatch_action": True,
        "label": plain("Provider"),
        "element": {
            "type": "static_select",
            "action_id": ids.PROVIDER_ACTION,
            "options": options,
            "initial_option": next(o for o in options if o["value"] == chosen),
        },
    }


def request_modal(
    words: KindWords,
    form: Form,
    context: ModalContext,
    offers: Sequence[tuple[str, str]] = (),
    values: Mapping[str, Any] | None = None,
    chosen: Mapping[str, Choice] | None = None,
    link_minutes: float | None = None,
) -> dict[str, Any]:
    """The modal for one provider's form. `offers` (name, label) adds the provider select when
    there are several; `values` are starting values (defaults otherwise); `chosen` names and
    previews the entries picked in searchable fields; `link_minutes`, when Slack files can be
    linked, the life of such a link."""
    start = {f.name: f.default for f in form.fields} | dict(values or {})
    picked = dict(chosen or {})
    body: list[Block] = []
    if len(offers) > 1:
        body.append(
            _provider_select(offers, context.provider, context.suffixed(ids.PROVIDER_BLOCK))
        )
    if context.file is not None:
        label = dict(offers).get(context.provider, context.provider.title())
        body.append(_file_block(form, context.file, label, link_minutes))
    file_used = context.file is not None and (form.takes_files or link_minutes is not None)
    switches_at = None
    for spec in form.fields:
        if spec.name == form.subject and file_used:
            continue  # the file is the video
        if spec.type is FieldType.SWITCH:
            switches_at = len(body) if switches_at is None else switches_at
            continue
        if spec.type is FieldType.LOOKUP:
            choice = picked.get(spec.name)
            value = start.get(spec.name)
            if choice is None or (value is not None and choice.value != value):
                choice = Choice(str(value), str(value)) if value else None
            body.append(_input(spec, _lookup_element(spec, choice), context.block_id(spec)))
            preview = _preview(spec, choice) if choice is not None else None
            if preview is not None:
                body.append(preview)
            continue
        body.append(_field_block(spec, start.get(spec.name), context.block_id(spec)))
    switches = _switches(form, start, context.suffixed(ids.SWITCHES_BLOCK))
    if switches is not None:
        body.insert(len(body) if switches_at is None else switches_at, switches)
    return {
        "type": "modal",
        "callback_id": ids.REQUEST_MODAL,
        "private_metadata": context.dump(),
        "title": plain(words.modal_title, 24),
        "submit": plain(words.modal_submit, 24),
        "close": plain("Cancel", 24),
        "blocks": body,
    }


def state_values(values: Mapping[str, Any], form: Form) -> tuple[dict[str, Any], dict[str, Choice]]:
    """What a person has entered so far in an open modal (`view.state.values`), unchecked:
    the starting values of a re-render, and the entries picked in searchable fields."""
    entered: dict[str, Any] = {}
    picked: dict[str, Choice] = {}
    switches = {
        str(o.get("value"))
        for o in element_state(values, ids.SWITCHES_BLOCK).get("selected_options") or []
    }
    has_switches = any(
        b == ids.SWITCHES_BLOCK or b.startswith(f"{ids.SWITCHES_BLOCK}~") for b in values
    )
    for spec in form.fields:
        element = element_state(values, spec.name)
        match spec.type:
            case FieldType.SWITCH:
                if has_switches:
                    entered[spec.name] = spec.name in switches
            case FieldType.CHOICES:
                if "selected_options" in element:
                    entered[spec.name] = tuple(
                        str(o.get("value", "")) for o in element["selected_options"] or []
                    )
            case FieldType.CHOICE | FieldType.LOOKUP:
                selected = element.get("selected_option")
                if isinstance(selected, dict) and selected.get("value") not in (
                    None,
                    ids.NO_CHOICE,
                ):
                    value = str(selected["value"])
                    entered[spec.name] = value
                    label = str((selected.get("text") or {}).get("text") or value)
                    picked[spec.name] = Choice(value, label)
            case _:
                if element.get("value") is not None:
                    entered[spec.name] = str(element["value"])
    return entered, picked
