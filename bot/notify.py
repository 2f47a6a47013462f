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


def slack_error(exc: SlackApiError) -> str:
    return str(exc.response.get("error", "unknown_error"))


class Notifier:
    def __init__(self, client: AsyncWebClient, store: JobStore, labels: Mapping[str, str]) -> None:
        self._client = client
        self._store = store
        self._labels = labels

    def label(self, job: Job) -> str:
        return self._labels.get(job.provider, job.provider.title())

    async def sync(self, job: Job) -> Job | None:
        """Bring Slack up to date with `job`: root message, its state, unposted results.

        Returns the latest stored job, or None when another writer moved it on (it will sync).
        """
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
        await self._client.chat_postMessage(channel=channel, text=text)
        return channel

    async def _post_root(self, job: Job) -> Job | None:
        text, body = blocks.root_message(job, self.label(job))
        channel, thread_ts = job.channel_id, job.thread_ts
        try:
            answer = await self._client.chat_postMessage(
                channel=channel,
                thread_ts=thread_ts,
                text=text,
                blocks=body,
                unfurl_links=False,
                unfurl_media=False,
            )
        except SlackApiError as exc:
            if slack_error(exc) not in _CANNOT_POST:
                raise
            log.info(
                "job %s: cannot post in %s (%s); using a DM", job.id, channel, slack_error(exc)
            )
            channel = await self.direct_message(job.user_id, blocks.moved_notice(job.channel_id))
            thread_ts = None
            answer = await self._client.chat_postMessage(
                channel=channel, text=text, blocks=body, unfurl_links=False, unfurl_media=False
            )
        stored = await self._store.save(
            job.changed(
                root_channel=str(answer["channel"]),
                root_ts=str(answer["ts"]),
                thread_ts=thread_ts,
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
            await self._client.chat_postMessage(
                channel=str(job.root_channel),
                thread_ts=job.thread_ts or job.root_ts,
                text=text,
                blocks=body,
                unfurl_links=False,
                unfurl_media=False,
            )
        except SlackApiError:
            # Give the reservation back so the next tick tries again; nothing was posted.
            back = await self._store.save(reserved.changed(posted=index))
            log.warning(
                "job %s: result %d not posted (will retry): %s",
                job.id,
                index + 1,
                "stale" if back is None else "slack error",
            )
            raise
        return reserved
