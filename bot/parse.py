"""Command text and modal state -> provider requests, for any provider's form.

Pure: no I/O, and every refusal is a sentence for the person who typed it. Each value is
checked by its field's type here; the provider's `build_request` then applies its own rules.
"""

from __future__ import annotations

import ipaddress
import shlex
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

from pydantic import BaseModel

from bot.ids import SWITCHES_BLOCK
from bot.mrkdwn import quoted
from providers.base import Description
from providers.forms import FieldError, FieldType, Form, FormField

MAX_TEXT = 2000
PROVIDER_OPTION = "provider"
_TRUE = {"on", "yes", "true", "1"}
_FALSE = {"off", "no", "false", "0"}
_HELP_WORDS = {"help", "-h", "--help", "?"}


class HasForm(Protocol):
    """A provider (or its plugin) as help text needs it."""

    @property
    def name(self) -> str: ...

    @property
    def label(self) -> str: ...

    @property
    def form(self) -> Form: ...


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


@dataclass(frozen=True)
class Invalid:
    message: str


@dataclass(frozen=True)
class Submit:
    provider: str
    request: BaseModel
    description: Description


@dataclass(frozen=True)
class ModalErrors:
    errors: dict[str, str] = field(default_factory=dict)


Command = ShowHelp | OpenModal | Invalid | Submit


# --- one value, checked by its field's type --------------------------------------------------
def _has_control(text: str, *, newlines: bool = False) -> bool:
    allowed = "\t\n\r " if newlines else "\t "
    return any(unicodedata.category(ch) in {"Cc", "Cf"} and ch not in allowed for ch in text)


def _unescape(text: str) -> str:
    # Slack escapes exactly these three in message and command text; &amp; goes last.
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _unwrap_slack_link(token: str) -> str:
    # Slack sends links as <https://x|label> or <https://x>.
    if token.startswith("<") and token.endswith(">"):
        return token[1:-1].split("|", 1)[0]
    return token


def is_private_host(host: str) -> bool:
    """A host name that names this machine or a private, loopback or link-local address."""
    host = host.strip("[]").rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return not address.is_global


def _check_url(spec: FormField, raw: str, label: str) -> str:
    url = _unwrap_slack_link(raw.strip())
    limit = spec.max_length or MAX_TEXT
    if not url:
        example = spec.placeholder or "https://example.com/talk.mp4"
        raise FieldError(spec.name, f"Give me a link to the video, e.g. `{example}`.")
    if len(url) > limit:
        raise FieldError(spec.name, f"That link is longer than {limit} characters.")
    if _has_control(url) or any(ch.isspace() for ch in url):
        raise FieldError(spec.name, "That link contains spaces or control characters.")
    try:
        parts = urlsplit(url)
        hostname = parts.hostname
        _ = parts.port  # raises on a port that is not a number
    except ValueError:
        raise FieldError(spec.name, "That link is not a valid web address.") from None
    if parts.scheme.lower() not in {"http", "https"}:
        shown = quoted(parts.scheme or url[:20])
        raise FieldError(spec.name, f"Only http:// and https:// links can be used (got {shown}).")
    if not hostname:
        raise FieldError(spec.name, "That link has no host name.")
    if parts.username or parts.password:
        raise FieldError(
            spec.name, f"Links with a user name or password in them can't be shared with {label}."
        )
    if is_private_host(hostname):
        raise FieldError(spec.name, f"That link points at a private address {label} cannot reach.")
    return url


def _check_text(spec: FormField, raw: str) -> str | None:
    text = raw.strip()
    if _has_control(text, newlines=spec.multiline):
        raise FieldError(spec.name, f"The {spec.label.lower()} contains control characters.")
    if spec.max_length is not None and len(text) > spec.max_length:
        raise FieldError(
            spec.name,
            f"The {spec.label.lower()} is longer than {spec.max_length:,} characters "
            f"({len(text):,}).",
        )
    if not text and spec.required:
        raise FieldError(spec.name, f"Give me the {spec.label.lower()}.")
    return text or None


def _choices_help(spec: FormField) -> str:
    # "English (en)" already names its code: list the codes alone.
    if all(c.label.endswith(f"({c.value})") for c in spec.choices):
        return ", ".join(f"`{c.value}`" for c in spec.choices)
    return ", ".join(
        f"`{c.value}`" if c.label == c.value else f"`{c.value}` ({c.label})" for c in spec.choices
    )


def _check_choice(spec: FormField, raw: str, label: str) -> str:
    choice = spec.choice(raw)
    if choice is None:
        raise FieldError(
            spec.name,
            f"{quoted(raw)} is not a {spec.label.lower()} {label} knows. "
            f"Use one of: {_choices_help(spec)}.",
        )
    return choice.value


