"""Videos uploaded to Slack, as byte sources for the providers that take files.

A message shortcut on a message with a video file records the file as a MediaFile (its Slack
id, name, size and type) on the request. When the job is submitted, the provider reads the
bytes from a SlackFile: only then is the file looked up (files.info, for its current download
link) and fetched with the bot token, as a safe download to SLACK_FILE_MAX_MB. The token goes
to Slack's file host only (the downloader's token hosts).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.downloads import Downloader, DownloadRefused
from providers.base import MediaFile

_GONE = frozenset({"file_not_found", "file_deleted"})
WHAT = "video file"


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
    return MediaFile(
        name=str(file.get("name") or file.get("title") or "video")[:255],
        size=size,
        content_type=mimetype if mimetype.startswith("video/") else "video/mp4",
        ref=str(file["id"]),
    )


class SlackFiles:
    """Opens SlackFile sources with the bot's client, token and downloader."""

    def __init__(self, client: AsyncWebClient, downloader: Downloader, token: str) -> None:
        self._client, self._downloader, self._token = client, downloader, token

    def source(self, media: MediaFile) -> SlackFile:
        return SlackFile(self, media)

    async def link(self, media: MediaFile) -> str:
        """The file's current download link, from files.info."""
        try:
            answer = await self._client.files_info(file=str(media.ref or ""))
        except SlackApiError as exc:
            if str(exc.response.get("error", "")) in _GONE:
                raise DownloadRefused(
                    f"The video file {media.name} is no longer in Slack, or Reelbot cannot see "
                    "it, so upload it again.",
                    reason="gone",
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
        async with self._downloader.open(url, token=self._token, what=WHAT) as download:
            async for chunk in download.chunks():
                yield chunk

    async def aclose(self) -> None:
        await self._downloader.aclose()


class SlackFile:
    """One Slack file's bytes (`providers.base.FileSource`), fetched when first read."""

    def __init__(self, files: SlackFiles, media: MediaFile) -> None:
        self._files, self._media = files, media

    @property
    def name(self) -> str:
        return self._media.name

    @property
    def size(self) -> int:
        return self._media.size

    @property
    def content_type(self) -> str:
        return self._media.content_type

    def chunks(self) -> AsyncIterator[bytes]:
        return self._files.read(self._media)
