"""Vizard.ai's wire format: constants, request and response models, and every code as a sentence.

Two sources disagree in places: the older public doc (vizardai.github.io) and the current
docs.vizard.ai plus Vizard's own api-reference. Where they differ this module follows the
current docs and stays lenient when reading, e.g. `viralScore` arrives as a string and
`relatedTopic` as a JSON-encoded array, while the old doc types them float and array.
"""

from __future__ import annotations

import json
import math
import posixpath
from typing import Annotated, Any, TypeVar
from urllib.parse import unquote, urlsplit

import httpx
from pydantic import AliasChoices, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from providers.base import (
    BadInput,
    Failed,
    NeedsAdmin,
    ProviderError,
    RateLimited,
    RateWindow,
    Unavailable,
)

# --- constants ------------------------------------------------------------------------------
NAME = "vizard"
LABEL = "Vizard"
DEFAULT_BASE_URL = "https://elb-api.vizard.ai/hvizard-server-front/open-api/v1"
CREATE_PATH = "/project/create"
QUERY_PATH = "/project/query/{project_id}"
API_KEY_HEADER = "VIZARDAI_API_KEY"

# docs.vizard.ai/docs/rate-limit: /project/create allows 3 a minute and 20 an hour.
RATE_WINDOWS = (RateWindow(60, 3), RateWindow(3600, 20))
RATE_LIMIT_RETRY_AFTER = 60.0

CODE_RUNNING = 1000
CODE_OK = 2000

# Vizard's own codes, not plain ISO: the old doc's table plus ru, pl and the codes the current
# supported-languages page spells its own way (mal, iw, no).
LANGUAGES: dict[str, str] = {
    "auto": "Detect automatically",
    "ar": "Arabic",
    "nl": "Dutch",
    "en": "English",
    "fr": "French",
    "de": "German",
    "hi": "Hindi",
    "id": "Indonesian",
    "it": "Italian",
    "ja": "Japanese",
    "ko": "Korean",
    "zh": "Mandarin (Simplified)",
    "zh-TW": "Mandarin (Traditional)",
    "pt": "Portuguese",
    "ru": "Russian",
    "pl": "Polish",
    "es": "Spanish",
    "tr": "Turkish",
    "uk": "Ukrainian",
    "vi": "Vietnamese",
    "mal": "Malay",
    "iw": "Hebrew",
    "no": "Norwegian",
}

PREFER_LENGTHS: dict[int, str] = {
    0: "auto",
    1: "under 30 s",
    2: "30–60 s",  # noqa: RUF001 - an en dash is the right sign for a range
    3: "60–90 s",  # noqa: RUF001
    4: "90 s–3 min",  # noqa: RUF001
}

VIDEO_EXTS = ("mp4", "3gp", "avi", "mov")

# videoType for pages Vizard fetches itself; a host matches itself and its subdomains.
VIDEO_HOSTS: dict[str, int] = {
    "youtube.com": 2,
    "youtu.be": 2,
    "drive.google.com": 3,
    "vimeo.com": 4,
    "streamyard.com": 5,
    "tiktok.com": 6,
    "twitter.com": 7,
    "x.com": 7,
    "rumble.com": 8,
    "twitch.tv": 9,
    "loom.com": 10,
    "facebook.com": 11,
    "fb.watch": 11,
    "linkedin.com": 12,
}
REMOTE_FILE = 1


def classify_url(url: str) -> tuple[int, str | None]:
    """(videoType, ext) for a link: a known site, else a remote file and its extension if usable."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower().rstrip(".")
    for suffix, video_type in VIDEO_HOSTS.items():
        if host == suffix or host.endswith("." + suffix):
            return video_type, None
    ext = posixpath.splitext(unquote(parts.path))[1].lstrip(".").lower()
    return REMOTE_FILE, (ext if ext in VIDEO_EXTS else None)


# --- models ---------------------------------------------------------------------------------
def _text(value: Any) -> Any:
    return "" if value is None else value


def _lenient_float(value: Any) -> float | None:
    """viralScore: a string "0"-"10" in current docs, a float in the old one; junk is no score."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def _lenient_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _topics(value: Any) -> list[str]:
    """relatedTopic: a JSON-encoded array in current docs, a plain array in the old one."""
    if isinstance(value, str | bytes):
        try:
            value = json.loads(value)
        except ValueError:
            return []
    if not isinstance(value, list | tuple):
        return []
    return [item.strip() for item in value if isinstance(item, str) and item.strip()]


_Text = Annotated[str, BeforeValidator(_text)]


