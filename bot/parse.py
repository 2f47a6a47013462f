"""Command text and modal state -> provider requests, for any provider's form.

Pure: no I/O, and every refusal is a sentence for the person who typed it. Each value is
checked by its field's type (bot.values); the provider's `build_request` then applies its
own rules.

A form whose subject is a link reads `key=value` options anywhere in the text. A form whose
subject is free text (a script) reads options only at the start: the rest is the text,
word for word, apostrophes and all.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from pydantic import BaseModel

from bot.help import HasForm
from bot.ids import SWITCHES_BLOCK
from bot.mrkdwn import quoted
from bot.values import (
    MAX_TEXT,
    check_choices,
    check_value,
    has_control,
    unescape,
    unwrap_slack_link,
)
from providers.base import Description
from providers.forms import FieldError, FieldType, Form, FormField

PROVIDER_OPTION = "provider"
# Slack's longest plain-text input in a form.
MODAL_TEXT_MAX = 3000
_HELP_WORDS = {"help", "-h", "--help", "?"}
_QUOTES = {0x201C: '"', 0x201D: '"', 0x2018: "'", 0x2019: "'"}
# One leading `key=value` or `key="value with spaces"` of a free-text command.
_LEADING_OPTION = re.compile(
    r'\s*([A-Za-z_]+)=(?:["\u201c\u201d]([^"\u201c\u201d]*)["\u201c\u201d]|(\S*))(?=\s|$)'
)
# Slack's own markup in message text: <url|label>, <url>, <@U123>, <#C123|name>, <!here>.
_SLACK_MARKUP = re.compile(r"<([^<>|]+)(?:\|([^<>]*))?>")


class Offer(HasForm, Protocol):
    """What parsing needs of a provider: pure methods only."""

    def build_request(self, values: Mapping[str, Any]) -> BaseModel: ...

    def describe(self, request: BaseModel) -> Description: ...


@dataclass(frozen=True)
class ShowHelp:
    pass


@dataclass(frozen=True)
class OpenModal:
    provider: str
    # Starting values for the modal (a script typed after the command).
    values: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Invalid:
    message: str


@dataclass(frozen=True)
class Submit:
    provider: str
    request: BaseModel
    description: Description
    # LOOKUP fields whose value came from the workspace's defaults, to say which were used.
    defaults_used: tuple[str, ...] = ()
    values: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ModalErrors:
    errors: dict[str, str] = field(default_factory=dict)


Command = ShowHelp | OpenModal | Invalid | Submit


def plain_text(text: str) -> str:
    """Message text as a person reads it: Slack's link and mention markup resolved."""

    def resolve(match: re.Match[str]) -> str:
        target, label = match.group(1), match.group(2)
        if label:
            return f"#{label}" if target.startswith("#") else label
        if target.startswith(("@", "#")):
            return target
        if target.startswith("!"):
            return "@" + target[1:].split("^", 1)[0]
        return target

    return unescape(_SLACK_MARKUP.sub(resolve, text))


def _defaults(form: Form) -> dict[str, Any]:
    return {f.name: f.default for f in form.fields}


def _submit(offer: Offer, values: dict[str, Any], given: set[str] | None = None) -> Submit:
    request = offer.build_request(values)
    used = tuple(
        f.name
        for f in offer.form.fields
        if f.type is FieldType.LOOKUP
        and given is not None
        and f.name not in given
        and values.get(f.name) is not None
    )
    return Submit(offer.name, request, offer.describe(request), used, values)


# --- command text ----------------------------------------------------------------------------
def parse_command(text: str, offers: Mapping[str, Offer], default: str) -> Command:
    """A slash command's text -> help, the modal, a refusal or a request for one provider.

    `offers` are the configured providers of the command's kind (at least one), `default`
    the one used when the text names none (`provider=`).
    """
    limit = _command_limit(offers)
    if len(text) > limit:
        return Invalid(f"That's {len(text):,} characters; a command takes at most {limit:,}.")
    prose = offers[default].form.subject_field.type is FieldType.TEXT
    if has_control(text, newlines=prose, writing=prose):
        return Invalid("Your text contains control characters; please retype the command.")
    stripped = text.strip()
    if stripped.lower() in _HELP_WORDS:
        return ShowHelp()
    if prose:
        return _parse_text_command(stripped, offers, default)
    normalised = stripped.translate(_QUOTES)
    try:
        tokens = shlex.split(normalised)
    except ValueError:
        return Invalid(
            'A quote is not closed. Put a value with spaces in quotes: `name="My talk"`.'
        )
    subjects, options = _split(tokens)
    if isinstance(options, Invalid):
        return options
    offer = _chosen_offer(options, offers, default)
    if isinstance(offer, Invalid):
        return offer
    if not subjects and not options:
        return OpenModal(offer.name)
    return _parse_for(offer, subjects, options, several=len(offers) > 1)


