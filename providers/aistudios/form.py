"""How an AI Studios video is asked for in Slack: the fields, and the rules that join them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from providers.aistudios.api import (
    DEFAULT_BACKGROUND,
    DEFAULT_MAX_SCRIPT_CHARS,
    ORIENTATIONS,
    AIStudiosRequest,
    Orientation,
)
from providers.avatar_fields import background_field, checked_colour, script_field, script_line
from providers.forms import Choice, FieldError, FieldType, Form, FormField

MAX_TITLE = 100
EXCERPT_CHARS = 80


def _script_field(max_chars: int) -> FormField:
    return script_field(
        max_chars,
        help="what the avatar says, as plain text (at most {max_chars:,} characters)",
        placeholder="Hello everyone, here is this week's update…",
    )


FORM = Form(
    subject="script",
    summary="Make an avatar video with DeepBrain AI Studios",
    example="provider=aistudios avatar=M000045058 outfit=BG00002320 Hello team, the weekly update.",
    fields=(
        _script_field(DEFAULT_MAX_SCRIPT_CHARS),
        FormField(
            name="avatar",
            label="Avatar",
            type=FieldType.LOOKUP,
            help="the AI Studios avatar (model id) who presents",
            required=True,
            placeholder="Search avatars",
        ),
        FormField(
            name="outfit",
            label="Outfit",
            type=FieldType.LOOKUP,
            help="what the avatar wears (clothes id, one of the chosen avatar's)",
            required=True,
            placeholder="Pick an outfit",
            depends_on=("avatar",),
        ),
        background_field(DEFAULT_BACKGROUND, help="the background colour as #RRGGBB"),
        FormField(
            name="orientation",
            label="Orientation",
            type=FieldType.CHOICE,
            help="landscape (16:9) or portrait (9:16)",
            choices=(
                Choice("landscape", "Landscape (16:9)", aliases=("16:9", "horizontal")),
                Choice("portrait", "Portrait (9:16)", aliases=("9:16", "vertical")),
            ),
            default="landscape",
        ),
        FormField(
            name="title",
            label="Title",
            type=FieldType.TEXT,
            help='the project name; use quotes for spaces: `title="Weekly update"`',
            max_length=MAX_TITLE,
        ),
    ),
)


def form_for(max_script_chars: int) -> Form:
    """The form with this workspace's script limit (AISTUDIOS_MAX_SCRIPT_CHARS)."""
    fields = tuple(
        _script_field(max_script_chars) if f.name == "script" else f for f in FORM.fields
    )
    return replace(FORM, fields=fields)


def _id(values: Mapping[str, Any], name: str) -> str | None:
    value = values.get(name)
    text = str(value).strip() if value is not None else ""
    return text or None


def build_request(
    values: Mapping[str, Any], *, max_script_chars: int = DEFAULT_MAX_SCRIPT_CHARS
) -> AIStudiosRequest:
    """Checked form values -> the request; FieldError when fields do not fit together."""
    script = str(values.get("script") or "").strip()
    if not script:
        raise FieldError("script", "Give the script the avatar should say.")
    if len(script) > max_script_chars:
        raise FieldError(
            "script",
            f"The script is {len(script):,} characters; AI Studios takes at most "
            f"{max_script_chars:,} here.",
        )
    model_id = _id(values, "avatar")
    if model_id is None:
        raise FieldError(
            "avatar",
            "Pick an AI Studios avatar (or ask an admin to set AISTUDIOS_DEFAULT_MODEL_ID).",
        )
    cloth_id = _id(values, "outfit")
    if cloth_id is None:
        raise FieldError(
            "outfit",
            "Pick an outfit for the avatar (or ask an admin to set AISTUDIOS_DEFAULT_CLOTHES_ID).",
        )
    colour = str(values.get("background") or DEFAULT_BACKGROUND).strip()
    background = checked_colour(
        colour, f"The background colour must be #RRGGBB, like {DEFAULT_BACKGROUND}."
    )
    orientation = str(values.get("orientation") or "landscape").strip().lower()
    if orientation not in ORIENTATIONS:
        raise FieldError("orientation", "The orientation must be landscape or portrait.")
    oriented: Orientation = "portrait" if orientation == "portrait" else "landscape"
    title = str(values.get("title") or "").strip()
    return AIStudiosRequest(
        script=script,
        model_id=model_id,
        cloth_id=cloth_id,
        background=background,
        orientation=oriented,
        title=title[:MAX_TITLE] or None,
    )


def excerpt(script: str, limit: int = EXCERPT_CHARS) -> str:
    """The script's start on one line, quoted: how a request reads in a message."""
    return f'"{script_line(script, limit)}"'
