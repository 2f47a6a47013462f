"""Cuttr's wire format: paths, the documented options, the request and how it is sent.

From the Create Clip and Get Job Status pages (shared/providers.md section 5). A create is
JSON with `video_url`, or multipart form data with `file` and the same options flat
(`heading_text` for `heading.text`, `captions_enabled` for `captions.enabled`). The answer
carries `cost_cents`, what Cuttr charged the team wallet up front.

Not documented, so assumed and read leniently: the fields inside `clips[]` (a link under
`url`, `download_url` or `video_url`; `title`; a length under `duration`, `duration_s` or
`length`; `thumbnail_url` or `thumbnail`) and a failed job (`status: "failed"` with `error`
or `message`). The whole answer is kept on the job, so what Cuttr really sent can be read.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from providers.base import MediaFile

NAME = "cuttr"
LABEL = "Cuttr"
DEFAULT_BASE_URL = "https://api.cuttr.com/api/platform"
CREATE_PATH = "/v1/clip"
STATUS_PATH = "/v1/clip/{job_id}"
TEST_PATH = "/v1/test"
API_KEY_HEADER = "X-API-Key"
# 60 requests a minute per key, polls included.
REQUESTS_PER_MINUTE = 60
# The Create Clip page's price; the Wallet page says $0.50 (CUTTR_PRICE_CENTS_PER_CLIP).
PRICE_CENTS_PER_CLIP = 150

STYLES = ("viral", "business", "general", "gaming")
CAMERA_MODES = ("standard", "facecam", "speaker-zoom", "center-crop", "active-speaker")
COLORS = (
    "white", "black", "red", "orange", "yellow", "green", "teal", "blue", "purple", "pink",
)  # fmt: skip
FONTS = (
    "Proxima Nova", "Montserrat", "Luckiest Guy", "Everlasting", "Komika", "Burbank",
    "Bebas Neue", "Anton",
)  # fmt: skip
HEADING_STYLES = ("stroke", "instagram")
POSITIONS = ("top", "middle", "bottom")
BG_COLORS = ("black", "white")
MIN_CLIPS, MAX_CLIPS = 1, 10
MIN_LENGTH, MAX_LENGTH = 10, 180
MIN_HOOK, MAX_HOOK = 2, 15
MAX_HEADING_INSTRUCTIONS = 1500

Style = Literal["viral", "business", "general", "gaming"]
CameraMode = Literal["standard", "facecam", "speaker-zoom", "center-crop", "active-speaker"]


class Heading(BaseModel):
    """`heading{}`: custom text (or none, with auto_heading) and its look."""

    model_config = ConfigDict(frozen=True)

    text: str | None = None
    style: Literal["stroke", "instagram"] | None = None
    color: str | None = None  # stroke style only
    font: str | None = None
    position: Literal["top", "middle", "bottom"] | None = None
    bg_color: Literal["black", "white"] | None = None  # instagram style only
    instructions: str | None = Field(default=None, max_length=MAX_HEADING_INSTRUCTIONS)


class Captions(BaseModel):
    model_config = ConfigDict(frozen=True)

    enabled: bool
    color: str | None = None
    font: str | None = None


class CuttrRequest(BaseModel):
    """One create, in Cuttr's own field names: the video (a link or a file) and its options."""

    model_config = ConfigDict(frozen=True)

    video_url: str | None = None
    file: MediaFile | None = None
    num_clips: int = Field(default=3, ge=MIN_CLIPS, le=MAX_CLIPS)
    style: Style | None = None
    length: int | None = Field(default=None, ge=MIN_LENGTH, le=MAX_LENGTH)
    prompt: str | None = None
    camera_mode: CameraMode | None = None
    hook_length: int | None = Field(default=None, ge=MIN_HOOK, le=MAX_HOOK)
    auto_heading: bool | None = None
    heading: Heading | None = None
    captions: Captions | None = None
    music_url: str | None = None

    @model_validator(mode="after")
    def _one_video(self) -> CuttrRequest:
        if (self.video_url is None) == (self.file is None):
            raise ValueError("a request names its video by exactly one of video_url and file")
        return self


def json_body(request: CuttrRequest) -> dict[str, Any]:
    """The JSON create body (a link)."""
    return request.model_dump(mode="json", exclude_none=True, exclude={"file"})


def form_fields(request: CuttrRequest) -> dict[str, str]:
    """The multipart create's text fields (a file): the options flat, booleans as "true"."""

    def text(value: Any) -> str:
        return ("true" if value else "false") if isinstance(value, bool) else str(value)

    body = json_body(request)
    flat: dict[str, str] = {}
    for name, value in body.items():
        if name == "video_url":
            continue
        if name in ("heading", "captions"):
            for inner, part in value.items():
                flat[f"{name}_{inner}"] = text(part)
        else:
            flat[name] = text(value)
    return flat


class Created(BaseModel):
    """The create's answer: `{job_id, num_clips, cost_cents, status: "processing"}`."""

    job_id: str
    num_clips: int | None = None
    cost_cents: int | None = None
    status: str | None = None
