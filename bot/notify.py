"""Everything that posts or updates Slack messages for a job, exactly once.

Only the holder of a job's lease calls `deliver`. Every message the job owes (its root message,
one per result, or one saying why it ended without results) is a delivery: before it is
posted it is reserved by a compare-and-set, and the post carries message metadata naming the
job and the delivery; the last thread reply mentions the requester. When an attempt's
outcome is unknown (Slack answered 5xx or `internal_error`, the connection dropped, or a
holder died while holding the reservation), the next attempt first reads the thread back and
posts only if the message is not there. A definite refusal hands the reservation back.

Root message updates follow the job's version: only the holder sends them, one at a time,
always rendering the latest stored job, and a Cancel click by anyone else is a stored change
that the holder renders on its next save. Every save of a holder is fenced by its lease, and
the lease is checked again right before each Slack write, so a replica that stalled past its
lease stops instead of writing; should its write still slip out in the instant between, a
post is deleted again when another copy exists and an update is followed by the latest one.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot import blocks, ids
from bot.jobs import END, ROOT, Delivery, DeliveryState, Job, JobState, output_key
from bot.store.base import JobStore
from bot.uploads import Uploader, UploadLost, uploadable
from providers.base import File

log = logging.getLogger(__name__)

_CANNOT_POST = {"not_in_channel", "channel_not_found", "is_archived", "restricted_action"}
# The root message exists but can no longer carry the job.
_ROOT_GONE = _CANNOT_POST | {"message_not_found", "cant_update_message", "thread_not_found"}
# Slack's own words for "it may have happened anyway".
_UNCERTAIN = {"internal_error", "fatal_error", "request_timeout", "service_unavailable"}
_MOVED = "moved"
_HISTORY_PAGES = 5
_PACE_MAX_WAIT = 2.0

Save = Callable[[Job], Awaitable[Job | None]]
# Renews the caller's lease; False when another replica holds the job now.
Held = Callable[[], Awaitable[bool]]


class Lost(Exception):
    """Another writer changed the job between our read and our save: start from the latest."""


class SlackBusy(Exception):
    """A channel's post pace is used up for now: come back in `wait` seconds (no failure)."""

    def __init__(self, wait: float) -> None:
        super().__init__(f"channel busy for {wait:.1f} s")
        self.wait = wait


def slack_error(exc: SlackApiError) -> str:
    return str(exc.response.get("error", "unknown_error"))


def uncertain(exc: SlackApiError) -> bool:
    """Whether Slack may have done what it answered an error to."""
    return exc.response.status_code >= 500 or slack_error(exc) in _UNCERTAIN


def _retry_after(exc: SlackApiError) -> float | None:
    if exc.response.status_code != 429:
        return None
    try:
        return max(1.0, float(exc.response.headers.get("Retry-After", "1")))
    except (TypeError, ValueError):
        return 1.0


def _is_dm(channel: str | None) -> bool:
    return bool(channel) and str(channel).startswith("D")


