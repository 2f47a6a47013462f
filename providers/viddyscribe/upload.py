"""Uploading a video's bytes to ViddyScribe: multipart up to 32 MB, the signed flow above.

Signed flow (large-local-file-upload): upload_media {input: {type: signed_url, filename,
content_type}} -> PUT the bytes to `upload_url` with that Content-Type -> notify_upload_complete
{media_id, gcs_path} -> poll get_upload_status until `upload_status` is completed -> generate
with `canonical_media_id` when it differs from `media_id`.

Nothing here creates a description job, so every failure to reach ViddyScribe is raised as
Unavailable with NOT_SENT: the bot may start the whole request again. The API key goes to the
API only, never to the storage host the bytes are PUT to.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from providers.base import NOT_SENT, Failed, RateLimited, SharedState, Unavailable
from providers.http import never_sent, send
from providers.viddyscribe.api import (
    LABEL,
    NOTIFY_PATH,
    UPLOAD_PATH,
    UPLOAD_STATUS_PATH,
    SignedUpload,
    Uploaded,
    UploadStatus,
)
from providers.viddyscribe.errors import (
    NOT_READY_RETRY_AFTER,
    error_for,
    error_from_response,
    unreadable,
)

log = logging.getLogger(__name__)

_M = TypeVar("_M", bound=BaseModel)
_NOT_REACHED = f"{LABEL} did not take the video's upload; Reelbot will try again."
_SHORT_FILE = "Reelbot could not read the whole video file; it will try again."


class Media(BaseModel):
    """An uploaded video: its id, its storage path (signed flow), whether ViddyScribe was told
    the bytes are there and whether it verified them."""

    media_id: str
    gcs_path: str | None = None
    notified: bool = True
    ready: bool = False
    # When ViddyScribe was told the bytes are there (epoch seconds): its check is given up
    # after CHECK_GIVE_UP_SECONDS.
    notified_at: float | None = None


# How long an uploaded video's media id is kept for its job (assumed: media lifetime is not
# documented), so a generate that must wait does not upload the bytes again.
MEDIA_TTL_SECONDS = 6 * 3600
# How long an upload's check may take before it is given up (assumed: not documented).
CHECK_GIVE_UP_SECONDS = 2 * 3600


class MediaCache:
    """The media uploaded for each job key, in the store's shared state (every replica sees
    it), or in this process when there is none."""

    def __init__(self, shared: SharedState | None, prefix: str) -> None:
        self._shared, self._prefix = shared, prefix
        self._local: dict[str, tuple[float, str]] = {}

    def _name(self, key: str) -> str:
        return f"{self._prefix}:media:{key}"

    async def recall(self, key: str) -> Media | None:
        name = self._name(key)
        if self._shared is not None:
            raw = await self._shared.shared_get(name)
        else:
            until, local = self._local.get(name, (0.0, ""))
            raw = local if until > time.monotonic() else None
        if not raw:
            return None
        try:
            return Media.model_validate_json(raw)
        except ValidationError:
            return None

    async def remember(self, key: str, media: Media) -> None:
        name, value = self._name(key), media.model_dump_json()
        if self._shared is not None:
            await self._shared.shared_put(name, value, MEDIA_TTL_SECONDS)
        else:
            self._local[name] = (time.monotonic() + MEDIA_TTL_SECONDS, value)

    async def forget(self, key: str) -> None:
        name = self._name(key)
        if self._shared is not None:
            await self._shared.shared_delete(name)
        else:
            self._local.pop(name, None)


class _SizeMismatch(Exception):
    pass


class _Counted:
    """The byte source, counted as it streams; more or fewer bytes than announced stop it."""

    def __init__(self, chunks: AsyncIterator[bytes], size: int) -> None:
        self._chunks, self._size, self.sent = chunks, size, 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._chunks:
            self.sent += len(chunk)
            if self.sent > self._size:
                raise _SizeMismatch
            yield chunk
        if self.sent != self._size:
            raise _SizeMismatch


def _read(response: httpx.Response, model: type[_M], secrets: tuple[str, ...]) -> _M:
    if response.status_code >= 300:
        raise error_from_response(response, secrets=secrets)
    try:
        return model.model_validate_json(response.content)
    except ValidationError:
        raise unreadable() from None


async def _unsent(work: Awaitable[httpx.Response]) -> httpx.Response:
    """A step before any job exists: not reaching ViddyScribe means nothing was created."""
    try:
        return await work
    except Unavailable:
        raise Unavailable(_NOT_REACHED, code=NOT_SENT) from None


async def _once(
    client: httpx.AsyncClient, method: str, url: str, **kwargs: object
) -> httpx.Response:
    """One request that cannot be repeated (its body streams once): any failure is NOT_SENT."""
    path = httpx.URL(url).path
    try:
        response = await client.request(method, url, **kwargs)  # type: ignore[arg-type]
    except httpx.TransportError as exc:
        log.debug(
            "%s %s failed (%s, sent: %s)", method, path, type(exc).__name__, not never_sent(exc)
        )
        raise Unavailable(_NOT_REACHED, code=NOT_SENT) from None
    log.debug("%s %s -> %d", method, path, response.status_code)
    if response.status_code >= 500:
        raise Unavailable(_NOT_REACHED, code=NOT_SENT)
    return response


def _allowed_upload_url(url: str, api_origin: httpx.URL) -> bool:
    """Bytes go to an https address, or to the API's own origin (a simulator on loopback)."""
    try:
        target = httpx.URL(url)
    except httpx.InvalidURL:
        return False
    if target.scheme == "https" and target.host:
        return True
    same = (target.scheme, target.host, target.port)
    return same == (api_origin.scheme, api_origin.host, api_origin.port)


