"""A job's create, by the holder of its lease: its turn at the provider's limits, in line
(bot/queue_gate.py), the video file fetched or staged, the budget reserved, the create
recorded as in flight (SUBMITTING) before it is sent, then sent once, and its answer recorded
whatever else happens.

A holder that finds a create in flight resends it only with the same idempotency key, where
the provider takes one, and otherwise fails the job with a sentence. JobRunner (bot/runner.py)
is a CreateSteps: it adds the turn, the polls and Slack.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.budget import Budgets
from bot.directory import ProviderDirectory
from bot.intake import FileIntake, FileTrouble
from bot.jobs import Job, JobState
from bot.logs import about, state_in_turn
from bot.media_links import MediaLinks
from bot.metrics import Metrics
from bot.notify import Lost, Notifier
from bot.queue_gate import QueueGate, Wait
from bot.store import STORE_DOWN
from bot.store.base import InFlightFull, JobStore
from providers.base import (
    NOT_SENT,
    ErrorKind,
    FileSource,
    Provider,
    ProviderError,
    RateLimited,
    SendsFiles,
    Submission,
    Unavailable,
)

log = logging.getLogger(__name__)
# A create with an idempotency key is sent again for this long at most: keys are replayed
# for a limited time (a day is usual), after which a resend could be a second job.
CREATE_RETRY_SECONDS = 6 * 3600.0
MAX_LOST = 5
_STORE_PATIENCE_S = 30.0


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


def _minutes(seconds: float) -> str:
    minutes = max(1, round(seconds / 60))
    return f"about {minutes} minute{'s' if minutes != 1 else ''}"


def _requeued(job: Job, notice: str, until: float, **changes: Any) -> Job:
    """Back in the queue with no create in flight: the only send surely never arrived."""
    return job.moved(
        JobState.QUEUED,
        notice=notice,
        next_run_at=until,
        create_started_at=None,
        create_attempts=0,
        create_keyed=None,
        **changes,
    )


class CreateSteps:
    """The create path and the small steps every part of a turn uses."""

    _clock: Callable[[], float]
    _store: JobStore
    _notifier: Notifier
    _timing: Timing
    _webhook_base: str | None
    _media_links: MediaLinks | None
    _intake: FileIntake
    _budgets: Budgets
    _metrics: Metrics | None
    _directory: ProviderDirectory

    def _saved(self, saved: Job) -> None:
        """A save landed: logs are about it now, and a state change is counted."""
        if self._metrics is not None and state_in_turn() != saved.state.value:
            self._metrics.jobs.labels(saved.provider, saved.state.value).inc()
        about(saved)

    async def _still_held(self, job_id: str, owner: str) -> bool:
        """Renew our lease; False when it is another replica's now (we must stop)."""
        return await self._store.renew(job_id, owner, self._clock() + self._timing.lease)

    async def _latest(self, job: Job) -> Job:
        latest = await self._store.get(job.id)
        if latest is None:
            raise Lost
        return latest

    async def _fail(self, job: Job, owner: str, kind: ErrorKind, message: str) -> Job:
        return await self._save(job.moved(JobState.FAILED, error=message, error_kind=kind), owner)

    async def _save(self, job: Job, owner: str) -> Job:
        saved = await self._store.save(job, now=self._clock(), owner=owner)
        if saved is None:
            raise Lost
        self._saved(saved)
        log.info("job %s: saved as %s", saved.id, saved.state.value)
        return saved

    def _waiting(self, job: Job, notice: str, until: float) -> Job:
        return job.changed(notice=notice, next_run_at=until)

    @functools.cached_property
    def _line(self) -> QueueGate:
        return QueueGate(self._store, self._timing.poll_min, self._directory.account)

    async def _submit(self, job: Job, provider: Provider, owner: str, now: float) -> Job:
        limit = provider.in_flight_limit
        held_back = await self._line.in_flight(job, provider, now)
        if held_back is not None:
            return self._waiting(job, held_back.notice, held_back.until)
        waiting = await self._stage(job, provider, owner, now)
        if waiting is not None:
            return waiting
        turn = await self._line.take_turn(job, provider, now)
        if isinstance(turn, Wait):
            return self._waiting(job, turn.notice, turn.until)
        async with contextlib.AsyncExitStack() as spooling:
            # A file the create carries is fetched while the job is still queued: a Cancel
            # meanwhile makes the move to SUBMITTING fail, so nothing is sent.
            try:
                request = provider.load_request(job.request)
                source = await self._intake.spool(spooling, provider, request)
            except FileTrouble as trouble:
                return await self._unfetched(job, owner, trouble, now)
            job, refusal = await self._budgets.reserve(job, provider.label)
            if refusal is not None:
                return await self._fail(job, owner, ErrorKind.OVER_BUDGET, refusal)
            # A reservation is never given back here: a holder that lost its lease cannot
            # tell whether the job's new holder has sent it. One that ends unsent is given
            # back when it ends (Budgets.reconcile).
            try:
                sending = await self._store.save(
                    job.moved(
                        JobState.SUBMITTING,
                        create_started_at=now,
                        create_attempts=1,
                        create_keyed=provider.retryable_create,
                        notice=None,
                    ),
                    now=now,
                    owner=owner,
                    in_flight_limit=limit,
                )
            except InFlightFull:
                full = await self._line.back_in_line(job, provider, turn, now)
                return self._waiting(job, full.notice, full.until)
            if sending is None:
                raise Lost
            self._saved(sending)
            return await self._create(sending, provider, owner, source)

    async def _stage(self, job: Job, provider: Provider, owner: str, now: float) -> Job | None:
        """A video file's bytes to the provider before its create (the upload is free and may
        be repeated); None when they are there (or not needed), else the job waiting or
        failed."""
        retries = job.provider_retries + 1
        retry = now + self._timing.retry_delay(retries)
        try:
            await self._intake.stage(provider, provider.load_request(job.request), job.id)
        except RateLimited as error:
            return self._waiting(job, error.message, now + error.retry_after)
        except Unavailable as error:
            if self._gave_up(job, now):
                return await self._fail(job, owner, ErrorKind.UNAVAILABLE, error.message)
            return job.changed(provider_retries=retries, notice=error.message, next_run_at=retry)
        except ProviderError as error:
            log.info("job %s: %s refused the file (%s)", job.id, job.provider, error.code)
            return await self._fail(job, owner, error.kind, error.message)
        except FileTrouble as trouble:
            return await self._unfetched(job, owner, trouble, now)
        return None

    def _with_fresh_link(self, job: Job) -> dict[str, Any]:
        """The stored request, with a signed link to a Slack file signed afresh (its life
        then counts from the create, not from when the form was sent)."""
        if job.media is None or job.media_link is None or self._media_links is None:
            return job.request
        fresh = self._media_links.link(job.media)
        return {k: fresh if v == job.media_link else v for k, v in job.request.items()}

    def _gave_up(self, job: Job, now: float) -> bool:
        return now - job.created_at > self._timing.job_timeout

    async def _unfetched(self, job: Job, owner: str, trouble: FileTrouble, now: float) -> Job:
        """The Slack file could not be had, before anything was sent: wait and try again (from
        the queue), or fail with the reason."""
        log.info("job %s: the Slack file was not fetched (%s)", job.id, trouble.reason)
        if not trouble.again or self._gave_up(job, now):
            return await self._fail(job, owner, ErrorKind.BAD_INPUT, trouble.message)
        retries = job.provider_retries + 1
        until = now + self._timing.retry_delay(retries)
        if job.state is JobState.QUEUED:
            # Still queued: only the wait changes (saved with the release).
            return job.changed(provider_retries=retries, notice=trouble.message, next_run_at=until)
        if job.create_attempts > 1:
            # An earlier send's outcome is unknown: it stays in flight, to be resent later.
            return job.changed(provider_retries=retries, notice=trouble.message, next_run_at=until)
        return await self._save(
            _requeued(job, trouble.message, until, provider_retries=retries), owner
        )

    async def _resume_create(self, job: Job, provider: Provider, owner: str, now: float) -> Job:
        if job.provider_ref is not None:
            # A holder fenced off after its create succeeded recorded the provider's job id.
            log.info("job %s: its create in flight was recorded as %s", job.id, job.provider_ref)
            return await self._save(
                job.moved(
                    JobState.SUBMITTED,
                    submitted_at=now,
                    notice=None,
                    next_run_at=now + self._timing.poll_min,
                ),
                owner,
            )
        window = min(self._timing.job_timeout, CREATE_RETRY_SECONDS)
        started = job.create_started_at or now
        # Resent only when the create in flight carried a key and the provider still sends one.
        keyed = provider.retryable_create and job.create_keyed is True
        if keyed and now - started > window:
            hours = window / 3600
            return await self._fail(
                job,
                owner,
                ErrorKind.UNAVAILABLE,
                f"{provider.label} did not confirm this request for {hours:g} hours, so Reelbot "
                f"stopped sending it. Check your {provider.label} account before asking again.",
            )
        if not keyed:
            log.warning(
                "job %s: found its %s create in flight; not sending it again", job.id, provider.name
            )
            return await self._fail(
                job,
                owner,
                ErrorKind.CREATE_LOST,
                f"Reelbot stopped while {provider.label} was receiving this request, so "
                f"{provider.label} may be working on it anyway. So that your account is not "
                f"charged twice, Reelbot did not send it again: check your {provider.label} "
                "projects, or ask again.",
            )
        # Sent again with the same idempotency key: the same create, never a second one.
        sending = await self._save(job.changed(create_attempts=job.create_attempts + 1), owner)
        return await self._create(sending, provider, owner)

    async def _create(
        self, job: Job, provider: Provider, owner: str, source: FileSource | None = None
    ) -> Job:
        now = self._clock()
        request = provider.load_request(self._with_fresh_link(job))
        webhook = (
            f"{self._webhook_base}/webhooks/{provider.name}/{job.id}/{job.webhook_token}"
            if self._webhook_base
            else None
        )
        try:
            async with contextlib.AsyncExitStack() as spooling:
                if source is None:
                    source = await self._intake.spool(spooling, provider, request)
                if isinstance(provider, SendsFiles) and source is not None:
                    submission = await provider.submit_file(
                        request, key=job.id, source=source, webhook_url=webhook
                    )
                else:
                    submission = await provider.submit(request, key=job.id, webhook_url=webhook)
        except FileTrouble as trouble:
            # Fetched before the create was sent: nothing reached the provider.
            if job.create_attempts <= 1:
                await self._budgets.release(job)
            return await self._unfetched(job, owner, trouble, now)
        except Unavailable as error:
            retries = job.provider_retries + 1
            if error.code == NOT_SENT and job.create_attempts <= 1:
                # The only send surely never reached the provider: back in the queue.
                until = now + self._timing.retry_delay(retries)
                queued = _requeued(job, error.message, until, provider_retries=retries)
                await self._budgets.release(job)
                return await self._save(queued, owner)
            if job.create_keyed:
                # Resent later with its key; an earlier send's outcome may still be unknown.
                return job.changed(
                    provider_retries=retries,
                    notice=error.message,
                    next_run_at=now + self._timing.retry_delay(retries),
                )
            log.warning("job %s: %s create unconfirmed (%s)", job.id, provider.name, error.code)
            return await self._fail(
                job,
                owner,
                ErrorKind.CREATE_LOST,
                f"{provider.label} did not confirm that it received the request, and it may be "
                "working on it anyway. So that your account is not charged twice, Reelbot did "
                f"not send it again: check your {provider.label} projects, or ask again.",
            )
        except RateLimited as error:
            notice = (
                f"{provider.label} asked Reelbot to slow down; your request stays in the "
                f"queue and is tried again in {_minutes(error.retry_after)}."
            )
            until = now + error.retry_after
            if job.create_attempts > 1:
                # An earlier send's outcome is unknown: keep resending it with its key, within
                # the window that counts from the first send.
                return self._waiting(job, notice, until)
            # A refusal of the only send: surely not created, so back in the queue (a rate
            # limit never counts towards giving a create up).
            await self._budgets.release(job)
            return await self._save(_requeued(job, notice, until), owner)
        except ProviderError as error:
            log.info("job %s: %s refused (%s): %s", job.id, provider.name, error.code, error.kind)
            if job.create_attempts <= 1:
                await self._budgets.release(job)  # refused outright: nothing was charged
            return await self._fail(job, owner, error.kind, error.message)
        log.info("job %s: submitted to %s as %s", job.id, provider.name, submission.ref)
        return await self._keep(job, submission, owner)

    async def _keep(self, job: Job, submission: Submission, owner: str) -> Job:
        """Record an accepted create whatever else happened meanwhile: its ref must never be
        lost. A Cancel click during the create still gets the ref and the charge recorded; a
        store that stops answering is waited for; a holder fenced off meanwhile records just
        the ref, for the job's new holder to pick up."""
        now = self._clock()
        first = submission.first_poll_after or self._timing.poll_min
        deadline = time.monotonic() + _STORE_PATIENCE_S
        fenced = False
        for _ in range(4 * MAX_LOST):
            if job.state is JobState.SUBMITTING and not fenced:
                changed = job.moved(
                    JobState.SUBMITTED,
                    provider_ref=submission.ref,
                    charged_cents=submission.cost_cents,
                    submitted_at=now,
                    notice=None,
                    provider_retries=0,
                    next_run_at=now + first,
                )
            elif job.provider_ref is None:
                changed = job.changed(
                    provider_ref=submission.ref, charged_cents=submission.cost_cents
                )
            else:
                raise Lost  # recorded already, by us or by the job's new holder
            try:
                saved = await self._store.save(
                    changed, now=self._clock(), owner=None if fenced else owner
                )
                if saved is not None:
                    if fenced:
                        raise Lost
                    self._saved(saved)
                    return saved
                fenced = fenced or not await self._still_held(job.id, owner)
                job = await self._latest(job)
            except STORE_DOWN as exc:
                if time.monotonic() > deadline:
                    raise
                log.warning(
                    "job %s: store did not take %s (%s); retrying",
                    job.id,
                    submission.ref,
                    type(exc).__name__,
                )
                await asyncio.sleep(1.0)
        log.error("job %s: could not record %s job %s", job.id, job.provider, submission.ref)
        raise Lost
