"""How a provider's request is asked for: the fields of a form, declared, never rendered here.

A provider lists its fields (type, choices, limits, help text); the bot renders them as the
`key=value` options of a slash command and as the inputs of a modal, checks each value by its
type, and hands the checked values to the provider's `build_request`, which applies the rules
that join fields (and raises FieldError naming the field when one is broken).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

# The value under which the bot hands a Slack-hosted video (a `providers.base.MediaFile`) to
# `build_request`, in place of the form's link, for a form whose `takes_files` is set.
FILE_VALUE = "file"


class FieldType(enum.StrEnum):
    URL = "url"  # an http(s) link the provider fetches itself
    TEXT = "text"  # free text (a name, a script)
    CHOICE = "choice"  # one of `choices`
    CHOICES = "choices"  # one or more of `choices`, comma-separated in a command
    SWITCH = "switch"  # on or off
    INTEGER = "integer"  # a whole number within `minimum`..`maximum`
    # One item of a list the provider keeps (an avatar, a voice): searched in a modal (an
    # external select fed by the provider's `catalog`), given by its id in a command.
    LOOKUP = "lookup"


@dataclass(frozen=True)
class Choice:
    value: str
    label: str
    # Other words a person may type for this value (`auto` for `0`).
    aliases: tuple[str, ...] = ()
    # In a CHOICES field, this value stands alone (Vizard's "auto" length).
    alone: bool = False
    # LOOKUP catalogs: a second line (gender, language), a preview image, and the heading it
    # is listed under (a voice's language).
    description: str | None = None
    image_url: str | None = None
    group: str | None = None


@dataclass(frozen=True)
class FormField:
    """One input. `name` is both the `name=` option and the modal's block and action id."""

    name: str
    label: str
    type: FieldType
    help: str
    choices: tuple[Choice, ...] = ()
    default: Any = None
    required: bool = False
    # INTEGER: the value's range; CHOICES: how many may be picked.
    minimum: int | None = None
    maximum: int | None = None
    max_length: int | None = None
    placeholder: str | None = None
    multiline: bool = False
    # LOOKUP: the fields whose values its catalog depends on (an outfit on the avatar). A
    # change to one of them re-renders the modal.
    depends_on: tuple[str, ...] = ()

    def choice(self, word: str) -> Choice | None:
        wanted = word.strip().lower()
        for choice in self.choices:
            if choice.value.lower() == wanted or wanted in (a.lower() for a in choice.aliases):
                return choice
        return None


@dataclass(frozen=True)
class Form:
    """A provider's fields, in the order a person meets them.

    `subject` is the field given without a `key=` in a command (the link, the script).
    `switches_label` titles the one checkbox group every SWITCH field is shown in.
    """

    subject: str
    fields: tuple[FormField, ...]
    summary: str
    example: str
    switches_label: str = "Options"
    notes: tuple[str, ...] = field(default_factory=tuple)
    # The provider takes an uploaded video file (FILE_VALUE) instead of the subject link.
    takes_files: bool = False

    def __post_init__(self) -> None:
        names = [f.name for f in self.fields]
        if len(set(names)) != len(names):
            raise ValueError("field names must be unique")
        if self.subject not in names:
            raise ValueError(f"the subject {self.subject!r} is not a field")
        for spec in self.fields:
            if any(name not in names for name in spec.depends_on):
                raise ValueError(f"{spec.name} depends on a field the form does not have")

    @property
    def triggers(self) -> frozenset[str]:
        """Fields whose change re-renders the modal: those another field depends on."""
        return frozenset(name for f in self.fields for name in f.depends_on)

    def with_defaults(self, defaults: Mapping[str, Any]) -> Form:
        """The same form with other starting values (a workspace's default avatar)."""
        fields = tuple(
            replace(f, default=defaults[f.name]) if defaults.get(f.name) is not None else f
            for f in self.fields
        )
        return replace(self, fields=fields)

    def get(self, name: str) -> FormField | None:
        return next((f for f in self.fields if f.name == name), None)

    @property
    def subject_field(self) -> FormField:
        found = self.get(self.subject)
        assert found is not None
        return found

    @property
    def options(self) -> tuple[FormField, ...]:
        """Every field but the subject: what `key=value` sets."""
        return tuple(f for f in self.fields if f.name != self.subject)


class FieldError(ValueError):
    """A value a person gave is wrong; the message says how to fix it."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name
        self.message = message
