"""What the local Cuttr accepts: a Create Clip body as JSON or as multipart form data, the
per-key rate limit, and how it refuses.

Written from the documents, never from the client (see `cuttr`). A check that fails raises
`Refusal` with a code of `cuttr_data.ERRORS`; `answer` turns it into the response. A 400
names the field at fault, as the JSON body spells it ("heading.color") or as the form does
("heading_color"); its shape, like every error body's, is assumed: the documents give the
messages only.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from aiohttp import BodyPartReader, web

from providers.simulators.cuttr_data import (
    BG_COLORS,
    CAMERA_MODES,
    CAPTION_FIELDS,
    COLORS,
    ERRORS,
    FILE_PART,
    FONTS,
    FORM_FIELDS,
    HEADING_FIELDS,
    HEADING_STYLES,
    HOOK_LENGTH,
    JSON_FIELDS,
    LENGTH,
    MAX_HEADING_INSTRUCTIONS,
    MUSIC_EXTENSIONS,
    MUSIC_PART,
    NUM_CLIPS,
    POSITIONS,
    STYLES,
    VIDEO_EXTENSIONS,
)


class Refusal(Exception):
    def __init__(
        self, code: str, message: str | None = None, *, retry_after: int | None = None
    ) -> None:
        super().__init__(code)
        self.code, self.message, self.retry_after = code, message, retry_after


def answer(refusal: Refusal) -> web.Response:
    """{"error": message, "message": message}, with Retry-After when it says when to retry."""
    status, message = ERRORS.get(refusal.code, (400, "Bad request"))
    message = refusal.message or message
    headers = {}
    if refusal.retry_after is not None:
        headers["Retry-After"] = str(refusal.retry_after)
    body = {"error": message, "message": message}
    return web.json_response(body, status=status, headers=headers)


def rate(calls: deque[float], per_minute: int, now: float) -> None:
    """At most `per_minute` requests in any 60 s; a refused request takes no slot (assumed)."""
    while calls and now - calls[0] >= 60:
        calls.popleft()
    if len(calls) >= per_minute:
        wait = max(1, math.ceil(60 - (now - calls[0])))
        raise Refusal("rate_limited", retry_after=wait)
    calls.append(now)


@dataclass(frozen=True)
class FilePart:
    """A file that arrived in the form, seen once as it streamed by."""

    filename: str
    content_type: str
    size: int
    sha256: str

    def shown(self) -> dict[str, Any]:
        return {
            "filename": self.filename,
            "content_type": self.content_type,
            "size": self.size,
            "sha256": self.sha256,
        }


@dataclass(frozen=True)
class Order:
    """What an accepted create asks for, as far as the simulator's answers need it."""

    num_clips: int
    length: int | None
    source: str  # the video_url, or the uploaded file's name
    prompt: str


# --- field checks -------------------------------------------------------------------------
_Check = Callable[[Any, str], Any]


