"""One step of a job: submit it or poll it, record what happened, then bring Slack up to date."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import aiohttp
from slack_sdk.errors import SlackApiError

from bot.jobs import Job, JobState
from bot.notify import Notifier, slack_error
from bot.store.base import JobStore
from providers.base import (
    NOT_SENT,
    Progress,
    Provider,
    ProviderError,
    RateLimited,
    Unavailable,
)

log = logging.getLogger(__name__)
MAX_SLACK_RETRIES = 8


@dataclass(frozen=True)
class Timing:
    poll_min: float = 10.0
    poll_max: float = 60.0
    job_timeout: float = 24 * 3600.0
    retry_min: float = 5.0
    retry_max: float = 300.0
    lease: float = 120.0

    def poll_delay(self, polls: int) -> float:
        delay: float = min(self.poll_max, self.poll_min * 1.5 ** max(0, polls - 1))
        return delay

    def retry_delay(self, retries: int) -> float:
        base: float = min(self.retry_max, self.retry_min * 2.0 ** max(0, retries - 1))
        return base * random.uniform(0.8, 1.2)


def _per(seconds: int) -> str:
    return {60: "minute", 3600: "hour", 86400: "day"}.get(seconds, f"{seconds} seconds")


def _minutes(seconds: float) -> str:
    minutes = max(1, round(seconds / 60))
    return f"about {minutes} minute{'s' if minutes != 1 else ''}"


class JobRunner:
    def __init__(
        self,
        store: JobStore,
        providers: Mapping[str, Provider],
        notifier: Notifier,
        *,
        timing: Timing | None = None,
        webhook_base: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._clock = clock
        self._store = store
        self._providers = providers
        self._notifier = notifier
        self._timing = timing or Timing()
        self._webhook_base = webhook_base.rstrip("/") if webhook_base else None

    async def run(self, job: Job) -> Job | None:
        """Advance a claimed job one step and sync Slack. None when another writer won."""
        stepped = await self._step(job)
        if stepped is None:
            return None
        return await self.sync(stepped)

    async def sync(self, job: Job) -> Job | None:
        """Bring Slack up to date; while Slack refuses, keep the job due so a later tick
        finishes the posting (a finished job too), giving up after MAX_SLACK_RETRIES."""
        try:
            synced = await self._notifier.sync(job)
        except (SlackApiError, aiohttp.ClientError, TimeoutError) as exc:
            return await self._slack_setback(job, exc)
        if synced is not None and synced.terminal and synced.next_run_at is not None:
            return await self._store.save(synced.changed(next_run_at=None, retries=0))
        return synced

    async def _slack_setback(self, job: Job, exc: Exception) -> Job | None:
        latest = await self._store.get(job.id)
        if latest is None:
            return None
        reason = slack_error(exc) if isinstance(exc, SlackApiError) else type(exc).__name__
        if not latest.terminal:
            log.warning("job %s: Slack refused an update (%s); next tick retries", job.id, reason)
            return latest
        retries = latest.retries + 1
        if retries > MAX_SLACK_RETRIES:
            log.error(
                "job %s: Slack refused the results %d times (%s); giving up",
                job.id,
                retries - 1,
                reason,
            )
            return await self._store.save(latest.changed(next_run_at=None))
        log.warning("job %s: Slack refused the results (%s); retry %d", job.id, reason, retries)
        return await self._store.save(
            latest.changed(
                retries=retries, next_run_at=self._clock() + self._timing.retry_delay(retries)
            )
        )

    async def _step(self, job: Job) -> Job | None:
        if job.terminal:
            return job
        now = self._clock()
        provider = self._providers.get(job.provider)
        if provider is None:
            return await self._fail(
                job,
                "needs_admin",
                f"{job.provider.title()} is no longer set up here; a workspace admin must "
                "configure its API key again.",
                now,
            )
        # Time spent queued for a rate limit does not count: a job never fails for waiting.
        if job.submitted_at is not None and now - job.submitted_at > self._timing.job_timeout:
            hours = self._timing.job_timeout / 3600
            return await self._fail(
                job,
                "failed",
                f"{provider.label} did not finish within {hours:g} hours, so Reelbot stopped "
                "waiting. Try again, perhaps with a shorter video.",
                now,
            )
        if job.state is JobState.QUEUED:
            return await self._submit(job, provider, now)
        return await self._poll(job, provider, now)

    async def _submit(self, job: Job, provider: Provider, now: float) -> Job | None:
        # Own the job before anything leaves this process: if a lease ran out and another
        # replica holds the job too, only one of these saves wins, so only one creates.
        owned = await self._store.save(job.changed(next_run_at=now + self._timing.lease))
        if owned is None:
            return None
        job = owned
        wait = await self._store.take_rate_slot(
            f"submit:{provider.name}", provider.rate_windows, now
        )
        if wait > 0:
            limits = " and ".join(f"{w.limit} per {_per(w.seconds)}" for w in provider.rate_windows)
            notice = (
                f"{provider.label} accepts {limits} for this workspace, so your video waits "
                f"in the queue and goes in {_minutes(wait)}. Nothing to do on your side."
            )
            return await self._store.save(job.changed(notice=notice, next_run_at=now + wait))
        request = provider.request_model.model_validate(job.request)
        webhook = f"{self._webhook_base}/webhooks/{provider.name}" if self._webhook_base else None
        try:
            submission = await provider.submit(request, webhook_url=webhook)
        except Unavailable as error:
            if error.code == NOT_SENT:
                return await self._setback(job, provider, error, now)
            log.warning("job %s: %s create unconfirmed (%s)", job.id, provider.name, error.code)
            return await self._fail(
                job,
                "failed",
                f"{provider.label} did not confirm that it received the video, and it may be "
                "working on it anyway. So that your account is not charged twice, Reelbot did "
                f"not send it again: check your {provider.label} projects, or ask again.",
                now,
            )
        except ProviderError as error:
            return await self._setback(job, provider, error, now)
        log.info("job %s: submitted to %s as %s", job.id, provider.name, submission.ref)
        return await self._store.save(
            job.moved(
                JobState.SUBMITTED,
                provider_ref=submission.ref,
                submitted_at=now,
                notice=None,
                retries=0,
                next_run_at=now + submission.first_poll_after,
            )
        )

    async def _poll(self, job: Job, provider: Provider, now: float) -> Job | None:
        assert job.provider_ref is not None
        try:
            status = await provider.poll(job.provider_ref)
        except ProviderError as error:
            return await self._setback(job, provider, error, now)
        polls = job.polls + 1
        if status.state is Progress.DONE:
            log.info("job %s: done with %d outputs", job.id, len(status.outputs))
            return await self._store.save(
                job.moved(
                    JobState.DONE,
                    next_run_at=self._unposted_guard(now),
                    outputs=list(status.outputs),
                    percent=100.0,
                    polls=polls,
                    notice=None,
                )
            )
        return await self._store.save(
            job.moved(
                JobState.RENDERING,
                percent=status.percent,
                polls=polls,
                retries=0,
                notice=None,
                next_run_at=now + self._timing.poll_delay(polls),
            )
        )

    async def _setback(
        self, job: Job, provider: Provider, error: ProviderError, now: float
    ) -> Job | None:
        if isinstance(error, RateLimited):
            notice = (
                f"{provider.label} asked Reelbot to slow down; your video stays in the "
                f"queue and is tried again in {_minutes(error.retry_after)}."
            )
            return await self._store.save(
                job.changed(notice=notice, next_run_at=now + error.retry_after)
            )
        if isinstance(error, Unavailable):
            retries = job.retries + 1
            log.warning(
                "job %s: %s unavailable (%s), retry %d",
                job.id,
                provider.name,
                error.code or "no answer",
                retries,
            )
            return await self._store.save(
                job.changed(
                    retries=retries,
                    notice=error.message,
                    next_run_at=now + self._timing.retry_delay(retries),
                )
            )
        log.info("job %s: %s refused (%s): %s", job.id, provider.name, error.code, error.kind)
        return await self._fail(job, error.kind, error.message, now)

    async def _fail(self, job: Job, kind: str, message: str, now: float) -> Job | None:
        return await self._store.save(
            job.moved(
                JobState.FAILED,
                error=message,
                error_kind=kind,
                next_run_at=self._unposted_guard(now),
            )
        )

    def _unposted_guard(self, now: float) -> float:
        """A finished job stays due one lease ahead until sync has posted everything, so a
        replica that stops in between leaves the posting to whoever claims it next."""
        return now + self._timing.lease
