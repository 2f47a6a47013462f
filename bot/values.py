"""One value a person typed or picked, checked by its form field's type. Pure: no I/O, and
every refusal is a FieldError whose message is a sentence for that person."""

from __future__ import annotations

import ipaddress
import unicodedata
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from bot.ids import NO_CHOICE
from bot.mrkdwn import quoted
from providers.forms import FieldError, FieldType, FormField

MAX_TEXT = 2000
MAX_ID = 200
_TRUE = {"on", "yes", "true", "1"}
_FALSE = {"off", "no", "false", "0"}


# Format characters that belong in written text: joiners inside emoji and scripts, the soft
# hyphen, direction marks and emoji tag sequences. Links never need them.
_WRITING = frozenset("\u200c\u200d\u00ad\u200e\u200f\u061c\u2060\ufe0e\ufe0f")


def _in_writing(ch: str) -> bool:
    return ch in _WRITING or 0xE0020 <= ord(ch) <= 0xE007F


def without_controls(text: str) -> str:
    """Prose with the characters `has_control` refuses taken out (a message's hidden
    zero-width spaces, say), so a form prefilled from it can be sent as it shows."""
    return "".join(
        ch
        for ch in text
        if ch in "\t\n\r" or unicodedata.category(ch) not in {"Cc", "Cf"} or _in_writing(ch)
    )


def has_control(text: str, *, newlines: bool = False, writing: bool = False) -> bool:
    """Control or invisible format characters; `writing` allows those that prose uses."""
    allowed = "\t\n\r " if newlines else "\t "
    return any(
        unicodedata.category(ch) in {"Cc", "Cf"}
        and ch not in allowed
        and not (writing and _in_writing(ch))
        for ch in text
    )


def unescape(text: str) -> str:
    # Slack escapes exactly these three in message and command text; &amp; goes last.
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def unwrap_slack_link(token: str) -> str:
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
    url = unwrap_slack_link(raw.strip())
    limit = spec.max_length or MAX_TEXT
    if not url:
        example = spec.placeholder or "https://example.com/talk.mp4"
        raise FieldError(spec.name, f"Give me a link to the video, e.g. `{example}`.")
    if len(url) > limit:
        raise FieldError(spec.name, f"That link is longer than {limit} characters.")
    if has_control(url) or any(ch.isspace() for ch in url):
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
    if has_control(text, newlines=spec.multiline, writing=True):
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


def choices_help(spec: FormField) -> str:
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
            f"Use one of: {choices_help(spec)}.",
        )
    return choice.value


def check_choices(spec: FormField, raws: Sequence[str]) -> tuple[str, ...]:
    chosen: list[str] = []
    for raw in raws:
        if not raw.strip():
            continue
        choice = spec.choice(raw)
        if choice is None:
            raise FieldError(
                spec.name,
                f"{quoted(raw)} is not one of the {spec.label.lower()}. "
                f"Use one or more of: {choices_help(spec)}.",
            )
        if choice.value not in chosen:
            chosen.append(choice.value)
    least = spec.minimum or 0
    if len(chosen) < least:
        raise FieldError(
            spec.name,
            f"Pick at least {least} of the {spec.label.lower()}: {choices_help(spec)}.",
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


def _check_id(spec: FormField, raw: str) -> str | None:
    value = raw.strip()
    if not value or value == NO_CHOICE:
        if spec.required:
            raise FieldError(spec.name, f"Pick the {spec.label.lower()}.")
        return None
    if len(value) > MAX_ID or any(ch.isspace() for ch in value) or has_control(value):
        raise FieldError(
            spec.name,
            f"{quoted(value[:40])} is not a {spec.label.lower()} id; pick one in the form "
            f"(run the command alone) or give its id, e.g. `{spec.name}=<id>`.",
        )
    return value


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
            return check_choices(spec, raw.split(","))
        case FieldType.SWITCH:
            return _check_switch(spec, raw)
        case FieldType.INTEGER:
            return _check_integer(spec, raw)
        case FieldType.LOOKUP:
            return _check_id(spec, raw)
