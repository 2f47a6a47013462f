"""How a Vizard request is asked for in Slack: the fields, and the rules that join them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from providers.forms import Choice, FieldError, FieldType, Form, FormField
from providers.vizard.api import (
    LANGUAGES,
    PREFER_LENGTHS,
    REMOTE_FILE,
    VIDEO_EXTS,
    VizardRequest,
    classify_url,
)

MAX_NAME = 100

FORM = Form(
    subject="url",
    summary="Turn a long video into short clips with Vizard",
    example="https://example.com/talk.mp4 lang=en length=1,2 subtitles=off",
    switches_label="Extras",
    fields=(
        FormField(
            name="url",
            label="Video link",
            type=FieldType.URL,
            help="a direct .mp4/.mov/.avi/.3gp link or a YouTube, Vimeo, Loom… page",
            required=True,
            max_length=2000,
            placeholder="https://example.com/talk.mp4",
        ),
        FormField(
            name="lang",
            label="Spoken language",
            type=FieldType.CHOICE,
            help="the spoken language",
            choices=tuple(Choice(code, f"{name} ({code})") for code, name in LANGUAGES.items()),
            default="auto",
        ),
        FormField(
            name="length",
            label="Clip lengths",
            type=FieldType.CHOICES,
            help="clip lengths, comma-separated",
            choices=tuple(
                Choice(str(n), label, aliases=(label,) if n == 0 else (), alone=n == 0)
                for n, label in PREFER_LENGTHS.items()
            ),
            default=("0",),
            minimum=1,
        ),
        FormField(
            name="subtitles",
            label="Burn in subtitles",
            type=FieldType.SWITCH,
            help="subtitles burnt into the clips",
            default=True,
        ),
        FormField(
            name="headline",
            label="Add a headline",
            type=FieldType.SWITCH,
            help="a headline on each clip",
            default=True,
        ),
        FormField(
            name="name",
            label="Project name",
            type=FieldType.TEXT,
            help='a project name; use quotes for spaces: `name="Q3 all-hands"`',
            max_length=MAX_NAME,
        ),
    ),
)


def build_request(values: Mapping[str, Any]) -> VizardRequest:
    """Checked form values -> the create body; FieldError when fields do not fit together."""
    url = str(values["url"])
    video_type, ext = classify_url(url)
    if video_type == REMOTE_FILE and ext is None:
        kinds = ", ".join(f".{e}" for e in VIDEO_EXTS)
        raise FieldError(
            "url",
            f"Vizard needs a direct link to a video file ({kinds}) or a YouTube, Vimeo, "
            "Google Drive, Loom, TikTok, Twitch or similar page.",
        )
    lengths = sorted({int(n) for n in values.get("length") or ("0",)})
    name = values.get("name")
    return VizardRequest(
        video_url=url,
        video_type=video_type,
        ext=ext,
        lang=str(values.get("lang") or "auto"),
        prefer_length=lengths,
        project_name=str(name) if name else None,
        subtitle_switch=int(bool(values.get("subtitles", True))),
        headline_switch=int(bool(values.get("headline", True))),
    )
