"""HeyGen's wire format: paths, request bodies, response models and link expiry.

v3 (developers.heygen.com, heygen-cli `gen/*.go`) is the default; the seed's v1/v2 flow
(POST /v2/video/generate, GET /v1/video_status.get) stays behind HEYGEN_API_VERSION=v2.
What HeyGen's error answers mean is in `errors`.
"""

from __future__ import annotations

import re
from typing import Any, Generic, Literal, TypeVar

import httpx
from pydantic import BaseModel, ConfigDict, Field

# --- constants ------------------------------------------------------------------------------
NAME = "heygen"
LABEL = "HeyGen"
DEFAULT_BASE_URL = "https://api.heygen.com"
API_KEY_HEADER = "X-Api-Key"
IDEMPOTENCY_HEADER = "Idempotency-Key"
DEFAULT_SIGNATURE_HEADER = "Signature"

ApiVersion = Literal["v3", "v2"]

V3_CREATE_PATH = "/v3/videos"
V3_STATUS_PATH = "/v3/videos/{video_id}"
V3_LOOKS_PATH = "/v3/avatars/looks"
V3_VOICES_PATH = "/v3/voices"
V2_CREATE_PATH = "/v2/video/generate"
V2_STATUS_PATH = "/v1/video_status.get"
V2_AVATARS_PATH = "/v2/avatars"
V2_VOICES_PATH = "/v2/voices"

# Page sizes are the documented maxima (looks 1-50, voices 1-100); the page cap only guards
# against a list that never says it has no more.
LOOKS_PAGE_LIMIT = 50
VOICES_PAGE_LIMIT = 100
MAX_CATALOG_PAGES = 200
VOICE_TYPES = ("public", "private")

MAX_SCRIPT_CHARS = 5000
MAX_TITLE_CHARS = 100
DEFAULT_BACKGROUND = "#FFFFFF"
# v3 takes the ratio itself; v2 takes pixels (even numbers, 128-4096).
ASPECTS: dict[str, tuple[int, int]] = {
    "16:9": (1280, 720),
    "9:16": (720, 1280),
    "1:1": (720, 720),
    "4:5": (720, 900),
    "5:4": (900, 720),
}
DEFAULT_ASPECT = "16:9"


WAITING_STAGES = frozenset({"pending", "waiting", "queued"})
WEBHOOK_EVENTS = frozenset({"avatar_video.success", "avatar_video.fail"})
V1_OK = 100


# --- request --------------------------------------------------------------------------------
class HeyGenRequest(BaseModel):
    """One avatar video as the job store keeps it; the wire body is built per API version."""

    model_config = ConfigDict(frozen=True)

    script: str
    avatar_id: str
    voice_id: str | None = None
    background: str = DEFAULT_BACKGROUND
    aspect: str = DEFAULT_ASPECT
    captions: bool = False
    test: bool = False
    title: str | None = None


def v3_body(request: HeyGenRequest, *, key: str, webhook_url: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "avatar",
        "avatar_id": request.avatar_id,
        "script": request.script,
        "aspect_ratio": request.aspect,
        "background": {"type": "color", "value": request.background},
        "callback_id": key,
    }
    # Left out, HeyGen uses the look's default_voice_id, or says a voice is needed.
    if request.voice_id:
        body["voice_id"] = request.voice_id
    if request.captions:
        body["caption"] = {"file_format": "srt", "style": "default"}
    if request.title:
        body["title"] = request.title
    if webhook_url is not None:
        body["callback_url"] = webhook_url
    return body


def v2_body(request: HeyGenRequest, *, key: str, webhook_url: str | None) -> dict[str, Any]:
    voice: dict[str, Any] = {"type": "text", "input_text": request.script}
    if request.voice_id:
        voice["voice_id"] = request.voice_id
    width, height = ASPECTS.get(request.aspect, ASPECTS[DEFAULT_ASPECT])
    body: dict[str, Any] = {
        "video_inputs": [
            {
                "character": {
                    "type": "avatar",
                    "avatar_id": request.avatar_id,
                    "avatar_style": "normal",
                },
                "voice": voice,
                "background": {"type": "color", "value": request.background},
            }
        ],
        "dimension": {"width": width, "height": height},
        "callback_id": key,
    }
    if request.captions:
        body["caption"] = True
    if request.test:
        body["test"] = True
    if request.title:
        body["title"] = request.title
    if webhook_url is not None:
        body["callback_url"] = webhook_url
    return body


# --- responses ------------------------------------------------------------------------------
class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore")


class CreatedData(_Lenient):
    video_id: str


class Created(_Lenient):
    data: CreatedData


class V3Video(_Lenient):
    id: str
    status: str
    title: str | None = None
    video_url: str | None = None
    captioned_video_url: str | None = None
    thumbnail_url: str | None = None
    duration: float | None = None
    failure_code: str | int | None = None
    failure_message: str | None = None


class V3VideoAnswer(_Lenient):
    data: V3Video


class V1Failure(_Lenient):
    code: str | int | None = None
    message: str | None = None
    detail: str | None = None


class V1Video(_Lenient):
    id: str | None = None
    status: str
    video_url: str | None = None
    video_url_caption: str | None = None
    thumbnail_url: str | None = None
    duration: float | None = None
    error: V1Failure | None = None


class V1VideoAnswer(_Lenient):
    code: int | None = None
    data: V1Video


_Item = TypeVar("_Item", bound=BaseModel)


class V3Look(_Lenient):
    id: str
    name: str
    avatar_type: str | None = None
    gender: str | None = None
    preview_image_url: str | None = None
    default_voice_id: str | None = None


class V3Voice(_Lenient):
    voice_id: str
    name: str
    language: str | None = None
    gender: str | None = None


class Page(_Lenient, Generic[_Item]):
    """One page of a v3 list: `data` plus the cursor for the next (`token=`)."""

    data: list[_Item] = Field(default_factory=list)
    has_more: bool = False
    next_token: str | None = None


class V2Avatar(_Lenient):
    avatar_id: str
    avatar_name: str
    gender: str | None = None
    preview_image_url: str | None = None


class V2AvatarsData(_Lenient):
    avatars: list[V2Avatar] = Field(default_factory=list)


class V2Avatars(_Lenient):
    data: V2AvatarsData


class V2VoicesData(_Lenient):
    voices: list[V3Voice] = Field(default_factory=list)


class V2Voices(_Lenient):
    data: V2VoicesData


# --- links ----------------------------------------------------------------------------------
_EXPIRES = re.compile(r"(?:^|[?&])Expires=(\d{9,11})(?:&|$)")


def link_expiry(url: str) -> float | None:
    """The epoch seconds of a presigned link's `Expires=` query parameter, if it has one."""
    query = httpx.URL(url).query.decode("ascii", "replace")
    found = _EXPIRES.search(query)
    return float(found.group(1)) if found else None