async def upload_file(
    api: httpx.AsyncClient,
    storage: httpx.AsyncClient,
    *,
    chunks: AsyncIterator[bytes],
    size: int,
    name: str,
    content_type: str,
    multipart_max_bytes: int,
    secrets: tuple[str, ...],
) -> Media:
    """Upload the bytes: a multipart upload is ready at once; a signed one has its bytes in
    storage and still needs `verified` (notify, then its check)."""
    if size <= multipart_max_bytes:
        return await _multipart(
            api, chunks=chunks, size=size, name=name, content_type=content_type, secrets=secrets
        )
    return await _signed(
        api,
        storage,
        chunks=chunks,
        size=size,
        name=name,
        content_type=content_type,
        secrets=secrets,
    )


async def _multipart(
    api: httpx.AsyncClient,
    *,
    chunks: AsyncIterator[bytes],
    size: int,
    name: str,
    content_type: str,
    secrets: tuple[str, ...],
) -> Media:
    # Up to 32 MB: held in memory once, as a multipart body takes a known length.
    data = bytearray()
    try:
        async for chunk in _Counted(chunks, size):
            data.extend(chunk)
    except _SizeMismatch:
        raise Unavailable(_SHORT_FILE, code=NOT_SENT) from None
    response = await _once(
        api,
        "POST",
        UPLOAD_PATH,
        data={"input": json.dumps({"type": "file"})},
        files={"file": (name, bytes(data), content_type)},
    )
    uploaded = _read(response, Uploaded, secrets)
    return Media(media_id=uploaded.media_id, notified=True, ready=True)


async def _signed(
    api: httpx.AsyncClient,
    storage: httpx.AsyncClient,
    *,
    chunks: AsyncIterator[bytes],
    size: int,
    name: str,
    content_type: str,
    secrets: tuple[str, ...],
) -> Media:
    body = {"input": {"type": "signed_url", "filename": name, "content_type": content_type}}
    response = await _unsent(
        send(api, "POST", UPLOAD_PATH, label=LABEL, idempotent=True, json=body)
    )
    signed = _read(response, SignedUpload, secrets)
    if not _allowed_upload_url(signed.upload_url, api.base_url):
        raise Failed(
            f"{LABEL} gave an upload address that is not https, so Reelbot did not send the "
            "video there; ask a workspace admin to check VIDDYSCRIBE_BASE_URL.",
            code="upload_url_refused",
        )
    counted = _Counted(chunks, size)
    try:
        put = await _once(
            storage,
            "PUT",
            signed.upload_url,
            content=counted,
            headers={"Content-Type": content_type, "Content-Length": str(size)},
        )
    except _SizeMismatch:
        raise Unavailable(_SHORT_FILE, code=NOT_SENT) from None
    if counted.sent != size:
        raise Unavailable(_SHORT_FILE, code=NOT_SENT)
    if put.status_code >= 300:
        log.debug("storage refused the upload: HTTP %d", put.status_code)
        raise Unavailable(_NOT_REACHED, code=NOT_SENT)
    return Media(media_id=signed.media_id, gcs_path=signed.gcs_path, notified=False)


async def verified(
    api: httpx.AsyncClient,
    media: Media,
    *,
    wait_seconds: float,
    secrets: tuple[str, ...],
    save: Callable[[Media], Awaitable[None]],
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> Media:
    """The media once get_upload_status says completed (as its canonical id); BadInput when
    verification failed; RateLimited when it is still going after `wait_seconds`. Each step
    done is `save`d, so a call again after a wait goes on from there."""
    if media.ready:
        return media
    if not media.notified:
        notify = {"media_id": media.media_id, "gcs_path": media.gcs_path}
        response = await _unsent(
            send(api, "POST", NOTIFY_PATH, label=LABEL, idempotent=True, json=notify)
        )
        if response.status_code >= 300:
            raise error_from_response(response, secrets=secrets)
        media = media.model_copy(update={"notified": True, "notified_at": time.time()})
        await save(media)
    deadline = time.monotonic() + wait_seconds
    pause = 0.25
    while True:
        params = {"media_id": media.media_id, "gcs_path": media.gcs_path or ""}
        url = str(httpx.URL(UPLOAD_STATUS_PATH, params=params))
        response = await _unsent(send(api, "GET", url, label=LABEL, idempotent=True))
        status = _read(response, UploadStatus, secrets)
        state = status.upload_status.strip().lower()
        if state == "completed":
            canonical = (status.canonical_media_id or "").strip() or media.media_id
            ready = Media(media_id=canonical, gcs_path=media.gcs_path, ready=True)
            await save(ready)
            return ready
        if state == "failed":
            failed = error_for("upload_failed")
            assert failed is not None
            raise failed
        since = media.notified_at
        if since is not None and time.time() - since > CHECK_GIVE_UP_SECONDS:
            raise Failed(
                f"{LABEL} did not finish checking the uploaded video within "
                f"{CHECK_GIVE_UP_SECONDS // 3600} hours, so Reelbot stopped waiting; upload it "
                "again, or share a link to it.",
                code="upload_check_timeout",
            )
        if time.monotonic() + pause > deadline:
            raise RateLimited(
                f"{LABEL} is still checking the uploaded video, so Reelbot will look again in "
                "a few seconds.",
                retry_after=NOT_READY_RETRY_AFTER,
                code="upload_not_ready",
            )
        await sleep(pause)
        pause = min(pause * 2, 5.0)