def _command_limit(offers: Mapping[str, Offer]) -> int:
    # Room for the longest script a provider takes, and its options.
    subjects = [o.form.subject_field for o in offers.values()]
    longest = max((f.max_length or 0 for f in subjects if f.type is FieldType.TEXT), default=0)
    return max(MAX_TEXT, longest + 1000)


def _chosen_offer(
    options: dict[str, str], offers: Mapping[str, Offer], default: str
) -> Offer | Invalid:
    chosen = options.pop(PROVIDER_OPTION, None)
    if chosen is not None and chosen.lower() not in offers:
        names = ", ".join(f"`{n}`" for n in offers)
        return Invalid(f"{quoted(f'provider={chosen}')} is not set up here. Use one of: {names}.")
    return offers[chosen.lower() if chosen else default]


def _parse_text_command(text: str, offers: Mapping[str, Offer], default: str) -> Command:
    known = {PROVIDER_OPTION} | {f.name for o in offers.values() for f in o.form.options}
    options: dict[str, str] = {}
    rest = text
    while (match := _LEADING_OPTION.match(rest)) and match.group(1).lower() in known:
        key = match.group(1).lower()
        if key in options:
            return Invalid(f"{quoted(key + '=')} is given twice; give it once.")
        options[key] = unescape(match.group(2) if match.group(2) is not None else match.group(3))
        rest = rest[match.end() :]
    offer = _chosen_offer(options, offers, default)
    if isinstance(offer, Invalid):
        return offer
    script = plain_text(rest.strip())
    if not script and not options:
        return OpenModal(offer.name)
    dropped = _defaults_dropped(offer.form, options)
    missing = [
        f.name
        for f in offer.form.fields
        if f.type is FieldType.LOOKUP
        and f.required
        and f.name not in options
        and (f.default is None or f.name in dropped)
    ]
    if missing and not _unknown_option(offer, options):
        # Nothing to use (no workspace default, or one for another avatar): the modal lets
        # the person pick, with what they typed filled in.
        return _prefilled_modal(offer, script, options, dropped)
    return _parse_for(offer, [script] if script else [], options, several=len(offers) > 1)


def _defaults_dropped(form: Form, options: Mapping[str, str]) -> set[str]:
    """Fields whose workspace default does not apply: they depend on a field the person gave
    (the default outfit belongs to the default avatar, not to the one typed)."""
    return {
        f.name
        for f in form.fields
        if f.name not in options and any(parent in options for parent in f.depends_on)
    }


def _prefilled_modal(
    offer: Offer, script: str, options: Mapping[str, str], dropped: set[str]
) -> Command:
    """The modal with what was typed, each value checked first: Slack refuses a form whose
    starting values break its limits, and the person would lose the script."""
    subject = offer.form.subject_field
    values: dict[str, Any] = dict.fromkeys(dropped)
    try:
        if script:
            values[subject.name] = check_value(subject, script, offer.label)
        for key, raw in options.items():
            spec = offer.form.get(key)
            assert spec is not None
            values[key] = check_value(spec, raw, offer.label)
    except FieldError as refusal:
        return Invalid(refusal.message)
    if len(script) > MODAL_TEXT_MAX:
        needed = [
            f"`{f.name}=<id>`"
            for f in offer.form.fields
            if f.type is FieldType.LOOKUP and f.required
        ]
        return Invalid(
            f"Your {subject.label.lower()} is {len(script):,} characters and a form takes at "
            f"most {MODAL_TEXT_MAX:,}. Send it as a command instead, with "
            f"{' and '.join(needed)} before the text."
        )
    return OpenModal(offer.name, values)


def _unknown_option(offer: Offer, options: Mapping[str, str]) -> bool:
    names = {f.name for f in offer.form.options}
    return any(key not in names for key in options)


