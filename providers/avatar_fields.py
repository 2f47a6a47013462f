"""The fields every avatar provider's form has: the script to say and a background colour.

Each provider keeps its own words (help, placeholder, the sentence a wrong value gets); the
field's shape and the #RRGGBB check are the same everywhere and live here.
"""

from __future__ import annotations

import re

from providers.forms import FieldError, FieldType, FormField

HEX_COLOUR = re.compile(r"#?([0-9A-Fa-f]{6})")


def script_field(max_chars: int, *, help: str, placeholder: str) -> FormField:
    """The script, the form's subject: `help` may say `{max_chars:,}` for the limit."""
    return FormField(
        name="script",
        label="Script",
        type=FieldType.TEXT,
        help=help.format(max_chars=max_chars),
        required=True,
        max_length=max_chars,
        multiline=True,
        placeholder=placeholder,
    )


def background_field(default: str, *, help: str, placeholder: str | None = None) -> FormField:
    """The background colour as hex, `default` when left out (and as placeholder unless given)."""
    return FormField(
        name="background",
        label="Background colour",
        type=FieldType.TEXT,
        help=help,
        default=default,
        max_length=7,
        placeholder=default if placeholder is None else placeholder,
    )


def script_line(script: str, limit: int) -> str:
    """The script's start on one line, at most `limit` characters (cut with "…")."""
    line = " ".join(script.split())
    if len(line) > limit:
        line = line[: limit - 1].rstrip() + "…"
    return line


def checked_colour(colour: str, problem: str) -> str:
    """`colour` ("#0a84ff" or "0A84FF") as "#0A84FF"; FieldError saying `problem` otherwise."""
    matched = HEX_COLOUR.fullmatch(colour)
    if matched is None:
        raise FieldError("background", problem)
    return "#" + matched.group(1).upper()