def _check_choices(spec: FormField, raws: Sequence[str]) -> tuple[str, ...]:
    chosen: list[str] = []
    for raw in raws:
        if not raw.strip():
            continue
        choice = spec.choice(raw)
        if choice is None:
            raise FieldError(
                spec.name,
                f"{quoted(raw)} is not one of the {spec.label.lower()}. "
                f"Use one or more of: {_choices_help(spec)}.",
            )
        if choice.value not in chosen:
            chosen.append(choice.value)
    least = spec.minimum or 0
    if len(chosen) < least:
        raise FieldError(
            spec.name,
            f"Pick at least {least} of the {spec.label.lower()}: {_choices_help(spec)}.",
        )
    if spec.maximum is not None and len(chosen) > spec.maximum:
        raise FieldError(spec.name, f"Pick at most {spec.maximum} of the {spec.label.lower()}.")
    for choice in spec.choices:
        if choice.alone and choice.value in chosen and len(chosen) > 1:
            word = choice.aliases[0] if choice.aliases else choice.label
            raise FieldError(
                spec.name,
                f"`{word}` ({choice.value}) can't be combined with other {spec.label.lower()}.",
            )
    return tuple(chosen)


def _check_switch(spec: FormField, raw: str) -> bool:
    word = raw.strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise FieldError(
        spec.name,
        f"{quoted(f'{spec.name}={raw}')} is not valid: use `{spec.name}=on` or `{spec.name}=off`.",
    )


def _check_integer(spec: FormField, raw: str) -> int:
    low, high = spec.minimum, spec.maximum
    span = f" from {low} to {high}" if low is not None and high is not None else ""
    try:
        number = int(raw.strip())
    except ValueError:
        raise FieldError(
            spec.name, f"{quoted(raw)} is not a whole number; give the {spec.label.lower()}{span}."
        ) from None
    if (low is not None and number < low) or (high is not None and number > high):
        raise FieldError(spec.name, f"The {spec.label.lower()} must be{span} (got {number}).")
    return number


def check_value(spec: FormField, raw: str, label: str) -> Any:
    """One value as typed in a command, checked by its field's type."""
    match spec.type:
        case FieldType.URL:
            return _check_url(spec, raw, label)
        case FieldType.TEXT:
            return _check_text(spec, raw)
        case FieldType.CHOICE:
            return _check_choice(spec, raw, label)
        case FieldType.CHOICES:
            return _check_choices(spec, raw.split(","))
        case FieldType.SWITCH:
            return _check_switch(spec, raw)
        case FieldType.INTEGER:
            return _check_integer(spec, raw)


def _defaults(form: Form) -> dict[str, Any]:
    return {f.name: f.default for f in form.fields}


def _submit(offer: Offer, values: dict[str, Any]) -> Submit:
    request = offer.build_request(values)
    return Submit(offer.name, request, offer.describe(request))


# --- command text ----------------------------------------------------------------------------
def parse_command(text: str, offers: Mapping[str, Offer], default: str) -> Command:
    """A slash command's text -> help, the modal, a refusal or a request for one provider.

    `offers` are the configured providers of the command's kind (at least one), `default`
    the one used when the text names none (`provider=`).
    """
    if len(text) > MAX_TEXT:
        return Invalid(f"That's {len(text):,} characters; a command takes at most {MAX_TEXT:,}.")
    if _has_control(text):
        return Invalid("Your text contains control characters; please retype the command.")
    stripped = text.strip()
    if stripped.lower() in _HELP_WORDS:
        return ShowHelp()
    normalised = stripped.translate({0x201C: '"', 0x201D: '"', 0x2018: "'", 0x2019: "'"})
    try:
        tokens = shlex.split(normalised)
    except ValueError:
        return Invalid(
            'A quote is not closed. Put a value with spaces in quotes: `name="My talk"`.'
        )
    subjects, options = _split(tokens)
    if isinstance(options, Invalid):
        return options
    chosen = options.pop(PROVIDER_OPTION, None)
    if chosen is not None and chosen.lower() not in offers:
        names = ", ".join(f"`{n}`" for n in offers)
        return Invalid(f"{quoted(f'provider={chosen}')} is not set up here. Use one of: {names}.")
    offer = offers[chosen.lower() if chosen else default]
    if not subjects and not options:
        return OpenModal(offer.name)
    return _parse_for(offer, subjects, options, several=len(offers) > 1)


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
            options[key] = _unescape(value)
        else:
            subjects.append(_unescape(_unwrap_slack_link(token)))
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
    values = _defaults(form)
    try:
        values[subject.name] = check_value(subject, " ".join(subjects), offer.label)
        for key, raw in options.items():
            spec = form.get(key)
            assert spec is not None
            values[key] = check_value(spec, raw, offer.label)
        return _submit(offer, values)
    except FieldError as refusal:
        return Invalid(refusal.message)


