"""Channel presets: a workspace admin's defaults for one channel, per kind of job (clips, an
avatar video, a description): a provider and values of that provider's own form fields.

A preset is kept as JSON under `preset:<channel id>` in the workspace's settings (the job
store's `config_*`), `{"clips": {"provider": "vizard", "values": {"lang": "fr"}}, ...}`. It
holds only the fields the admin set away from the form's defaults, never the video or script.

Applied, a preset stands in for the form's defaults: the provider a command uses when the
person names none, and the values of every field they do not type (typed options win). The
same values start the modal. Values are checked again by their field's type when read, so a
preset outlives a provider's form changing; a value that no longer fits is left out.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from pydantic import BaseModel

from bot.catalogs import Catalogs
from bot.mrkdwn import escape
from bot.parse import Offer, Submit
from bot.store import STORE_DOWN
from bot.store.team_config import TeamConfig
from bot.values import check_choices, check_value
from providers.base import Description, JobKind, Provider
from providers.forms import FieldError, FieldType, Form, FormField

log = logging.getLogger(__name__)

KEY_PREFIX = "preset:"
# Of Slack's 3 s to acknowledge a command: a store that does not answer in time means no preset.
_READ_S = 0.5
_UNREACHABLE: tuple[type[Exception], ...] = (*STORE_DOWN, TimeoutError)


def preset_key(channel_id: str) -> str:
    return f"{KEY_PREFIX}{channel_id}"


@dataclass(frozen=True)
class KindPreset:
    provider: str
    # Checked values by field name, as parsing gives them (a tuple for CHOICES).
    values: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ChannelPreset:
    kinds: dict[JobKind, KindPreset] = field(default_factory=dict)

    def get(self, kind: JobKind) -> KindPreset | None:
        return self.kinds.get(kind)

    def with_kind(self, kind: JobKind, preset: KindPreset) -> ChannelPreset:
        return ChannelPreset(self.kinds | {kind: preset})

    def without(self, kind: JobKind) -> ChannelPreset:
        return ChannelPreset({k: p for k, p in self.kinds.items() if k is not kind})

    def dump(self) -> str:
        return json.dumps(
            {
                kind.value: {"provider": p.provider, "values": _jsonable(p.values)}
                for kind, p in self.kinds.items()
            },
            sort_keys=True,
        )

    @classmethod
    def load(cls, raw: str | None) -> ChannelPreset:
        """A stored preset; whatever part of it is unreadable is left out (and logged)."""
        if not raw:
            return cls()
        try:
            data = json.loads(raw)
        except ValueError:
            log.warning("a channel preset is not JSON; ignoring it")
            return cls()
        kinds: dict[JobKind, KindPreset] = {}
        for name, entry in data.items() if isinstance(data, dict) else ():
            try:
                kind = JobKind(name)
            except ValueError:
                log.info("a channel preset names an unknown kind %r; ignoring it", name)
                continue
            provider = entry.get("provider") if isinstance(entry, dict) else None
            values = entry.get("values") if isinstance(entry, dict) else None
            if not isinstance(provider, str) or not isinstance(values, dict):
                log.warning("the %s part of a channel preset is malformed; ignoring it", name)
                continue
            kinds[kind] = KindPreset(provider, {str(k): v for k, v in values.items()})
        return cls(kinds)


def _jsonable(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in values.items()}


async def read_preset(store: TeamConfig, team: str, channel_id: str) -> ChannelPreset:
    """The channel's preset: one store read; none when the store does not answer in time."""
    if not channel_id:
        return ChannelPreset()
    try:
        raw = await asyncio.wait_for(store.config_get(team, preset_key(channel_id)), _READ_S)
    except _UNREACHABLE as exc:
        log.warning("channel preset of %s not read (%s); going on without", channel_id,
                    type(exc).__name__)  # fmt: skip
        return ChannelPreset()
    return ChannelPreset.load(raw)


async def write_preset(
    store: TeamConfig, team: str, channel_id: str, preset: ChannelPreset
) -> None:
    """Keep the channel's preset; one with no kind left is deleted."""
    if preset.kinds:
        await store.config_put(team, preset_key(channel_id), preset.dump())
    else:
        await store.config_delete(team, preset_key(channel_id))


# --- values ----------------------------------------------------------------------------------
def _checked(spec: FormField, value: Any, label: str) -> Any:
    """A stored value checked again by its field's type (the form may have changed)."""
    if value is None:
        if spec.required:
            raise FieldError(spec.name, "required")
        return None
    match spec.type:
        case FieldType.CHOICES:
            if not isinstance(value, list | tuple):
                raise FieldError(spec.name, "not a list")
            return check_choices(spec, [str(v) for v in value])
        case FieldType.SWITCH:
            if not isinstance(value, bool):
                raise FieldError(spec.name, "not on or off")
            return value
        case FieldType.INTEGER:
            if isinstance(value, bool) or not isinstance(value, int):
                raise FieldError(spec.name, "not a whole number")
            return check_value(spec, str(value), label)
        case _:
            if not isinstance(value, str):
                raise FieldError(spec.name, "not text")
            return check_value(spec, value, label)


