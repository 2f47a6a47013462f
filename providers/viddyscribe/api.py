"""ViddyScribe's wire format: paths, the request as the job store keeps it, response models,
job refs, signed-link expiry and how a finished job's text output reads.

Sources: docs.viddyscribe.com (overview, upload-media, large-local-file-upload, the three
generate guides, get-job-results with its OpenAPI), summarised in shared/providers.md section
4. What ViddyScribe's error answers mean is in `errors`; how a file is uploaded in `upload`.
"""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime
from typing import Any, Literal

import httpx
from pydantic import BaseModel, ConfigDict, model_validator

from providers.base import MediaFile

# --- constants ------------------------------------------------------------------------------
NAME = "viddyscribe"
LABEL = "ViddyScribe"
DEFAULT_BASE_URL = "https://api.viddyscribe.com"
API_KEY_HEADER = "X-API-Key"

PREFIX = "/enterprise/api"
UPLOAD_PATH = f"{PREFIX}/upload_media"
NOTIFY_PATH = f"{PREFIX}/notify_upload_complete"
UPLOAD_STATUS_PATH = f"{PREFIX}/get_upload_status"
RESULTS_PATH = f"{PREFIX}/get_results"

OutputKind = Literal["text", "audio", "video"]
TextFormat = Literal["json", "vtt", "srt", "edl"]
AdType = Literal["standard_ad", "extended_ad"]

GENERATE_PATHS: dict[OutputKind, str] = {
    "text": f"{PREFIX}/generate_ad_text",
    "audio": f"{PREFIX}/generate_ad_audio",
    "video": f"{PREFIX}/generate_ad_video",
}
OUTPUTS: tuple[OutputKind, ...] = ("text", "audio", "video")
FORMATS: tuple[TextFormat, ...] = ("json", "vtt", "srt", "edl")
# The overview says vtt is the default format (the text guide says json): Reelbot always
# sends the format, so the difference never matters.
DEFAULT_FORMAT: TextFormat = "vtt"
DEFAULT_LANGUAGE = "en-US"
DEFAULT_CATEGORY = "Auto"

# Direct multipart upload takes local files "up to 32 MB"; whether that is 10^6 or 2^20 bytes
# is not said, so the smaller reading is the line above which the signed flow is used.
MULTIPART_MAX_BYTES = 32_000_000
# Signed links (video_signed_url, audio_signed_url) "expire in 15 min".
LINK_TTL_SECONDS = 15 * 60

# What each text format is as a file: its extension and media type.
FILE_TYPES: dict[str, tuple[str, str]] = {
    "json": ("json", "application/json"),
    "vtt": ("vtt", "text/vtt"),
    "srt": ("srt", "application/x-subrip"),
    "edl": ("edl", "text/plain"),
}
FORMAT_NAMES = {"json": "JSON", "vtt": "WebVTT", "srt": "SubRip", "edl": "EDL"}
FILE_STEM = "audio-description"
AUDIO_FILE = (f"{FILE_STEM}.wav", "audio/wav")


# --- request --------------------------------------------------------------------------------
class ViddyScribeRequest(BaseModel):
    """One audio description: the video (a link or a file) and its generation options."""

    model_config = ConfigDict(frozen=True)

    url: str | None = None
    file: MediaFile | None = None
    language: str = DEFAULT_LANGUAGE
    category: str = DEFAULT_CATEGORY
    output: OutputKind = "text"
    format: TextFormat = DEFAULT_FORMAT
    voice: str | None = None
    ad_type: AdType = "standard_ad"
    instructions: str | None = None
    onscreen: bool = False

    @model_validator(mode="after")
    def _one_video(self) -> ViddyScribeRequest:
        if (self.url is None) == (self.file is None):
            raise ValueError("a request names its video by exactly one of url and file")
        return self


def generation_config(request: ViddyScribeRequest) -> dict[str, Any]:
    """The documented `generation_config` object for a request."""
    config: dict[str, Any] = {
        "language": request.language,
        "video_category": request.category,
        "format": request.format,
        "ad_type": request.ad_type,
        "read_all_onscreen_text": request.onscreen,
    }
    if request.instructions:
        config["custom_instructions"] = request.instructions
    # A voice reads the descriptions aloud: only audio and video jobs have one.
    if request.voice and request.output != "text":
        config["voice"] = request.voice
    return config


