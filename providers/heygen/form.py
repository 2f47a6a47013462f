"""How a HeyGen avatar video is asked for in Slack: the fields, and the rules that join them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from providers.avatar_fields import background_field, checked_colour, script_field
from providers.forms import Choice, FieldError, FieldType, Form, FormField
from providers.heygen.api import (
    ASPECTS,
    DEFAULT_ASPECT,
    DEFAULT_BACKGROUND,
    MAX_SCRIPT_CHARS,
    MAX_TITLE_CHARS,
    ApiVersion,
    HeyGenRequest,
)

_ASPECT_LABELS = {
    "16:9": "16:9 landscape",
    "9:16": "9:16 portrait",
    "1:1": "1:1 square",
    "4:5": "4:5 portrait",
    "5:4": "5:4 landscape",
}


def _script_field(max_chars: int) -> FormField:
    return script_field(
        max_chars,
        help="what the avatar says, up to {max_chars:,} characters",
        placeholder="Hi team, here is this week's update…",
    )


FORM = Form(
    subject="script",
    summary="Make an avatar video from a script with HeyGen",
    example='avatar=Daisy-inskirt-20220818 aspect=9:16 title="Welcome" Welcome to the team!',
    switches_label="Options",
    fields=(
        _script_field(MAX_SCRIPT_CHARS),
        FormField(
            name="avatar",
            label="Avatar",
            type=FieldType.LOOKUP,
            help="the avatar look that presents the script (its id in a command)",
            required=True,
        ),
        FormField(
            name="voice",
            label="Voice",
            type=FieldType.LOOKUP,
            help="the voice that reads the script; leave it out to use the avatar's own voice",
        ),
        background_field(
            DEFAULT_BACKGROUND, help="a hex colour such as #0A84FF", placeholder="#FFFFFF"
        ),
        FormField(
            name="aspect",
            label="Aspect ratio",
            type=FieldType.CHOICE,
            help="the video's shape",
            choices=tuple(Choice(ratio, _ASPECT_LABELS[ratio]) for ratio in ASPECTS),
            default=DEFAULT_ASPECT,
        ),
        FormField(
            name="captions",
            label="Add captions",
            type=FieldType.SWITCH,
            help="captions burnt into the video",
            default=False,
        ),
        FormField(
            name="test",
            label="Test mode (free, watermarked)",
            type=FieldType.SWITCH,
            help="HeyGen's free test mode: a watermarked video that uses no credits",
            default=False,
        ),
        FormField(
            name="title",
            label="Title",
            type=FieldType.TEXT,
            help='a title for the video; use quotes for spaces: `title="Q3 update"`',
            max_length=MAX_TITLE_CHARS,
        ),
    ),
)


def form_for(api_version: ApiVersion, max_script_chars: int = MAX_SCRIPT_CHARS) -> Form:
    """The form one configuration offers: v3 has no test mode, so it has no test switch."""
    fields = tuple(
        _script_field(max_script_chars) if f.name == "script" else f
        for f in FORM.fields
        if not (f.name == "test" and api_version == "v3")
    )
    return replace(FORM, fields=fields)


def _text(values: Mapping[str, Any], name: str) -> str:
    value = values.get(name)
    return "" if value is None else str(value).strip()


def build_request(
    values: Mapping[str, Any],
    *,
    api_version: ApiVersion = "v3",
    max_script_chars: int = MAX_SCRIPT_CHARS,
) -> HeyGenRequest:
    """Checked form values -> the request; FieldError when a value does not fit HeyGen."""
    script = _text(values, "script")
    if not script:
        raise FieldError("script", "Write the script the avatar should say.")
    if len(script) > max_script_chars:
        raise FieldError(
            "script",
            f"HeyGen takes scripts of up to {max_script_chars:,} characters; this one has "
            f"{len(script):,}.",
        )
    avatar = _text(values, "avatar")
    if not avatar:
        raise FieldError("avatar", "Pick an avatar (or ask an admin to set a default avatar).")
    colour = _text(values, "background") or DEFAULT_BACKGROUND
    background = checked_colour(
        colour, f"Give the background as a hex colour such as #0A84FF, not {colour!r}."
    )
    aspect = _text(values, "aspect") or DEFAULT_ASPECT
    if aspect not in ASPECTS:
        raise FieldError("aspect", f"Pick one of {', '.join(ASPECTS)}.")
    test = bool(values.get("test", False))
    if test and api_version == "v3":
        raise FieldError(
            "test",
            "HeyGen's v3 API has no test mode, so turn test mode off (an admin can switch "
            "Reelbot to HEYGEN_API_VERSION=v2 where test mode still works).",
        )
    title = _text(values, "title")
    if len(title) > MAX_TITLE_CHARS:
        raise FieldError("title", f"Keep the title to {MAX_TITLE_CHARS} characters.")
    return HeyGenRequest(
        script=script,
        avatar_id=avatar,
        voice_id=_text(values, "voice") or None,
        background=background,
        aspect=aspect,
        captions=bool(values.get("captions", False)),
        test=test,
        title=title or None,
    )
