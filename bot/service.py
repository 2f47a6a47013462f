"""What listeners call: create a job, start it, cancel it. Listeners stay thin."""

from __future__ import annotations

import enum
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from pydantic import BaseModel

from bot.jobs import Job, JobState
from bot.notify import Notifier
from bot.poller import Poller
from bot.runner import JobRunner
from bot.store.base import JobStore
from providers.base import Provider, describe_request

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Origin:
    """Where a request came from and where its results go."""

    user_id: str
    channel_id: str
    team_id: str | None = None
    thread_ts: str | None = None


class CancelOutcome(enum.Enum):
    CANCELLED = "cancelled"
    NOT_YOURS = "not_yours"
    ALREADY_FINISHED = "already_finished"
    UNKNOWN = "unknown"
    BUSY = "busy"


class Reelbot:
    def __init__(
        self,
        store: JobStore,
        providers: Mapping[str, Provider],
        notifier: Notifier,
        runner: JobRunner,
        poller: Poller,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._clock = clock
        self.store = store
        self.providers = providers
        self.notifier = notifier
        self.runner = runner
        self.poller = poller

    async def create_job(
        self, provider: Provider, request: BaseModel, source: str, origin: Origin
    ) -> Job:
        """Persist the job as queued; call before acknowledging Slack.

        The job becomes due only one lease from now: until then this process holds it (see
        `start`), and if this process dies first, any replica's poller takes it over then.
        """
        job = Job(
            kind=provider.kind,
            provider=provider.name,
            source=source,
            request=describe_request(request),
            user_id=origin.user_id,
            channel_id=origin.channel_id,
            team_id=origin.team_id,
            thread_ts=origin.thread_ts,
            next_run_at=self._clock() + self.poller.lease_seconds,
        )
        stored = await self.store.add(job)
        log.info("job %s: queued for %s by %s", stored.id, provider.name, origin.user_id)
        return stored

    async def start(self, job: Job) -> None:
        """After the ack: post the root message, then run the first step right away."""
        synced = await self.runner.sync(job)
        if synced is not None and synced.root_ts is not None:
            self.poller.kick_job(synced)

    async def cancel(self, job_id: str, user_id: str) -> tuple[CancelOutcome, Job | None]:
        for _ in range(10):
            job = await self.store.get(job_id)
            if job is None:
                return CancelOutcome.UNKNOWN, None
            if job.user_id != user_id:
                return CancelOutcome.NOT_YOURS, job
            if job.terminal:
                return CancelOutcome.ALREADY_FINISHED, job
            saved = await self.store.save(
                job.moved(
                    JobState.CANCELLED,
                    cancelled_by=user_id,
                    next_run_at=self._clock() + self.poller.lease_seconds,
                )
            )
            if saved is not None:
                log.info("job %s: cancelled by its requester", job_id)
                await self.runner.sync(saved)
                return CancelOutcome.CANCELLED, saved
        log.warning("job %s: cancel lost 10 races in a row", job_id)
        return CancelOutcome.BUSY, None
