"""Videos uploaded to Slack, as byte sources for the providers that take files.

A message shortcut on a message with a video file records the file as a MediaFile (its Slack
id, name, size and type) on the request. When the job is submitted, the provider reads the
bytes from a SlackFile: only then is the file looked up (files.info, for its current download
link) and fetched whole to a temporary file with the bot token, as a safe download to
SLACK_FILE_MAX_MB, before the provider hears of it. The token goes to Slack's file host only
(the downloader's token hosts). Slack errors that no retry can mend are said as such.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import IO, Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.downloads import Downloader, DownloadRefused
from providers.base import MediaFile

_GONE = frozenset({"file_not_found", "file_deleted"})
# files.info errors that a retry cannot mend: an admin must act.
_FOR_GOOD = frozenset(
    {"missing_scope", "invalid_auth", "not_authed", "token_revoked", "account_inactive",
     "no_permission", "access_denied", "ekm_access_denied", "not_allowed_token_type"}
)  # fmt: skip
WHAT = "video file"
_CHUNK = 1 << 20
_NAME_ROOM = 400


def is_video(file: Mapping[str, Any]) -> bool:
    """A file of a Slack message that is a video (by its type, or its Slack file type)."""
    mimetype = str(file.get("mimetype") or "").lower()
    kind = str(file.get("filetype") or "").lower()
    return mimetype.startswith("video/") or kind in {"mp4", "mov", "m4v", "webm", "mkv", "avi"}


def media_file(file: Mapping[str, Any]) -> MediaFile | None:
    """A message's file as a request keeps it; None when Slack left out its id or size."""
    size = file.get("size")
    if not file.get("id") or not isinstance(size, int) or size < 1:
        return None
    mimetype = str(file.get("mimetype") or "")
    name = str(file.get("name") or file.get("title") or "video")
    # It travels in a modal's private_metadata (3,000 characters, JSON-escaped).
    while len(json.dumps(name)) > _NAME_ROOM:
        name = name[:-1]
    return MediaFile(
        name=name or "video",
        size=size,
        content_type=mimetype if mimetype.startswith("video/") else "video/mp4",
        ref=str(file["id"]),
    )


# The bot token for a download: fixed (one workspace), or the workspace in hand's (many).
Token = str | Callable[[], Awaitable[str | None]]


class SlackFiles:
    """Opens SlackFile sources with the bot's client, token and downloader."""

    def __init__(self, client: AsyncWebClient, downloader: Downloader, token: Token) -> None:
        self._client, self._downloader, self._token = client, downloader, token

    def source(self, media: MediaFile) -> SlackFile:
        return SlackFile(self, media)

    async def link(self, media: MediaFile) -> str:
        """The file's current download link, from files.info."""
        try:
            answer = await self._client.files_info(file=str(media.ref or ""))
        except SlackApiError as exc:
            error = str(exc.response.get("error", ""))
            if error in _GONE:
                raise DownloadRefused(
                    f"The video file {media.name} is no longer in Slack, or Reelbot cannot see "
                    "it, so upload it again.",
                    reason="gone",
                ) from None
            if error in _FOR_GOOD:
                raise DownloadRefused(
                    f"Slack does not let Reelbot read {media.name} ({error}), so a workspace "
                    "admin must reinstall the app with the files:read scope; or share a link "
                    "to the video.",
                    reason="slack_refused",
                ) from None
            raise
        file = answer.get("file") or {}
        url = file.get("url_private_download") or file.get("url_private")
        if not url:
            raise DownloadRefused(
                f"Slack gives no download link for {media.name}, so upload it again.",
                reason="gone",
            )
        return str(url)

    async def read(self, media: MediaFile) -> AsyncIterator[bytes]:
        url = await self.link(media)
        token = self._token if isinstance(self._token, str) else await self._token()
        if token is None:
            raise DownloadRefused(
                f"Reelbot is no longer installed in this workspace, so it cannot read "
                f"{media.name}.",
                reason="slack_refused",
            )
        async with self._downloader.open(url, token=token, what=WHAT) as download:
            async for chunk in download.chunks():
                yield chunk

    async def aclose(self) -> None:
        await self._downloader.aclose()


class SlackFile:
    """One Slack file's bytes (`providers.base.FileSource`): `prepare()` fetches the whole file
    to a temporary file on disk (never into memory), `chunks()` reads it back, `aclose()`
    drops it."""

    def __init__(self, files: SlackFiles, media: MediaFile) -> None:
        self._files, self._media = files, media
        self._spool: IO[bytes] | None = None

    @property
    def name(self) -> str:
        return self._media.name

    @property
    def size(self) -> int:
        return self._media.size

    @property
    def content_type(self) -> str:
        return self._media.content_type

    async def prepare(self) -> None:
        if self._spool is not None:
            return
        spool = tempfile.TemporaryFile()  # noqa: SIM115 - kept open until aclose()
        try:
            size = 0
            async for chunk in self._files.read(self._media):
                size += len(chunk)
                await asyncio.to_thread(spool.write, chunk)
            if size != self._media.size:
                raise DownloadRefused(
                    f"Slack handed over {size:,} bytes of {self._media.name}, not "
                    f"{self._media.size:,}.",
                    reason="status",
                )
        except BaseException:
            spool.close()
            raise
        self._spool = spool

    async def chunks(self) -> AsyncIterator[bytes]:
        await self.prepare()
        spool = self._spool
        assert spool is not None
        await asyncio.to_thread(spool.seek, 0)
        while chunk := await asyncio.to_thread(spool.read, _CHUNK):
            yield chunk

    async def aclose(self) -> None:
        if self._spool is not None:
            self._spool.close()
            self._spool = None