class VizardRequest(BaseModel):
    """The body of POST /project/create, minus `webhookUrl` which the provider adds."""

    model_config = ConfigDict(populate_by_name=True)

    video_url: str = Field(alias="videoUrl")
    video_type: int = Field(alias="videoType")
    ext: str | None = None
    lang: str
    prefer_length: list[int] = Field(alias="preferLength")
    project_name: str | None = Field(default=None, alias="projectName")
    subtitle_switch: int = Field(default=1, alias="subtitleSwitch")
    headline_switch: int = Field(default=1, alias="headlineSwitch")


class VizardClip(BaseModel):
    """One entry of `videos[]` in a finished query."""

    model_config = ConfigDict(populate_by_name=True)

    video_id: Annotated[int | None, BeforeValidator(_lenient_int)] = Field(
        default=None, alias="videoId"
    )
    video_url: str = Field(alias="videoUrl")
    video_ms_duration: Annotated[float | None, BeforeValidator(_lenient_float)] = Field(
        default=None, alias="videoMsDuration"
    )
    title: _Text = ""
    transcript: _Text = ""
    viral_score: Annotated[float | None, BeforeValidator(_lenient_float)] = Field(
        default=None, alias="viralScore"
    )
    viral_reason: _Text = Field(default="", alias="viralReason")
    related_topic: Annotated[list[str], BeforeValidator(_topics)] = Field(
        default_factory=list, alias="relatedTopic"
    )
    clip_editor_url: str | None = Field(default=None, alias="clipEditorUrl")


class VizardCreateResponse(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    code: int
    # A number in every example, "string" in the docs table, `projectid` in the old doc's table.
    project_id: int | str | None = Field(
        default=None, validation_alias=AliasChoices("projectId", "projectid")
    )
    share_link: str | None = Field(default=None, alias="shareLink")
    err_msg: str | None = Field(default=None, alias="errMsg")


class VizardQueryResponse(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    code: int
    project_id: int | str | None = Field(default=None, alias="projectId")
    project_name: str | None = Field(default=None, alias="projectName")
    share_link: str | None = Field(default=None, alias="shareLink")
    videos: list[VizardClip] = Field(default_factory=list)
    err_msg: str | None = Field(default=None, alias="errMsg")


# --- codes ----------------------------------------------------------------------------------
# Every documented code except 1000 (processing) and 2000 (success). 4005 means "broken file"
# in the current docs and "invalid video url" in the old one, so its sentence covers both.
CODES: dict[int, tuple[type[ProviderError], str]] = {
    4001: (
        NeedsAdmin,
        "Vizard refused Reelbot's API key, so a workspace admin must update VIZARD_API_KEY.",
    ),
    4002: (Failed, "Vizard could not clip this video; try again later or with another video."),
    4003: (
        RateLimited,
        "Vizard's request limit is reached for now, so Reelbot will try again in a minute.",
    ),
    4004: (
        BadInput,
        "Vizard cannot use this video format, so send an mp4, 3gp, avi or mov file or a link "
        "from a site Vizard supports.",
    ),
    4005: (
        BadInput,
        "Vizard could not use this video because the link is invalid or the file is broken, "
        "so check that it plays and send a working link.",
    ),
    4006: (
        BadInput,
        "Vizard rejected these options, so check the language and clip lengths and try again.",
    ),
    4007: (
        NeedsAdmin,
        "The Vizard account has run out of processing minutes, so a workspace admin must add "
        "minutes or upgrade the Vizard plan.",
    ),
    4008: (
        BadInput,
        "Vizard could not download the video, so share a public link that needs no login and "
        "try again.",
    ),
    4009: (BadInput, "Vizard cannot use this link, so send a full http:// or https:// address."),
    4010: (
        BadInput,
        "Vizard could not detect the spoken language, so try again with lang= set explicitly "
        "instead of auto.",
    ),
    -1000: (
        BadInput,
        "Vizard rejected the request, so check the link and options and try again.",
    ),
}


def error_for(code: int) -> ProviderError:
    known = CODES.get(code)
    if known is None:
        return Failed(f"Vizard could not finish this video (code {code}).", code=str(code))
    cls, sentence = known
    if cls is RateLimited:
        return RateLimited(sentence, retry_after=RATE_LIMIT_RETRY_AFTER, code=str(code))
    return cls(sentence, code=str(code))


def unreadable() -> Unavailable:
    return Unavailable(
        "Vizard sent an answer Reelbot could not read; Reelbot will keep trying.",
        code="malformed",
    )


_M = TypeVar("_M", bound=BaseModel)


def read_body(response: httpx.Response, model: type[_M]) -> _M:
    """The documented JSON body, whatever the HTTP status (Vizard reports errors by `code`)."""
    try:
        return model.model_validate_json(response.content)
    except ValidationError:
        if response.status_code == httpx.codes.TOO_MANY_REQUESTS:
            raise error_for(4003) from None
        # `from None`: the validation error quotes the body, which must not reach the logs.
        raise unreadable() from None
