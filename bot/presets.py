"""Channel presets: a workspace admin's defaults for one channel, per kind of job (clips, an
avatar video, a description): a provider and values of that provider's own form fields.

Each kind's preset is kept as JSON under `preset:<channel id>:<kind>` in the workspace's
settings (the job store's `config_*`), e.g. `preset:C123:clips` holds
`{"provider": "vizard", "values": {"lang": "fr"}}`: one key per kind, so saving one kind never
rewrites another. It holds only the fields the admin set away from the form's defaults, never
the video or script.

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


def preset_key(channel_id: str, kind: JobKind) -> str:
    return f"{KEY_PREFIX}{channel_id}:{kind.value}"


def _jsonable(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in values.items()}


@dataclass(frozen=True)
class KindPreset:
    provider: str
    # Checked values by field name, as parsing gives them (a tuple for CHOICES).
    values: dict[str, Any] = field(default_factory=dict)

    def dump(self) -> str:
        return json.dumps(
            {"provider": self.provider, "values": _jsonable(self.values)}, sort_keys=True
        )

    @classmethod
    def load(cls, raw: str | None, kind: JobKind) -> KindPreset | None:
        """A stored preset; None when there is none or it is unreadable (logged)."""
        if not raw:
            return None
        try:
            data = json.loads(raw)
        except ValueError:
            log.warning("the %s part of a channel preset is not JSON; ignoring it", kind.value)
            return None
        provider = data.get("provider") if isinstance(data, dict) else None
        values = data.get("values") if isinstance(data, dict) else None
        if not isinstance(provider, str) or not isinstance(values, dict):
            log.warning("the %s part of a channel preset is malformed; ignoring it", kind.value)
            return None
        return cls(provider, {str(k): v for k, v in values.items()})


@dataclass(frozen=True)
class ChannelPreset:
    kinds: dict[JobKind, KindPreset] = field(default_factory=dict)

    def get(self, kind: JobKind) -> KindPreset | None:
        return self.kinds.get(kind)

    @classmethod
    def load(cls, stored: Mapping[str, str], channel_id: str) -> ChannelPreset:
        """The channel's preset from the stored settings that hold it (by key)."""
        kinds = {}
        for kind in JobKind:
            preset = KindPreset.load(stored.get(preset_key(channel_id, kind)), kind)
            if preset is not None:
                kinds[kind] = preset
        return cls(kinds)


async def read_preset(store: TeamConfig, team: str, channel_id: str) -> ChannelPreset:
    """The channel's preset: one store read; none when the store does not answer in time."""
    if not channel_id:
        return ChannelPreset()
    keys = [preset_key(channel_id, kind) for kind in JobKind]
    try:
        stored = await asyncio.wait_for(store.config_many(team, keys), _READ_S)
    except _UNREACHABLE as exc:
        log.warning("channel preset of %s not read (%s); going on without", channel_id,
                    type(exc).__name__)  # fmt: skip
        return ChannelPreset()
    return ChannelPreset.load(stored, channel_id)


async def save_preset(
    store: TeamConfig, team: str, channel_id: str, kind: JobKind, preset: KindPreset
) -> None:
    """Keep one kind's preset of a channel. Each kind has its own key, so two admins saving
    different kinds at once both keep theirs."""
    await store.config_put(team, preset_key(channel_id, kind), preset.dump())


async def clear_preset(store: TeamConfig, team: str, channel_id: str, kind: JobKind) -> bool:
    """Forget one kind's preset of a channel; whether there was one."""
    return await store.config_delete(team, preset_key(channel_id, kind))


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


async def named(
    catalogs: Catalogs, provider: Provider, values: Mapping[str, Any], *, seconds: float = 0.3
) -> list[str]:
    """`described`, with searchable entries (an avatar, a voice) by name where their list can
    be had within `seconds` (all looked up at once), else by id."""
    lookups = {
        name: (spec, value)
        for name, value in values.items()
        if (spec := provider.form.get(name)) is not None
        and spec.type is FieldType.LOOKUP
        and isinstance(value, str)
    }
    found = await asyncio.gather(
        *(catalogs.find(provider, spec, values, value, budget=seconds)
          for spec, value in lookups.values())
    )  # fmt: skip
    names = {
        name: f"*{escape(choice.label)}*" if choice else f"`{escape(str(values[name]))}`"
        for name, choice in zip(lookups, found, strict=True)
    }
    return described(provider.form, values, names)


def used_sentence(label: str, parts: list[str]) -> str:
    """What a quick command says when a channel's preset filled it in."""
    shown = ", ".join([label, *parts])
    return f"Using this channel's preset: {shown}. Options you type win over it."
