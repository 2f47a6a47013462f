"""A video uploaded to Slack, on its way to a provider: staged ahead of the create (a provider
that uploads first: StagesFiles) or fetched whole to disk for a create that carries the bytes
(SendsFiles). Either way every failure to fetch the file happens before the create is sent,
and is a FileTrouble saying whether trying again may help."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import aiohttp
import httpx
from pydantic import BaseModel
from slack_sdk.errors import SlackApiError

from bot.downloads import DownloadRefused
from bot.notify import slack_error
from bot.slack_files import SlackFiles
from providers.base import FileSource, MediaFile, Provider, SendsFiles, StagesFiles

# Download refusals that may pass: the host did not answer, or answered an error.
_FETCH_AGAIN = frozenset({"unreachable", "status", "dns"})
_NO_FILES = "Reelbot cannot fetch files from Slack here, so share a link to the video."


class FileTrouble(Exception):
    """The Slack file could not be had; `again` when a later try may get it."""

    def __init__(self, message: str, *, again: bool, reason: str) -> None:
        super().__init__(message)
        self.message, self.again, self.reason = message, again, reason


def media_of(provider: Provider, request: BaseModel) -> MediaFile | None:
    if isinstance(provider, StagesFiles | SendsFiles):
        return provider.media_file(request)
    return None


@contextlib.asynccontextmanager
async def _troubles(label: str) -> AsyncIterator[None]:
    try:
        yield
    except DownloadRefused as refusal:
        again = refusal.reason in _FETCH_AGAIN
        message = f"{refusal.message} Reelbot will try again." if again else refusal.message
        raise FileTrouble(message, again=again, reason=refusal.reason) from None
    except (SlackApiError, aiohttp.ClientError, httpx.HTTPError) as exc:
        reason = slack_error(exc) if isinstance(exc, SlackApiError) else type(exc).__name__
        raise FileTrouble(
            f"Slack did not hand over the video file for {label}; Reelbot will try again.",
            again=True,
            reason=reason,
        ) from None
    except OSError as exc:
        if isinstance(exc, TimeoutError):
            raise FileTrouble(
                f"Slack did not hand over the video file for {label}; Reelbot will try again.",
                again=True, reason="timeout",
            ) from None  # fmt: skip
        # Local disk (full, or gone): nothing was sent, so it is tried again later.
        raise FileTrouble(
            "Reelbot could not keep the video file on its disk; it will try again.",
            again=True,
            reason=type(exc).__name__,
        ) from None


class FileIntake:
    def __init__(self, files: SlackFiles | None) -> None:
        self._files = files

    def _source_of(self, media: MediaFile) -> SlackFiles:
        if self._files is None:
            raise FileTrouble(_NO_FILES, again=False, reason="no_files")
        return self._files

    async def stage(self, provider: Provider, request: BaseModel, key: str) -> None:
        """For a StagesFiles provider and a file request: the bytes uploaded ahead. Raises
        the provider's errors, and FileTrouble when the file could not be fetched."""
        if not isinstance(provider, StagesFiles):
            return
        media = provider.media_file(request)
        if media is None:
            return
        source = self._source_of(media).source(media)
        try:
            async with _troubles(provider.label):
                await provider.stage_file(request, key=key, source=source)
        finally:
            await source.aclose()

    async def spool(
        self, stack: contextlib.AsyncExitStack, provider: Provider, request: BaseModel
    ) -> FileSource | None:
        """For a SendsFiles provider and a file request: the whole file on local disk, for
        as long as `stack` is open; None for a link."""
        if not isinstance(provider, SendsFiles):
            return None
        media = provider.media_file(request)
        if media is None:
            return None
        source = self._source_of(media).source(media)
        stack.push_async_callback(source.aclose)
        async with _troubles(provider.label):
            await source.prepare()
        return source
