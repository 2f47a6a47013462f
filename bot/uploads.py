"""Results as Slack files, exactly once (RESULTS_AS_FILES, SLACK_UPLOAD_MAX_MB).

A result whose link will expire is fetched (a safe download, to the size cap) and uploaded
into the job's thread with files.getUploadURLExternal + files.completeUploadExternal, the
two calls slack_sdk's files_upload_v2 makes, made here one by one so that the file id Slack
hands out first can be recorded on the job before anything is shared. That id is the
delivery's idempotency key: a holder that finds an upload in flight asks files.info about
that id. A file Slack knows has been completed (shared into the thread, perhaps still
propagating) and is recorded as posted; an unknown one was never completed, so it can never
appear, and the upload starts over with a new id. So a file appears once, never twice, and
is never lost. Alt text is not sent: files shared with `alt_txt` are never shared (an open
slack_sdk issue, see SLACK.md).

A result too large for the cap, or that cannot be fetched safely, is settled as skipped: its
link reply (posted before) stays the result.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import posixpath
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import IO
from urllib.parse import urlsplit

import httpx
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.downloads import Downloader, DownloadRefused
from bot.jobs import Delivery, DeliveryState, Job, file_key
from providers.base import File, Output, ProviderError

log = logging.getLogger(__name__)
_REFUSED = {"file_upload_size_restricted", "not_allowed_token_type", "restricted_action"}

Save = Callable[[Job], Awaitable[Job | None]]
Held = Callable[[], Awaitable[bool]]
Latest = Callable[[], Awaitable[Job | None]]
# The provider's same output with a fresh link (None: it no longer has it).
Refresher = Callable[[Job, int], Awaitable[Output | None]]
# A link this close to its expiry is refreshed before the download starts.
_EXPIRY_MARGIN_S = 60.0
# Refusals that will not change on a retry: the result stays a link.
_FOR_GOOD = frozenset({"size", "private", "scheme", "url", "none", "redirects"})


class UploadFailed(Exception):
    """Slack's upload URL refused the bytes: tried again on a later turn."""


class UploadLost(Exception):
    """Another writer changed the job meanwhile: start again from the stored job."""


def uploadable(output: Output) -> bool:
    """Clips, videos and files with a link or text are uploaded as Slack files."""
    if isinstance(output, File):
        return bool(output.text or output.url)
    return bool(output.url)


def _filename(output: Output, index: int) -> str:
    if isinstance(output, File):
        return output.name[:200]
    name = posixpath.basename(urlsplit(output.url).path)
    if "." not in name:
        name = f"{output.type}-{index + 1}.mp4"
    return name[:200]


def _title(output: Output, index: int) -> str:
    title = output.title.strip() or (output.name if isinstance(output, File) else "")
    return (title or f"Result {index + 1}")[:250]


async def _read_back(spool: IO[bytes]) -> AsyncIterator[bytes]:
    while chunk := await asyncio.to_thread(spool.read, 1 << 20):
        yield chunk


