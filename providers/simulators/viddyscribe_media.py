"""The local ViddyScribe's media desk: what an upload makes (a link, a multipart file, a signed
upload PUT to its storage), upload verification and canonical ids, and which media a generate
may use.

Written from the documents, never from the client (see `viddyscribe`).
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from aiohttp import BodyPartReader, web

from providers.simulators.viddyscribe_data import (
    AUDIO_HINT,
    LONG_HINT,
    LONG_SECONDS,
    NORMAL_SECONDS,
)
from providers.simulators.viddyscribe_rules import Refusal, Source, looks_like_video
from providers.simulators.viddyscribe_state import Media

MULTIPART_MAX_BYTES = 32_000_000
PUT_LINK_SECONDS = 3600


@dataclass
class Upload:
    """A file that arrived as bytes: its name, type, size, digest and first bytes."""

    filename: str
    content_type: str
    size: int
    digest: str
    head: bytes


def uuid() -> str:
    raw = secrets.token_hex(16)
    return f"{raw[:8]}-{raw[8:12]}-4{raw[13:16]}-a{raw[17:20]}-{raw[20:]}"


def storage_error(code: str) -> web.Response:
    """A storage refusal in GCS's XML shape."""
    body = f"<?xml version='1.0' encoding='UTF-8'?><Error><Code>{code}</Code></Error>"
    return web.Response(status=403, text=body, content_type="application/xml")


