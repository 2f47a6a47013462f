"""How a Cuttr request is asked for in Slack: the fields, and the rules that join them.

The names are the `/clip` options: `clips=3 style=viral length=30 framing=speaker-zoom hook=3
captions=on heading=auto prompt="find the demos"`; `heading=` is `auto` (Cuttr writes one per
clip) or the heading's own text.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from providers.base import MediaFile
from providers.cuttr.api import (
    BG_COLORS,
    COLORS,
    FONTS,
    MAX_CLIPS,
    MAX_HEADING_INSTRUCTIONS,
    MAX_HOOK,
    MAX_LENGTH,
    MIN_CLIPS,
    MIN_HOOK,
    MIN_LENGTH,
    POSITIONS,
    STYLES,
    Captions,
    CuttrRequest,
    Heading,
)
from providers.forms import FILE_VALUE, Choice, FieldError, FieldType, Form, FormField

MAX_URL = 2000
MAX_HEADING = 200  # assumed: no limit is documented for the heading text
MAX_PROMPT = 2000  # assumed: `prompt` has no documented limit
AUTO = "auto"
_FRAMING = {
    "standard": "Standard (blurred background)",
    "facecam": "Facecam (gameplay and facecam apart)",
    "speaker-zoom": "Speaker zoom",
    "center-crop": "Center crop",
    "active-speaker": "Active speaker (several people)",
}


def _choices(values: tuple[str, ...]) -> tuple[Choice, ...]:
    return tuple(Choice(v, v[:1].upper() + v[1:]) for v in values)


def _fonts() -> tuple[Choice, ...]:
    return tuple(Choice(f, f, aliases=(f.replace(" ", "-"), f.replace(" ", ""))) for f in FONTS)


FORM = Form(
    subject="url",
    summary="Cut a long video into vertical clips with Cuttr (paid per clip from the team wallet)",
    example="https://example.com/talk.mp4 clips=3 style=viral length=30 captions=on heading=auto",
    switches_label="Captions",
    takes_files=True,
    fields=(
        FormField(
            "url", "Video link", FieldType.URL,
            "a YouTube, Twitch, Vimeo… page or a direct video link (or use the message "
            "shortcut on an uploaded video)",
            required=True, max_length=MAX_URL, placeholder="https://example.com/talk.mp4",
        ),
        FormField(
            "clips", "Number of clips", FieldType.INTEGER,
            f"how many clips ({MIN_CLIPS}-{MAX_CLIPS}); each is paid from the team wallet",
            default=3, minimum=MIN_CLIPS, maximum=MAX_CLIPS,
        ),
        FormField(
            "style", "Clipping style", FieldType.CHOICE, "what the clips are picked for",
            choices=_choices(STYLES),
        ),
        FormField(
            "length", "Target length (seconds)", FieldType.INTEGER,
            f"each clip's target length, {MIN_LENGTH}-{MAX_LENGTH} s; empty lets Cuttr decide",
            minimum=MIN_LENGTH, maximum=MAX_LENGTH,
        ),
        FormField(
            "framing", "Framing", FieldType.CHOICE, "how the video is framed for 9:16",
            choices=tuple(Choice(v, label) for v, label in _FRAMING.items()),
        ),
        FormField(
            "hook", "Hook (seconds)", FieldType.INTEGER,
            f"the attention-grabbing opening, {MIN_HOOK}-{MAX_HOOK} s; empty lets Cuttr decide",
            minimum=MIN_HOOK, maximum=MAX_HOOK,
        ),
        FormField(
            "prompt", "Instructions", FieldType.TEXT,
            'what to look for, e.g. "find the demos"; use quotes in a command',
            max_length=MAX_PROMPT, multiline=True, placeholder="Find the product demos",
        ),
        FormField(
            "heading", "Heading", FieldType.TEXT,
            "a heading on every clip: `auto` lets Cuttr write one per clip, or give its text",
            max_length=MAX_HEADING, placeholder="auto",
        ),
        FormField(
            "heading_style", "Heading style", FieldType.CHOICE,
            "stroke (outlined text) or instagram (text on a pill)",
            choices=(Choice("stroke", "Stroke (outlined text)"),
                     Choice("instagram", "Instagram (text on a pill)")),
        ),
        FormField(
            "heading_color", "Heading colour", FieldType.CHOICE,
            "the heading's colour (stroke style)", choices=_choices(COLORS),
        ),
        FormField(
            "heading_bg", "Heading pill", FieldType.CHOICE,
            "the pill's colour (instagram style)", choices=_choices(BG_COLORS),
        ),
        FormField(
            "heading_font", "Heading font", FieldType.CHOICE, "the heading's font",
            choices=_fonts(),
        ),
        FormField(
            "heading_position", "Heading position", FieldType.CHOICE, "where the heading sits",
            choices=_choices(POSITIONS),
        ),
        FormField(
            "heading_instructions", "Heading instructions", FieldType.TEXT,
            f"how Cuttr should write automatic headings (up to {MAX_HEADING_INSTRUCTIONS:,} "
            "characters)",
            max_length=MAX_HEADING_INSTRUCTIONS, multiline=True,
        ),
        FormField(
            "captions", "Burn in captions", FieldType.SWITCH, "captions burnt into the clips",
            default=False,
        ),
        FormField(
            "caption_color", "Caption highlight colour", FieldType.CHOICE,
            "the captions' highlight colour", choices=_choices(COLORS),
        ),
        FormField(
            "caption_font", "Caption font", FieldType.CHOICE, "the captions' font",
            choices=_fonts(),
        ),
        FormField(
            "music", "Background music link", FieldType.URL,
            "an MP3, WAV or AAC file mixed into every clip at 30% volume",
            max_length=MAX_URL, placeholder="https://example.com/music.mp3",
        ),
    ),
)  # fmt: skip

_HEADING_LOOKS = ("heading_style", "heading_color", "heading_bg", "heading_font",
                  "heading_position")  # fmt: skip


def _text(values: Mapping[str, Any], name: str) -> str | None:
    value = values.get(name)
    text = "" if value is None else str(value).strip()
    return text or None


def _int(values: Mapping[str, Any], name: str) -> int | None:
    value = values.get(name)
    return None if value is None or value == "" else int(value)


def _heading(values: Mapping[str, Any]) -> tuple[bool | None, Heading | None]:
    said = _text(values, "heading")
    auto = said is not None and said.lower() == AUTO
    looks = {name: _text(values, name) for name in _HEADING_LOOKS}
    instructions = _text(values, "heading_instructions")
    if said is None and (any(looks.values()) or instructions):
        named = next(name for name, v in looks.items() if v) if any(looks.values()) else None
        raise FieldError(
            named or "heading_instructions",
            "These heading options need a heading: give `heading=auto` or the heading's text.",
        )
    if instructions and not auto:
        raise FieldError(
            "heading_instructions",
            "Heading instructions guide automatic headings, so give `heading=auto` with them.",
        )
    style = looks["heading_style"]
    if looks["heading_color"] and style == "instagram":
        raise FieldError(
            "heading_color",
            "An instagram heading takes its colour from the pill: pick the pill colour, or the "
            "stroke style for a heading colour.",
        )
    if looks["heading_bg"] and style != "instagram":
        raise FieldError(
            "heading_bg", "The pill colour belongs to the instagram heading style: pick it too."
        )
    if said is None:
        return None, None
    heading = Heading(
        text=None if auto else said,
        style=style,
        color=looks["heading_color"],
        font=looks["heading_font"],
        position=looks["heading_position"],
        bg_color=looks["heading_bg"],
        instructions=instructions,
    )
    has_look = any(v is not None for v in heading.model_dump().values())
    return (True if auto else None), (heading if has_look else None)


def _media_file(value: Any) -> MediaFile:
    try:
        return value if isinstance(value, MediaFile) else MediaFile.model_validate(value)
    except ValueError:
        raise FieldError("url", "Reelbot could not read this file's name and size.") from None


def _canonical(values: Mapping[str, Any]) -> dict[str, Any]:
    """Each choice as Cuttr spells it (`anton` -> `Anton`); FieldError for one it lacks."""
    found = dict(values)
    for spec in FORM.fields:
        word = _text(values, spec.name)
        if spec.type is not FieldType.CHOICE or word is None:
            continue
        choice = spec.choice(word)
        if choice is None:
            shown = ", ".join(c.value for c in spec.choices)
            raise FieldError(spec.name, f"Pick one of {shown} for {spec.name}.")
        found[spec.name] = choice.value
    return found


def build_request(values: Mapping[str, Any]) -> CuttrRequest:
    """Checked form values -> the create; FieldError when fields do not fit together."""
    values = _canonical(values)
    url = _text(values, "url")
    raw_file = values.get(FILE_VALUE)
    if url and raw_file is not None:
        raise FieldError("url", "Give a link or a file to clip, not both.")
    if url is None and raw_file is None:
        raise FieldError("url", "Give me a link to the video to clip.")
    media = _media_file(raw_file) if raw_file is not None else None
    if media is not None and not media.content_type.lower().startswith("video/"):
        raise FieldError("url", "Cuttr clips videos (mp4, mov, avi, mkv, webm): pick a video.")
    if media is not None and _text(values, "music"):
        raise FieldError(
            "music",
            "With an uploaded video Cuttr takes background music as a file, not a link: leave "
            "the music out, or clip the video from a link.",
        )
    auto_heading, heading = _heading(values)
    captions_on = bool(values.get("captions", False))
    color, font = _text(values, "caption_color"), _text(values, "caption_font")
    if (color or font) and not captions_on:
        raise FieldError(
            "caption_color" if color else "caption_font",
            "Caption colour and font apply to burnt-in captions: turn `captions=on` too.",
        )
    captions = Captions(enabled=True, color=color, font=font) if captions_on else None
    return CuttrRequest(
        video_url=url,
        file=media,
        num_clips=_int(values, "clips") or 3,
        style=_text(values, "style"),
        length=_int(values, "length"),
        prompt=_text(values, "prompt"),
        camera_mode=_text(values, "framing"),
        hook_length=_int(values, "hook"),
        auto_heading=auto_heading,
        heading=heading,
        captions=captions,
        music_url=_text(values, "music"),
    )
