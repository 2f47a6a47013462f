"""Everything that posts or updates Slack messages for a job.

Exactly once: before a result is posted, the job's `posted` counter is advanced with a
compare-and-set. Only the writer whose save wins posts that result, so two replicas never post
the same clip; a replica that dies between the save and the post loses that one reply (logged)
rather than duplicating it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot import blocks
from bot.jobs import Job
from bot.store.base import JobStore

log = logging.getLogger(__name__)

_CANNOT_POST = {"not_in_channel", "channel_not_found", "is_archived", "restricted_action"}
# The root message exists but can no longer carry the job.
_ROOT_GONE = _CANNOT_POST | {"message_not_found", "cant_update_message", "thread_not_found"}


def slack_error(exc: SlackApiError) -> str:
    return str(exc.response.get("error", "unknown_error"))


class Notifier:
    """`client` may retry anything (Bolt's calls, updates, DMs); `poster` carries only the 429
    retry, because a chat.postMessage resent after a 5xx or a dropped connection may be a
    second copy of a message Slack already posted."""

    def __init__(
        self,
        client: AsyncWebClient,
        store: JobStore,
        labels: Mapping[str, str],
        poster: AsyncWebClient | None = None,
    ) -> None:
        self._client = client
        self._poster = poster or client
        self._store = store
        self._labels = labels

    def label(self, job: Job) -> str:
        return self._labels.get(job.provider, job.provider.title())

    async def sync(self, job: Job) -> Job | None:
        """Bring Slack up to date with `job`: root message, its state, unposted results.

        When the root message can no longer be used (the bot was removed, the channel archived,
        the message deleted), the job moves to a DM with the requester and carries on there.
        Returns the latest stored job, or None when another writer moved it on (it will sync).
        """
        try:
            return await self._sync(job)
        except SlackApiError as exc:
            if slack_error(exc) not in _ROOT_GONE:
                raise
            latest = await self._store.get(job.id)
            if latest is None or latest.root_ts is None or _is_dm(latest.root_channel):
                raise
            log.info("job %s: root message unusable (%s); moving to a DM", job.id, slack_error(exc))
            moved = await self._post_root(latest, in_dm=True)
            return None if moved is None else await self._sync(moved)

    async def _sync(self, job: Job) -> Job | None:
        current: Job | None = job
        if job.root_ts is None:
            current = await self._post_root(job)
        if current is not None:
            current = await self._update_root(current)
        while current is not None and current.unposted and current.root_ts:
            current = await self._post_next_result(current)
        return current

    async def ephemeral(self, channel: str, user: str, text: str) -> None:
        try:
            await self._client.chat_postEphemeral(channel=channel, user=user, text=text)
        except SlackApiError as exc:
            if slack_error(exc) not in _CANNOT_POST:
                raise
            await self.direct_message(user, text)

    async def direct_message(self, user: str, text: str) -> str:
        opened = await self._client.conversations_open(users=user)
        channel = str(opened["channel"]["id"])
        await self._poster.chat_postMessage(channel=channel, text=text)
        return channel

    async def _post_root(self, job: Job, *, in_dm: bool = False) -> Job | None:
        text, body = blocks.root_message(job, self.label(job))
        answer = None
        if not in_dm:
            try:
                answer = await self._poster.chat_postMessage(
                    channel=job.channel_id,
                    thread_ts=job.thread_ts,
                    text=text,
                    blocks=body,
                    unfurl_links=False,
                    unfurl_media=False,
                )
            except SlackApiError as exc:
                if slack_error(exc) not in _CANNOT_POST:
                    raise
                log.info(
                    "job %s: cannot post in %s (%s); using a DM",
                    job.id,
                    job.channel_id,
                    slack_error(exc),
                )
        if answer is None:
            dm = await self.direct_message(job.user_id, blocks.moved_notice(job.channel_id))
            answer = await self._poster.chat_postMessage(
                channel=dm, text=text, blocks=body, unfurl_links=False, unfurl_media=False
            )
        stored = await self._store.save(
            job.changed(
                root_channel=str(answer["channel"]),
                root_ts=str(answer["ts"]),
                thread_ts=job.thread_ts if answer["channel"] == job.channel_id else None,
                rendered=blocks.render_key(text, body),
            )
        )
        if stored is None:
            log.warning("job %s: root message posted but the job moved on meanwhile", job.id)
        return stored

    async def _update_root(self, job: Job) -> Job | None:
        text, body = blocks.root_message(job, self.label(job))
        key = blocks.render_key(text, body)
        if key == job.rendered or job.root_ts is None or job.root_channel is None:
            return job
        await self._client.chat_update(
            channel=job.root_channel, ts=job.root_ts, text=text, blocks=body
        )
        return await self._store.save(job.changed(rendered=key))

    async def _post_next_result(self, job: Job) -> Job | None:
        index = job.posted
        reserved = await self._store.save(job.changed(posted=index + 1))
        if reserved is None:
            return None
        output = job.outputs[index]
        text, body = blocks.clip_reply(index + 1, len(job.outputs), output)
        try:
            await self._poster.chat_postMessage(
                channel=str(job.root_channel),
                thread_ts=job.thread_ts or job.root_ts,
                text=text,
                blocks=body,
                unfurl_links=False,
                unfurl_media=False,
            )
        except SlackApiError as exc:
            if exc.response.status_code >= 500:
                # Slack may have posted it anyway: keep the reservation (at most once).
                log.error(
                    "job %s: result %d may not have been posted (HTTP %d); not retried",
                    job.id,
                    index + 1,
                    exc.response.status_code,
                )
                raise
            # A definite refusal: nothing was posted, so a later sync may try again.
            await self._store.save(reserved.changed(posted=index))
            log.warning(
                "job %s: result %d refused (%s); will retry", job.id, index + 1, slack_error(exc)
            )
            raise
        return reserved


def _is_dm(channel: str | None) -> bool:
    return bool(channel) and str(channel).startswith("D")