@dataclass
class MediaDesk:
    now: Callable[[], float]
    verify_seconds: float = 0.2
    multipart_max_bytes: int = MULTIPART_MAX_BYTES
    max_file_bytes: int = 5 * 1024**3
    max_duration_seconds: float = 3 * 3600
    canonical_differs: bool = False
    media: dict[str, Media] = field(default_factory=dict)
    uploads: list[dict[str, Any]] = field(default_factory=list)
    put_headers: list[dict[str, str]] = field(default_factory=list)
    bytes_received: int = 0

    async def read_multipart(self, request: web.Request) -> tuple[dict[str, str], Upload | None]:
        """The form fields (`input`, `generation_config`) and the `file` part, streamed."""
        fields: dict[str, str] = {}
        upload: Upload | None = None
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader) or part.name is None:
                raise Refusal("bad_request", "Unexpected multipart part.")
            if part.name != "file":
                fields[part.name] = await part.text()
                continue
            digest, head, size = hashlib.sha256(), b"", 0
            while chunk := await part.read_chunk(1 << 16):
                size += len(chunk)
                if size > self.multipart_max_bytes:
                    raise Refusal("payload_too_large")
                digest.update(chunk)
                head += chunk[: max(0, 64 - len(head))]
            self.bytes_received += size
            kind = part.headers.get("Content-Type", "application/octet-stream")
            upload = Upload(part.filename or "video.mp4", kind, size, digest.hexdigest(), head)
        return fields, upload

    def new_media(self, source: Source, upload: Upload | None) -> Media:
        """A media made from a link or a multipart file: checked at once, ready at once."""
        if upload is not None:
            name, kind, hint = upload.filename, upload.content_type, upload.filename
        else:
            name = source.filename or PurePosixPath(urlsplit(source.value).path).name
            kind, hint = "video/mp4", f"{source.value} {source.filename}"
        if AUDIO_HINT in hint or (upload and not looks_like_video(upload.head, kind)):
            raise Refusal("no_video_stream")
        if upload is not None and upload.size > self.max_file_bytes:
            raise Refusal("file_too_large")
        duration = LONG_SECONDS if LONG_HINT in hint else NORMAL_SECONDS
        if duration > self.max_duration_seconds:
            raise Refusal("video_too_long")
        media = Media(
            uuid(),
            "url" if source.type == "url" else "file",
            name or "video.mp4",
            kind,
            duration,
            hint=hint,
        )
        if upload is not None:
            media.size, media.digest, media.head = upload.size, upload.digest, upload.head
        self.media[media.media_id] = media
        self.uploads.append({"type": media.kind, "filename": media.filename, "size": media.size})
        return media

    def signed(self, source: Source, origin: str) -> dict[str, Any]:
        """A signed upload: a pending media and the storage URL to PUT its bytes to."""
        media = Media(
            media_id=uuid(),
            kind="signed",
            filename=source.filename,
            content_type=source.content_type,
            duration=LONG_SECONDS if LONG_HINT in source.filename else NORMAL_SECONDS,
            state="pending_upload",
            put_token=secrets.token_hex(16),
            put_expires=time.time() + PUT_LINK_SECONDS,
            hint=source.filename,
        )
        media.gcs_path = f"users/sim_team/videos/{media.media_id}/{source.filename}"
        self.media[media.media_id] = media
        self.uploads.append({"type": "signed_url", "filename": source.filename})
        date = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        url = (
            f"{origin}/storage/{media.put_token}?X-Goog-Algorithm=GOOG4-RSA-SHA256"
            f"&X-Goog-Date={date}&X-Goog-Expires={PUT_LINK_SECONDS}"
            f"&X-Goog-SignedHeaders=content-type%3Bhost&X-Goog-Signature={secrets.token_hex(32)}"
        )
        return {
            "media_id": media.media_id,
            "upload_url": url,
            "gcs_path": media.gcs_path,
            "status": "pending_upload",
            "content_type": media.content_type,
        }

    async def put(self, request: web.Request) -> web.StreamResponse:
        """The storage PUT: signed for the media's content type, the bytes streamed."""
        token = request.match_info["token"]
        media = next((m for m in self.media.values() if m.put_token == token), None)
        if media is None or time.time() >= media.put_expires:
            return storage_error("ExpiredToken" if media else "AccessDenied")
        if request.headers.get("Content-Type") != media.content_type:
            return storage_error("SignatureDoesNotMatch")
        self.put_headers.append(dict(request.headers))
        digest, head, size = hashlib.sha256(), b"", 0
        async for chunk in request.content.iter_chunked(1 << 16):
            size += len(chunk)
            digest.update(chunk)
            head += chunk[: max(0, 64 - len(head))]
        self.bytes_received += size
        media.size, media.digest, media.head = size, digest.hexdigest(), head
        media.state = "uploaded"
        return web.Response(status=200)

    def notify(self, media: Media) -> None:
        if media.size > self.max_file_bytes:
            raise Refusal("file_too_large")
        if media.notified_at is None:
            media.notified_at, media.state = self.now(), "pending"

    def signed_media(self, media_id: Any, gcs_path: Any) -> Media:
        media = self.media.get(media_id) if isinstance(media_id, str) else None
        if media is None or media.kind != "signed":
            raise Refusal("not_found", "Media not found")
        if gcs_path != media.gcs_path:
            raise Refusal("bad_request", "`gcs_path` does not match the media.")
        return media

    def status(self, media: Media) -> dict[str, Any]:
        """get_upload_status: pending until checked, then completed (with its canonical id)
        or failed."""
        self.settle(media)
        state = {"completed": "completed", "failed": "failed"}.get(media.state, "pending")
        body: dict[str, Any] = {
            "media_id": media.media_id,
            "gcs_path": media.gcs_path,
            "upload_status": state,
        }
        if state == "completed":
            body["canonical_media_id"] = media.canonical or media.media_id
        return body

    def usable(self, media_id: str) -> Media:
        """The media a generate names, or the refusal ViddyScribe answers for it."""
        media = self.media.get(media_id)
        if media is None or media.superseded:
            raise Refusal("not_found", "Media not found")
        self.settle(media)
        if media.state == "failed":
            raise Refusal("upload_failed")
        if media.state not in ("created", "completed"):
            raise Refusal("upload_not_ready", upload_status=media.state)
        if media.duration > self.max_duration_seconds:
            raise Refusal("video_too_long")
        return media

    def settle(self, media: Media) -> None:
        """A notified signed upload is checked `verify_seconds` later: completed, or failed
        when no bytes (or no video) arrived. Bytes seen before keep their first media id as
        the canonical one; `canonical_differs` gives every verified upload a new one."""
        if media.state != "pending" or media.notified_at is None:
            return
        if self.now() - media.notified_at < self.verify_seconds:
            return
        if media.size == 0 or not looks_like_video(media.head, media.content_type):
            media.state = "failed"
            return
        media.state = "completed"
        earlier = next(
            (
                m
                for m in self.media.values()
                if m is not media
                and m.digest == media.digest
                and m.state == "completed"
                and not m.superseded
            ),
            None,
        )
        if earlier is not None:
            media.canonical, media.superseded = earlier.media_id, True
        elif self.canonical_differs:
            twin = replace(media, media_id=uuid(), kind="file", put_token="")
            self.media[twin.media_id] = twin
            media.canonical, media.superseded = twin.media_id, True