def generate_body(request: ViddyScribeRequest, source: dict[str, str]) -> dict[str, Any]:
    """A generate call's JSON body: `source` is the `input` ({type: url|media_id, ...})."""
    return {"input": source, "generation_config": generation_config(request)}


# --- responses ------------------------------------------------------------------------------
class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Generated(_Lenient):
    job_id: str
    status: str | None = None
    media_id: str | None = None


class Uploaded(_Lenient):
    media_id: str
    status: str | None = None
    duration_seconds: float | None = None
    frame_rate: float | None = None


class SignedUpload(_Lenient):
    media_id: str
    upload_url: str
    gcs_path: str
    status: str | None = None
    content_type: str | None = None


class UploadStatus(_Lenient):
    media_id: str | None = None
    upload_status: str = ""
    canonical_media_id: str | None = None


class Results(_Lenient):
    job_id: str | None = None
    status: str
    media_id: str | None = None
    video_signed_url: str | None = None
    audio_signed_url: str | None = None
    result_url: str | None = None  # the older spec's name for video_signed_url
    output: Any = None
    error_code: str | None = None
    error: str | None = None


# --- job refs -------------------------------------------------------------------------------
def job_ref(output: OutputKind, text_format: TextFormat, job_id: str) -> str:
    """The ref the bot keeps: get_results does not say which endpoint made a job, so the
    output kind and text format travel with the job id ("video:vtt:task_abc123")."""
    return f"{output}:{text_format}:{job_id}"


def parse_ref(ref: str) -> tuple[OutputKind | None, TextFormat | None, str]:
    """(output, format, job_id) from a ref; a bare job id has neither (they are inferred)."""
    parts = ref.split(":", 2)
    if len(parts) == 3 and parts[0] in OUTPUTS and parts[1] in FORMATS and parts[2]:
        output = next(o for o in OUTPUTS if o == parts[0])
        text_format = next(f for f in FORMATS if f == parts[1])
        return output, text_format, parts[2]
    return None, None, ref


# --- links ----------------------------------------------------------------------------------
_GOOG_DATE = re.compile(r"^\d{8}T\d{6}Z$")


def link_expiry(url: str) -> float | None:
    """When a signed link stops working (epoch seconds), from its own query: a GCS V4
    signature's X-Goog-Date + X-Goog-Expires, or a V2 signature's Expires."""
    params = httpx.URL(url).params
    date, expires = params.get("X-Goog-Date", ""), params.get("X-Goog-Expires", "")
    if _GOOG_DATE.match(date) and expires.isdigit():
        signed = datetime.strptime(date, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        return signed.timestamp() + int(expires)
    epoch = params.get("Expires", "")
    return float(epoch) if epoch.isdigit() and 9 <= len(epoch) <= 11 else None


def expiry(url: str, ttl: float) -> float:
    return link_expiry(url) or time.time() + ttl


# --- text outputs ---------------------------------------------------------------------------
def _segments(output: Any) -> list[Any] | None:
    """The JSON format's segments: `output.segments` (the reference), `output.items` (the
    quickstart) or a bare array."""
    if isinstance(output, list):
        return output
    if isinstance(output, dict):
        for name in ("segments", "items"):
            found = output.get(name)
            if isinstance(found, list):
                return found
    return None


def output_format(output: Any) -> TextFormat | None:
    """The format a job's `output` says it is in, when a ref does not say."""
    if isinstance(output, dict):
        named = output.get("format")
        if isinstance(named, str) and named.lower() in FORMATS:
            return next(f for f in FORMATS if f == named.lower())
    return "json" if _segments(output) is not None else None


def output_text(output: Any, text_format: TextFormat) -> str | None:
    """A finished job's descriptions as the file's text, or None when there are none.

    vtt/srt/edl come as `{format, content}` (or, in the quickstart, under the format's own
    name); json comes as segments, written out as indented JSON so it stays readable.
    """
    if text_format == "json":
        segments = _segments(output)
        if segments is None:
            return None
        return json.dumps(segments, indent=2, ensure_ascii=False) + "\n"
    if isinstance(output, str):
        return output or None
    if not isinstance(output, dict):
        return None
    for name in ("content", text_format):
        found = output.get(name)
        if isinstance(found, str) and found.strip():
            return found
    return None