def _split(tokens: list[str]) -> tuple[list[str], dict[str, str] | Invalid]:
    subjects: list[str] = []
    options: dict[str, str] = {}
    for token in tokens:
        key, eq, value = token.partition("=")
        looks_like_link = (
            token.startswith("<")
            or "://" in token
            or token.lower().startswith(("javascript:", "data:", "file:", "mailto:"))
        )
        if eq and not looks_like_link:
            key = key.lower()
            if key in options:
                return subjects, Invalid(f"{quoted(key + '=')} is given twice; give it once.")
            options[key] = unescape(value)
        else:
            subjects.append(unescape(unwrap_slack_link(token)))
    return subjects, options


def _parse_for(
    offer: Offer, subjects: list[str], options: dict[str, str], several: bool
) -> Command:
    form = offer.form
    subject = form.subject_field
    known = [f.name for f in form.options] + ([PROVIDER_OPTION] if several else [])
    for key in options:
        if key not in known:
            valid = ", ".join(f"`{k}=`" for k in known)
            return Invalid(f"Unknown option {quoted(key)}. Valid options are {valid}.")
    if subject.type is FieldType.URL:
        if not subjects:
            return Invalid(
                f"Give me a link to the video first, e.g. `{subject.placeholder or 'https://…'}`."
            )
        if len(subjects) > 1:
            return Invalid(
                f"I can take one video at a time, and I see {len(subjects)} things that are "
                "not `key=value` options. Send one command per video."
            )
    values = _defaults(form) | dict.fromkeys(_defaults_dropped(form, options))
    try:
        values[subject.name] = check_value(subject, " ".join(subjects), offer.label)
        for key, raw in options.items():
            spec = form.get(key)
            assert spec is not None
            values[key] = check_value(spec, raw, offer.label)
        return _submit(offer, values, given=set(options))
    except FieldError as refusal:
        return Invalid(refusal.message)


# --- modal state -----------------------------------------------------------------------------
def element_state(values: Mapping[str, Any], name: str) -> dict[str, Any]:
    """A field's element state. A field re-rendered empty has block id `<name>~<n>`, so
    that Slack drops what was picked before; its action id is always the name."""
    for block_id, actions in values.items():
        if block_id == name or block_id.startswith(f"{name}~"):
            element = (actions or {}).get(name, {})
            return element if isinstance(element, dict) else {}
    return {}


def _modal_raw(spec: FormField, values: Mapping[str, Any], switches: set[str]) -> Any:
    element = element_state(values, spec.name)
    match spec.type:
        case FieldType.CHOICE | FieldType.LOOKUP:
            selected = element.get("selected_option") or {}
            return str(selected.get("value", "")) or None
        case FieldType.CHOICES:
            return [str(o.get("value", "")) for o in element.get("selected_options") or []]
        case FieldType.SWITCH:
            return spec.name in switches
        case _:
            value = element.get("value")
            return None if value is None else str(value)


def parse_modal(
    values: Mapping[str, Any], offer: Offer, stand_in: Mapping[str, Any] | None = None
) -> Submit | ModalErrors:
    """`view.state.values` of a provider's modal -> a request, or an error per block.
    `stand_in` holds values for fields the modal does not show (a video uploaded to Slack in
    place of the link: FILE_VALUE, or a signed link to it)."""
    form = offer.form
    switches = {
        str(o.get("value"))
        for o in element_state(values, SWITCHES_BLOCK).get("selected_options") or []
    }
    errors: dict[str, str] = {}
    given = dict(stand_in or {})
    checked = _defaults(form) | given
    for spec in form.fields:
        if spec.name in given:
            continue
        raw = _modal_raw(spec, values, switches)
        try:
            if spec.type is FieldType.SWITCH:
                checked[spec.name] = bool(raw)
            elif spec.type is FieldType.CHOICES:
                checked[spec.name] = check_choices(spec, raw)
            elif raw is None or raw == "":
                if spec.required:
                    checked[spec.name] = check_value(spec, "", offer.label)
                elif spec.type in (FieldType.TEXT, FieldType.LOOKUP):
                    checked[spec.name] = None
            else:
                checked[spec.name] = check_value(spec, raw, offer.label)
        except FieldError as refusal:
            errors[spec.name] = refusal.message
    if errors:
        return ModalErrors(errors)
    try:
        return _submit(offer, checked, given={f.name for f in form.fields})
    except FieldError as refusal:
        block = SWITCHES_BLOCK if _is_switch(form, refusal.name) else refusal.name
        return ModalErrors({block: refusal.message})


def _is_switch(form: Form, name: str) -> bool:
    spec = form.get(name)
    return spec is not None and spec.type is FieldType.SWITCH