def help_text(
    command: str,
    noun: str,
    offers: Sequence[HasForm],
    unconfigured: Sequence[tuple[str, str]] = (),
) -> str:
    """Every option of every provider offered, and what an admin must set for the others.

    `unconfigured` pairs a provider's label with the variable that would enable it.
    """
    lines: list[str] = []
    for label, variable in unconfigured:
        lines.append(
            f":warning: {label} is not set up here yet: a workspace admin must set {variable}."
        )
    if len(offers) > 1:
        names = ", ".join(f"`{o.name}`" for o in offers)
        lines.append(f"Choose a provider with `provider=` ({names}; default `{offers[0].name}`).")
    for offer in offers:
        lines.extend(_form_help(command, offer))
    lines.append(
        f"The {noun} arrive as replies in the thread of the message I post; "
        "the Cancel button there stops tracking."
    )
    return "\n".join(lines)


def _form_help(command: str, offer: HasForm) -> list[str]:
    form = offer.form
    subject = form.subject_field.label.lower()
    lines = [
        f"*{form.summary}*",
        f"`{command} <{subject}> [options]` submits it; `{command}` alone opens a form.",
        "Options, each `key=value` after it:",
    ]
    for spec in form.options:
        lines.append(f"• {_option_help(spec)}")
    lines.extend(form.notes)
    lines.append(f"Example: `{command} {form.example}`")
    return lines


def _option_help(spec: FormField) -> str:
    match spec.type:
        case FieldType.SWITCH:
            default = " (default on)" if spec.default else " (default off)"
            return f"`{spec.name}=on|off` {spec.help}{default}"
        case FieldType.CHOICE | FieldType.CHOICES:
            default = spec.default
            if isinstance(default, tuple | list):
                default = ",".join(default)
            shown = f" (default `{default}`)" if default not in (None, "") else ""
            return f"`{spec.name}=` {spec.help}: {_choices_help(spec)}{shown}"
        case FieldType.INTEGER:
            span = f" ({spec.minimum}–{spec.maximum})" if spec.maximum is not None else ""  # noqa: RUF001
            return f"`{spec.name}=` {spec.help}{span}"
        case _:
            return f"`{spec.name}=` {spec.help}"


# --- modal state -----------------------------------------------------------------------------
def _element(values: Mapping[str, Any], block: str) -> dict[str, Any]:
    element = values.get(block, {}).get(block, {})
    return element if isinstance(element, dict) else {}


def _modal_raw(spec: FormField, values: Mapping[str, Any], switches: set[str]) -> Any:
    element = _element(values, spec.name)
    match spec.type:
        case FieldType.CHOICE:
            selected = element.get("selected_option") or {}
            return str(selected.get("value", "")) or None
        case FieldType.CHOICES:
            return [str(o.get("value", "")) for o in element.get("selected_options") or []]
        case FieldType.SWITCH:
            return spec.name in switches
        case _:
            value = element.get("value")
            return None if value is None else str(value)


def parse_modal(values: Mapping[str, Any], offer: Offer) -> Submit | ModalErrors:
    """`view.state.values` of a provider's modal -> a request, or an error per block."""
    form = offer.form
    switches = {
        str(o.get("value")) for o in _element(values, SWITCHES_BLOCK).get("selected_options") or []
    }
    errors: dict[str, str] = {}
    checked = _defaults(form)
    for spec in form.fields:
        raw = _modal_raw(spec, values, switches)
        try:
            if spec.type is FieldType.SWITCH:
                checked[spec.name] = bool(raw)
            elif spec.type is FieldType.CHOICES:
                checked[spec.name] = _check_choices(spec, raw)
            elif raw is None or raw == "":
                if spec.required:
                    checked[spec.name] = check_value(spec, "", offer.label)
                elif spec.type is FieldType.TEXT:
                    checked[spec.name] = None
            else:
                checked[spec.name] = check_value(spec, raw, offer.label)
        except FieldError as refusal:
            errors[spec.name] = refusal.message
    if errors:
        return ModalErrors(errors)
    try:
        return _submit(offer, checked)
    except FieldError as refusal:
        block = SWITCHES_BLOCK if _is_switch(form, refusal.name) else refusal.name
        return ModalErrors({block: refusal.message})


def _is_switch(form: Form, name: str) -> bool:
    spec = form.get(name)
    return spec is not None and spec.type is FieldType.SWITCH