class Uploader:
    def __init__(
        self,
        client: AsyncWebClient,
        downloader: Downloader,
        *,
        refresh: Refresher | None = None,
        clock: Callable[[], float] = time.time,
        timeout: float = 300.0,
    ) -> None:
        self._client = client
        self._downloader = downloader
        self._refresh = refresh
        self._clock = clock
        self._http = httpx.AsyncClient(timeout=timeout)

    async def aclose(self) -> None:
        await self._http.aclose()
        await self._downloader.aclose()

    async def upload_once(
        self,
        job: Job,
        index: int,
        channel: str,
        thread_ts: str | None,
        save: Save,
        held: Held,
        latest: Latest,
    ) -> Job:
        key = file_key(index)
        before = job.deliveries.get(key)
        if before is not None and before.state is not DeliveryState.RESERVED:
            return job
        if before is not None and before.file_id and await self._shared(before, channel):
            log.info("job %s: %s was uploaded before (%s)", job.id, key, before.file_id)
            return await self._record(job, key, before, DeliveryState.POSTED, save)
        try:
            output = await self._current(job, index)
            try:
                async with self._source(output) as (size, body):
                    return await self._send(
                        job, index, channel, thread_ts, (size, body), save, held, latest
                    )
            except DownloadRefused as refusal:
                # A link refused with an HTTP error may just have expired: once more, fresh.
                if refusal.reason != "status" or self._refresh is None:
                    raise
                output = await self._current(job, index, force=True)
                async with self._source(output) as (size, body):
                    return await self._send(
                        job, index, channel, thread_ts, (size, body), save, held, latest
                    )
        except DownloadRefused as refusal:
            if refusal.reason not in _FOR_GOOD:
                raise  # the host did not answer, or answered an error: tried again later
            log.info("job %s: %s stays a link (%s)", job.id, key, refusal.reason)
            skipped = Delivery(
                state=DeliveryState.SKIPPED,
                channel=channel,
                thread_ts=thread_ts,
                reserved_at=self._clock(),
            )
            return await self._record(job, key, skipped, DeliveryState.SKIPPED, save)

    async def _current(self, job: Job, index: int, *, force: bool = False) -> Output:
        """The output with a link that still works: one about to expire (or refused, with
        `force`) is asked of the provider again, since a signed link alone is no result."""
        output = job.outputs[index]
        url = output.url
        expiring = output.expires_at is not None and (
            output.expires_at <= self._clock() + _EXPIRY_MARGIN_S
        )
        if self._refresh is None or not url or not (force or expiring):
            return output
        try:
            fresh = await self._refresh(job, index)
        except ProviderError as error:
            log.info("job %s: no fresh link yet (%s)", job.id, error.code)
            raise DownloadRefused(error.message, reason="refresh") from None
        if fresh is None or not fresh.url:
            raise DownloadRefused("The provider no longer has this result.", reason="none")
        log.info("job %s: result %d fetched from a fresh link", job.id, index + 1)
        return fresh

    async def _send(
        self,
        job: Job,
        index: int,
        channel: str,
        thread_ts: str | None,
        source: tuple[int, bytes | AsyncIterator[bytes]],
        save: Save,
        held: Held,
        latest: Latest,
    ) -> Job:
        key, output = file_key(index), job.outputs[index]
        size, body = source
        before = job.deliveries.get(key)
        ticket = await self._client.files_getUploadURLExternal(
            filename=_filename(output, index), length=size
        )
        reservation = Delivery(
            state=DeliveryState.RESERVED,
            channel=channel,
            thread_ts=thread_ts,
            reserved_at=self._clock(),
            attempt=(before.attempt + 1) if before is not None else 1,
            file_id=str(ticket["file_id"]),
        )
        reserved = await save(job.delivered(key, reservation))
        if reserved is None or not await held():
            raise UploadLost  # changed meanwhile, or stalled past the lease
        sent = await self._http.post(
            str(ticket["upload_url"]), content=body, headers={"Content-Length": str(size)}
        )
        if sent.status_code != 200:
            # Not completed, so it can never appear: the next attempt uploads it anew.
            raise UploadFailed(f"the upload answered HTTP {sent.status_code}")
        if not await held():
            raise UploadLost  # a long upload outlived the lease: never complete it now
        try:
            await self._client.files_completeUploadExternal(
                files=[{"id": reservation.file_id, "title": _title(output, index)}],
                channel_id=channel,
                thread_ts=thread_ts,
            )
        except SlackApiError as exc:
            error = str(exc.response.get("error", ""))
            if error in _REFUSED:
                log.info("job %s: Slack refused %s as a file (%s)", job.id, key, error)
                return await self._record(reserved, key, reservation, DeliveryState.SKIPPED, save)
            raise  # uncertain or not: the next attempt asks files.info first
        try:
            return await self._record(reserved, key, reservation, DeliveryState.POSTED, save)
        except UploadLost:
            await self._withdraw_if_replaced(job.id, key, str(reservation.file_id), latest)
            raise

    async def _withdraw_if_replaced(
        self, job_id: str, key: str, file_id: str, latest: Latest
    ) -> None:
        """Shared, but not recorded: the job moved on. If its new holder has another file for
        this result, ours goes; otherwise ours is the one (found by files.info later)."""
        stored = await latest()
        current = stored.deliveries.get(key) if stored is not None else None
        if current is not None and current.file_id not in (None, file_id):
            log.warning("job %s: %s was uploaded twice; deleting our copy", job_id, key)
            await self._delete(file_id)

    async def _shared(self, held: Delivery, channel: str) -> bool:
        """Whether the file of an upload in flight is in the channel. One Slack knows but
        did not share there (a complete that failed halfway) is deleted, to upload anew."""
        try:
            answer = await self._client.files_info(file=str(held.file_id))
        except SlackApiError as exc:
            if str(exc.response.get("error", "")) == "file_not_found":
                return False
            raise
        shares = (answer.get("file") or {}).get("shares") or {}
        if any(channel in (shares.get(kind) or {}) for kind in ("public", "private")):
            return True
        await self._delete(str(held.file_id))
        return False

    async def _delete(self, file_id: str) -> None:
        try:
            await self._client.files_delete(file=file_id)
        except SlackApiError as exc:
            log.info("file %s not deleted (%s)", file_id, exc.response.get("error"))

    @contextlib.asynccontextmanager
    async def _source(
        self, output: Output
    ) -> AsyncIterator[tuple[int, bytes | AsyncIterator[bytes]]]:
        """The result's size and bytes: streamed from its link when its length is known (so
        a large file is never held in memory), read to the cap otherwise."""
        if isinstance(output, File) and output.text is not None:
            yield len(output.text.encode()), output.text.encode()
            return
        if not output.url:
            raise DownloadRefused("This result has no file.", reason="none")
        noun = {"clip": "clip", "video": "video"}.get(output.type, "file")
        async with self._downloader.open(output.url, what=noun) as download:
            if download.size is not None:
                yield download.size, download.chunks()
                return
            # No length said: spooled to disk first (Slack's upload needs the length).
            with tempfile.TemporaryFile() as spool:
                size = 0
                async for chunk in download.chunks():
                    size += len(chunk)
                    await asyncio.to_thread(spool.write, chunk)
                await asyncio.to_thread(spool.seek, 0)
                yield size, _read_back(spool)

    async def _record(
        self, job: Job, key: str, delivery: Delivery, state: DeliveryState, save: Save
    ) -> Job:
        saved = await save(job.delivered(key, delivery.model_copy(update={"state": state})))
        if saved is None:
            raise UploadLost
        return saved