def fitted(form: Form, label: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """The preset's values this form takes now; the rest are left out, with a log line."""
    kept: dict[str, Any] = {}
    for name, value in values.items():
        spec = form.get(name)
        if spec is None or name == form.subject:
            log.info("channel preset: %s has no field %r now; leaving it out", label, name)
            continue
        try:
            kept[name] = _checked(spec, value, label)
        except FieldError:
            log.info("channel preset: %s no longer takes its %r value; leaving it out", label,
                     name)  # fmt: skip
    return kept


def preset_values(form: Form, checked: Mapping[str, Any]) -> dict[str, Any]:
    """What a preset keeps of a checked form: the fields set away from their defaults, never
    the video or script."""
    kept: dict[str, Any] = {}
    for spec in form.fields:
        if spec.name == form.subject or spec.name not in checked:
            continue
        value, default = checked[spec.name], spec.default
        if spec.type is FieldType.CHOICES:
            same = tuple(value or ()) == tuple(default or ())
        elif spec.type is FieldType.SWITCH:
            same = bool(value) == bool(default)
        else:
            same = (value or None) == (default or None)
        if not same:
            kept[spec.name] = value
    return kept


def value_words(spec: FormField, value: Any) -> str:
    """A value as a person reads it ("French (fr)", "on"); a searchable entry by its id."""
    if spec.type is FieldType.SWITCH:
        return "on" if value else "off"
    if spec.type is FieldType.CHOICE:
        choice = spec.choice(str(value))
        return choice.label if choice else str(value)
    if spec.type is FieldType.CHOICES:
        chosen = [spec.choice(str(v)) for v in value or ()]
        return ", ".join(c.label if c else "?" for c in chosen)
    return "none" if value is None else str(value)


def described(form: Form, values: Mapping[str, Any], names: Mapping[str, str]) -> list[str]:
    """Each preset value as "<field> <value>"; `names` gives entries' names by field."""
    parts = []
    for spec in form.fields:
        if spec.name in values:
            shown = names.get(spec.name) or escape(value_words(spec, values[spec.name]))
            parts.append(f"{spec.label.lower()} {shown}")
    return parts


# --- applying a preset to a command ----------------------------------------------------------
class _PresetOffer:
    """A provider whose form starts from the preset's values."""

    def __init__(self, offer: Offer, values: Mapping[str, Any]) -> None:
        self._offer = offer
        self.form = replace(
            offer.form,
            fields=tuple(
                replace(f, default=values[f.name]) if f.name in values else f
                for f in offer.form.fields
            ),
        )

    @property
    def name(self) -> str:
        return self._offer.name

    @property
    def label(self) -> str:
        return self._offer.label

    def build_request(self, values: Mapping[str, Any]) -> BaseModel:
        return self._offer.build_request(values)

    def describe(self, request: BaseModel) -> Description:
        return self._offer.describe(request)


@dataclass(frozen=True)
class Applied:
    """A kind's offers with a channel's preset in them (or none that applies)."""

    offers: dict[str, Offer]
    default: str
    # The preset as this provider's form takes it now; None: no preset applies.
    preset: KindPreset | None = None

    def start(self, provider: str) -> dict[str, Any]:
        """A modal's starting values for `provider`: the preset's, when it is its provider."""
        if self.preset is None or self.preset.provider != provider:
            return {}
        return dict(self.preset.values)

    def used(self, submit: Submit) -> tuple[str, ...]:
        """The preset fields whose values a request kept (the person did not type others)."""
        if self.preset is None or self.preset.provider != submit.provider:
            return ()
        return tuple(n for n, v in self.preset.values.items() if submit.values.get(n) == v)


def apply_preset(offers: Mapping[str, Offer], default: str, preset: KindPreset | None) -> Applied:
    """`offers` with the preset's provider as the default and its values as its form's
    defaults. A preset of a provider not offered here any more is ignored (and logged)."""
    if preset is None:
        return Applied(dict(offers), default)
    offer = offers.get(preset.provider)
    if offer is None:
        log.info("channel preset for %s ignored: it is not set up here", preset.provider)
        return Applied(dict(offers), default)
    values = fitted(offer.form, offer.label, preset.values)
    wrapped: dict[str, Offer] = dict(offers) | {offer.name: _PresetOffer(offer, values)}
    return Applied(wrapped, offer.name, KindPreset(offer.name, values))


async def named(catalogs: Catalogs, provider: Provider, values: Mapping[str, Any]) -> list[str]:
    """`described`, with searchable entries (an avatar, a voice) by name where their list can
    be had quickly, else by id."""
    names: dict[str, str] = {}
    for name, value in values.items():
        spec = provider.form.get(name)
        if spec is None or spec.type is not FieldType.LOOKUP or not isinstance(value, str):
            continue
        choice = await catalogs.find(provider, spec, values, value, budget=0.3)
        names[name] = f"*{escape(choice.label)}*" if choice else f"`{escape(value)}`"
    return described(provider.form, values, names)


def used_sentence(label: str, parts: list[str]) -> str:
    """What a quick command says when a channel's preset filled it in."""
    shown = ", ".join([label, *parts])
    return f"Using this channel's preset: {shown}. Options you type win over it."