class Notifier:
    """`client` may retry anything (reads, updates, DMs); `poster` retries only 429s, because a
    chat.postMessage resent after a 5xx or a dropped connection may be a second copy: such a
    post is reconciled by reading the thread back instead."""

    def __init__(
        self,
        client: AsyncWebClient,
        store: JobStore,
        labels: Mapping[str, str],
        poster: AsyncWebClient | None = None,
        *,
        posts_per_second: float = 1.0,
        clock: Callable[[], float] = time.time,
        uploader: Uploader | None = None,
        every_result: bool = True,
    ) -> None:
        self._uploader = uploader
        # RESULTS_AS_FILES: clips and videos too; description files always.
        self._every_result = every_result
        self._client = client
        self._poster = poster or client
        self._store = store
        self._labels = labels
        self._interval = 1.0 / posts_per_second
        self._clock = clock

    def label(self, job: Job) -> str:
        return self._labels.get(job.provider, job.provider.title())

    def needs_slack(self, job: Job) -> bool:
        """Whether `deliver` has anything to do for this job."""
        if job.root_ts is None:
            return True
        text, body = blocks.root_message(job, self.label(job))
        return blocks.render_key(text, body) != job.rendered or (
            job.terminal and bool(job.unposted or self._unfiled(job) or job.owes_end)
        )

    def _unfiled(self, job: Job) -> list[int]:
        if self._uploader is None:
            return []
        return [
            n
            for n in job.unfiled
            if uploadable(job.outputs[n])
            and (self._every_result or isinstance(job.outputs[n], File))
        ]

    async def deliver(self, job: Job, save: Save, held: Held) -> Job:
        """Bring Slack up to date with `job` and return the job as last saved.

        Raises Lost (start again from the stored job), SlackBusy, or what Slack raised.
        """
        turn = _Turn(save, held)
        job = await self._ensure_root(job, turn)
        job = await self._update_root(job, turn)
        if not job.terminal:
            return job
        try:
            return await self._post_end(await self._post_results(job, turn), turn)
        except SlackApiError as exc:
            if slack_error(exc) not in _ROOT_GONE or _is_dm(job.root_channel):
                raise
            log.info("job %s: thread unusable (%s); moving to a DM", job.id, slack_error(exc))
        job = await self._move_to_dm(await self._latest(job), turn)
        return await self._post_end(await self._post_results(job, turn), turn)

    async def _post_end(self, job: Job, turn: _Turn) -> Job:
        """A job that ended without results (failed, or none found) says so in its thread,
        mentioning the requester: a root message update notifies nobody."""
        if not job.owes_end:
            return job
        text, body = blocks.end_reply(job, self.label(job))
        return await self._post_once(
            job, END, str(job.root_channel), job.reply_thread, text, body, turn
        )

    async def _post_results(self, job: Job, turn: _Turn) -> Job:
        last = len(job.outputs) - 1
        for index in job.unposted:
            output = job.outputs[index]
            # The last result mentions the requester, so Slack notifies them once.
            requester = job.user_id if index == last else None
            text, body = blocks.result_reply(
                index + 1, len(job.outputs), output, job_id=job.id, requester=requester
            )
            where = (output_key(index), str(job.root_channel), job.reply_thread)
            try:
                job = await self._post_once(job, *where, text, body, turn)
            except SlackApiError as exc:
                # Slack fetches an image block's picture as it takes the post: a thumbnail it
                # cannot fetch refuses the whole reply, so the result goes without it.
                pictureless = [b for b in body if b.get("type") != "image"]
                if slack_error(exc) != "invalid_blocks" or pictureless == body:
                    raise
                log.info("job %s: result %d posted without its thumbnail", job.id, index + 1)
                job = await self._post_once(
                    await self._latest(job), *where, text, pictureless, turn
                )
        if self._uploader is not None:
            for index in self._unfiled(job):
                try:
                    job = await self._uploader.upload_once(
                        job,
                        index,
                        str(job.root_channel),
                        job.reply_thread,
                        turn.save,
                        turn.held,
                        functools.partial(self._store.get, job.id),
                    )
                except UploadLost:
                    raise Lost from None
        return job

    # --- the root message -------------------------------------------------------------------
    async def _ensure_root(self, job: Job, turn: _Turn) -> Job:
        root = job.root
        if root is not None and root.state is DeliveryState.POSTED:
            return job
        channel = root.channel if root is not None else job.channel_id
        try:
            return await self._post_root(job, channel, turn)
        except SlackApiError as exc:
            error = slack_error(exc)
            if error not in _CANNOT_POST or _is_dm(channel):
                raise
            if error == "not_in_channel" and root is None and await self._join(channel):
                # A public channel the request came from: join it rather than leave it.
                return await self._post_root(await self._latest(job), channel, turn)
            log.info("job %s: cannot post in %s (%s); using a DM", job.id, channel, error)
        return await self._move_to_dm(await self._latest(job), turn)

    async def _join(self, channel: str) -> bool:
        try:
            await self._client.conversations_join(channel=channel)
        except SlackApiError as exc:
            log.info("cannot join %s (%s)", channel, slack_error(exc))
            return False
        return True

    async def _post_root(self, job: Job, channel: str, turn: _Turn) -> Job:
        text, body = blocks.root_message(job, self.label(job))
        thread = job.thread_ts if channel == job.channel_id else None
        posted = await self._post_once(job, ROOT, channel, thread, text, body, turn)
        if posted.rendered == blocks.render_key(text, body):
            return posted
        return await self._saved(posted.changed(rendered=blocks.render_key(text, body)), turn)

    async def _move_to_dm(self, job: Job, turn: _Turn) -> Job:
        opened = await self._client.conversations_open(users=job.user_id)
        dm = str(opened["channel"]["id"])
        notice = blocks.moved_notice(job.channel_id)
        job = await self._post_once(job, _MOVED, dm, None, notice, [], turn)
        root = job.root
        if root is not None and root.channel != dm:
            # The channel root can no longer carry the job: a new one is owed in the DM.
            moved = Delivery(
                state=DeliveryState.RESERVED, channel=dm, reserved_at=self._clock(), attempt=0
            )
            job = await self._saved(job.delivered(ROOT, moved).changed(rendered=None), turn)
        return await self._post_root(job, dm, turn)

    async def _update_root(self, job: Job, turn: _Turn) -> Job:
        text, body = blocks.root_message(job, self.label(job))
        key = blocks.render_key(text, body)
        if key == job.rendered or job.root_ts is None or job.root_channel is None:
            return job
        if job.state is JobState.QUEUED:
            # A place in line changes for every waiting job at once: such updates keep to
            # the channel's pace, like posts (SlackBusy brings the turn back when it is ours).
            await self._pace(job.root_channel)
        if not await turn.held():
            raise Lost
        try:
            await self._client.chat_update(
                channel=job.root_channel, ts=job.root_ts, text=text, blocks=body
            )
        except SlackApiError as exc:
            if slack_error(exc) not in _ROOT_GONE or _is_dm(job.root_channel):
                raise
            log.info("job %s: root message unusable (%s); moving to a DM", job.id, slack_error(exc))
            return await self._move_to_dm(job, turn)
        saved = await turn.save(job.changed(rendered=key))
        if saved is None:
            await self._catch_up(job, key)
            raise Lost
        return saved

    async def _catch_up(self, job: Job, sent: str) -> None:
        """Our update raced a newer version (or another holder): show the latest stored one,
        so the last update Slack takes is never older than the job."""
        for _ in range(2):
            latest = await self._store.get(job.id)
            if latest is None or latest.root_ts is None or latest.root_channel is None:
                return
            text, body = blocks.root_message(latest, self.label(latest))
            key = blocks.render_key(text, body)
            if key == sent:
                return
            await self._client.chat_update(
                channel=latest.root_channel, ts=latest.root_ts, text=text, blocks=body
            )
            sent = key

    # --- one message, once ------------------------------------------------------------------
    async def _post_once(
        self,
        job: Job,
        key: str,
        channel: str,
        thread_ts: str | None,
        text: str,
        body: list[blocks.Block],
        turn: _Turn,
    ) -> Job:
        held = job.deliveries.get(key)
        if held is not None and held.state is DeliveryState.POSTED:
            return job
        if held is not None and held.attempt > 0:
            found = await self._find_posted(job, key, held)
            if found is not None:
                log.info(
                    "job %s: %s was posted before (ts %s); not posting again", job.id, key, found
                )
                return await self._saved(
                    job.delivered(key, _posted(held, held.channel, found)), turn
                )
        await self._pace(channel)
        attempt = (held.attempt if held is not None else 0) + 1
        reservation = Delivery(
            state=DeliveryState.RESERVED,
            channel=channel,
            thread_ts=thread_ts,
            reserved_at=self._clock(),
            attempt=attempt,
        )
        reserved = await self._saved(job.delivered(key, reservation), turn)
        if not await turn.held():
            raise Lost  # stalled past the lease after reserving: the new holder posts it
        try:
            answer = await self._poster.chat_postMessage(
                channel=channel,
                thread_ts=thread_ts,
                text=text,
                blocks=body or None,
                metadata={
                    "event_type": ids.POST_EVENT,
                    "event_payload": {"job": job.id, "key": key},
                },
                unfurl_links=False,
                unfurl_media=False,
            )
        except SlackApiError as exc:
            if uncertain(exc):
                log.warning(
                    "job %s: %s may or may not be posted (%s); it is checked before a retry",
                    job.id,
                    key,
                    slack_error(exc),
                )
                raise
            # A definite refusal: nothing was posted, so the next attempt starts clean.
            await self._saved(reserved.delivered(key, None), turn)
            wait = _retry_after(exc)
            if wait is not None:
                raise SlackBusy(wait) from exc
            raise
        posted = _posted(reservation, str(answer["channel"]), str(answer["ts"]))
        recorded = await turn.save(reserved.delivered(key, posted))
        if recorded is None:
            await self._withdraw_if_copied(job, key, posted)
            raise Lost
        return recorded

    async def _withdraw_if_copied(self, job: Job, key: str, ours: Delivery) -> None:
        """We posted, but could not record it: the job moved on without us (we stalled past
        our lease). If another copy of this message exists, ours goes; otherwise it is the
        one, and the job's holder finds it by its metadata."""
        try:
            copies = await self._posted_copies(job, key, ours)
        except SlackApiError as exc:
            log.warning("job %s: cannot check %s for copies (%s)", job.id, key, slack_error(exc))
            return
        if any(ts != ours.ts for ts in copies):
            log.warning("job %s: %s was posted twice; deleting our copy", job.id, key)
            await self._client.chat_delete(channel=ours.channel, ts=str(ours.ts))

    async def _find_posted(self, job: Job, key: str, held: Delivery) -> str | None:
        """The ts of the message this delivery posted earlier, if Slack has it (the oldest,
        should there be two)."""
        try:
            copies = await self._posted_copies(job, key, held)
        except SlackApiError as exc:
            if slack_error(exc) in _ROOT_GONE:
                return None  # no such thread, or no longer ours to read: post it anew
            raise
        return min(copies, key=float) if copies else None

    async def _posted_copies(self, job: Job, key: str, held: Delivery) -> list[str]:
        """Every ts of a message in `held`'s channel (and thread) naming this job and key."""
        found: list[str] = []
        cursor: str | None = None
        for _ in range(_HISTORY_PAGES):
            args: dict[str, Any] = {
                "channel": held.channel,
                "include_all_metadata": True,
                "limit": 200,
                "cursor": cursor,
            }
            if held.thread_ts is not None:
                answer = await self._client.conversations_replies(ts=held.thread_ts, **args)
            else:
                # A root message in a channel: look back from now, newest first.
                oldest = f"{held.reserved_at - 86400:.6f}"
                answer = await self._client.conversations_history(oldest=oldest, **args)
            found += [str(m["ts"]) for m in answer.get("messages") or [] if _names(m, job.id, key)]
            cursor = (answer.get("response_metadata") or {}).get("next_cursor") or None
            if not answer.get("has_more") or cursor is None:
                break
        return found

    async def _pace(self, channel: str) -> None:
        wait = await self._store.pace(
            f"slack-post:{channel}", self._interval, self._clock(), _PACE_MAX_WAIT
        )
        if wait > _PACE_MAX_WAIT:
            raise SlackBusy(wait)
        if wait > 0:
            await asyncio.sleep(wait)

    async def _saved(self, job: Job, turn: _Turn) -> Job:
        saved = await turn.save(job)
        if saved is None:
            raise Lost
        return saved

    async def _latest(self, job: Job) -> Job:
        latest = await self._store.get(job.id)
        if latest is None:
            raise Lost
        return latest

    # --- messages that are not a job's -------------------------------------------------------
    async def ephemeral(
        self, channel: str, user: str, text: str, *, thread_ts: str | None = None
    ) -> None:
        try:
            await self._client.chat_postEphemeral(
                channel=channel, user=user, text=text, thread_ts=thread_ts
            )
        except SlackApiError as exc:
            if slack_error(exc) not in _CANNOT_POST:
                raise
            await self.direct_message(user, text)

    async def direct_message(self, user: str, text: str) -> str:
        opened = await self._client.conversations_open(users=user)
        channel = str(opened["channel"]["id"])
        await self._poster.chat_postMessage(channel=channel, text=text)
        return channel


@dataclass(frozen=True)
class _Turn:
    """The holder's means to write: a fenced save, and a check that it still holds the job."""

    save: Save
    held: Held


def _posted(held: Delivery, channel: str, ts: str) -> Delivery:
    return held.model_copy(update={"state": DeliveryState.POSTED, "channel": channel, "ts": ts})


def _names(message: Mapping[str, Any], job_id: str, key: str) -> bool:
    metadata = message.get("metadata")
    if not isinstance(metadata, Mapping) or metadata.get("event_type") != ids.POST_EVENT:
        return False
    payload = metadata.get("event_payload")
    return (
        isinstance(payload, Mapping) and payload.get("job") == job_id and payload.get("key") == key
    )