def _integer(low: int, high: int) -> _Check:
    def check(value: Any, name: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise Refusal("bad_request", f"{name} must be an integer from {low} to {high}")
        return value

    return check


def _choice(allowed: frozenset[str]) -> _Check:
    def check(value: Any, name: str) -> str:
        if value not in allowed:
            raise Refusal("bad_request", f"{name} must be one of {', '.join(sorted(allowed))}")
        return str(value)

    return check


def _text(most: int | None = None) -> _Check:
    def check(value: Any, name: str) -> str:
        if not isinstance(value, str):
            raise Refusal("bad_request", f"{name} must be a string")
        if most is not None and len(value) > most:
            raise Refusal("bad_request", f"{name} must be at most {most} characters")
        return value

    return check


def _flag(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise Refusal("bad_request", f"{name} must be true or false")
    return value


def _url(value: Any, name: str) -> str:
    parts = urlsplit(value) if isinstance(value, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise Refusal("bad_request", f"{name} must be an http(s) URL")
    return str(value)


# Every field by its JSON path ("heading.color"); the form's name is the path with "_".
_CHECKS: dict[str, _Check] = {
    "video_url": _url,
    "num_clips": _integer(*NUM_CLIPS),
    "style": _choice(STYLES),
    "length": _integer(*LENGTH),
    "prompt": _text(),
    "camera_mode": _choice(CAMERA_MODES),
    "hook_length": _integer(*HOOK_LENGTH),
    "auto_heading": _flag,
    "heading.text": _text(),
    "heading.style": _choice(HEADING_STYLES),
    "heading.color": _choice(COLORS),
    "heading.font": _choice(FONTS),
    "heading.position": _choice(POSITIONS),
    "heading.bg_color": _choice(BG_COLORS),
    "heading.instructions": _text(MAX_HEADING_INSTRUCTIONS),
    "captions.enabled": _flag,
    "captions.color": _choice(COLORS),
    "captions.font": _choice(FONTS),
    "music_url": _url,
}
_INTEGERS = frozenset({"num_clips", "length", "hook_length"})
_FLAGS = frozenset({"auto_heading", "captions.enabled"})
_NUMBER = re.compile(r"-?[0-9]+")


def _checked(flat: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    """Each given field checked; null counts as left out (assumed)."""
    return {
        path: _CHECKS[path](value, names[path]) for path, value in flat.items() if value is not None
    }


def _order(values: dict[str, Any], source: str, *, need_url: bool) -> Order:
    if need_url and "video_url" not in values:
        raise Refusal("bad_request", "video_url is required (or upload a file)")
    if "num_clips" not in values:
        # assumed: the documents give no default, so a create without it is refused.
        raise Refusal("bad_request", "num_clips is required")
    return Order(
        num_clips=values["num_clips"],
        length=values.get("length"),
        source=values.get("video_url") or source,
        prompt=values.get("prompt", ""),
    )


def parse_json(body: Any) -> Order:
    """A JSON create: every field known, in range, and a video_url."""
    if not isinstance(body, dict):
        raise Refusal("bad_request", "The request body must be a JSON object")
    flat: dict[str, Any] = {}
    for name, value in body.items():
        if name not in JSON_FIELDS:
            raise Refusal("bad_request", f"Unknown field {name}")
        if name not in ("heading", "captions") or value is None:
            flat[name] = value
            continue
        if not isinstance(value, dict):
            raise Refusal("bad_request", f"{name} must be an object")
        known = HEADING_FIELDS if name == "heading" else CAPTION_FIELDS
        for inner, inner_value in value.items():
            if inner not in known:
                raise Refusal("bad_request", f"Unknown field {name}.{inner}")
            flat[f"{name}.{inner}"] = inner_value
    return _order(_checked(flat, {path: path for path in flat}), "", need_url=True)


def parse_form(fields: dict[str, str], video: FilePart | None) -> Order:
    """A multipart create: its text fields as the JSON body's, and exactly one video source."""
    flat: dict[str, Any] = {}
    names: dict[str, str] = {}
    for name, raw in fields.items():
        path = re.sub(r"^(heading|captions)_", r"\1.", name)
        names[path] = name
        value: Any = raw
        if path in _INTEGERS and _NUMBER.fullmatch(raw):
            value = int(raw)
        elif path in _FLAGS:
            if raw not in ("true", "false"):
                raise Refusal("bad_request", f'{name} must be "true" or "false"')
            value = raw == "true"
        flat[path] = value
    values = _checked(flat, names)
    if video is not None and "video_url" in values:
        raise Refusal("bad_request", "Give either video_url or file, not both")
    if video is None and "video_url" not in values:
        raise Refusal("bad_request", "file is required (or give video_url)")
    return _order(values, video.filename if video else "", need_url=False)


# --- multipart ----------------------------------------------------------------------------
async def read_form(
    request: web.Request, most_bytes: int
) -> tuple[dict[str, str], FilePart | None, FilePart | None]:
    """The text fields, the video file and the music file, the files streamed and hashed
    (never held). Unknown or repeated parts, wrong file types and bodies over `most_bytes`
    are refused as soon as they are seen."""
    fields: dict[str, str] = {}
    files: dict[str, FilePart] = {}
    received = 0
    reader = await request.multipart()
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader) or part.name is None:
            raise Refusal("bad_request", "Unexpected multipart part")
        name = part.name
        if name in fields or name in files:
            raise Refusal("bad_request", f"{name} was given more than once")
        if name not in (FILE_PART, MUSIC_PART):
            if name not in FORM_FIELDS:
                raise Refusal("bad_request", f"Unknown field {name}")
            fields[name] = await part.text()
            received += len(fields[name])
            continue
        allowed = VIDEO_EXTENSIONS if name == FILE_PART else MUSIC_EXTENSIONS
        filename = part.filename or ""
        if PurePosixPath(filename).suffix.lower().lstrip(".") not in allowed:
            kinds = ", ".join(sorted(allowed))
            raise Refusal("bad_request", f"{name} must be a file of type {kinds}")
        digest, size = hashlib.sha256(), 0
        while chunk := await part.read_chunk(1 << 16):
            size += len(chunk)
            if received + size > most_bytes:
                raise Refusal("payload_too_large")
            digest.update(chunk)
        if size == 0:
            raise Refusal("bad_request", f"{name} is empty")  # assumed
        received += size
        kind = part.headers.get("Content-Type", "application/octet-stream")
        files[name] = FilePart(filename, kind, size, digest.hexdigest())
    return fields, files.get(FILE_PART), files.get(MUSIC_PART)
