"""The poller: a worker pool that claims due jobs as slots free up and runs each one's turn.

One dispatcher task per replica fills free slots from each provider's due set (at most
`concurrency` turns at once, at most `per_provider` of one provider), then sleeps until the
earliest due time, a wake-up (a new job, a webhook, a click, a slot freed) or the tick,
whichever comes first, so a poll due at 60 s runs at 60 s, not at the next tick. Each turn
holds its job's lease and renews it while it runs. APScheduler drives the tick and the
hourly purge of finished jobs.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.jobs import Job
from bot.logs import about
from bot.metrics import Metrics
from bot.runner import JobRunner
from bot.store import STORE_DOWN
from bot.store.base import JobStore

log = logging.getLogger(__name__)
_PURGE_BATCH = 500


class Poller:
    def __init__(
        self,
        store: JobStore,
        runner: JobRunner,
        *,
        providers: Sequence[str],
        tick_seconds: float,
        concurrency: int = 64,
        per_provider: int | None = None,
        lease_seconds: float = 120.0,
        stop_grace_seconds: float = 30.0,
        retention_seconds: float = 30 * 86400.0,
        metrics: Metrics | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._clock = clock
        self._metrics = metrics
        self._store = store
        self._runner = runner
        self._providers = list(dict.fromkeys(providers))
        self._tick_seconds = tick_seconds
        self._concurrency = concurrency
        self._per_provider = min(per_provider or concurrency, concurrency)
        self._lease = lease_seconds
        self._stop_grace = stop_grace_seconds
        self._retention = retention_seconds
        self._replica = uuid.uuid4().hex[:12]
        self._serial = itertools.count(1)
        self._turns: dict[asyncio.Task[None], str] = {}
        self._busy: Counter[str] = Counter()
        self._wakeup = asyncio.Event()
        self._stopping = False
        self._dispatcher: asyncio.Task[None] | None = None
        self._scheduler: AsyncIOScheduler | None = None
        self._rotation = 0
        self.last_tick_at: float | None = None

    @property
    def lease_seconds(self) -> float:
        return self._lease

    @property
    def running(self) -> bool:
        return (
            not self._stopping
            and self._dispatcher is not None
            and not self._dispatcher.done()
            and self._scheduler is not None
            and bool(self._scheduler.running)
        )

    def wake(self) -> None:
        """Look for due jobs now (a new job, a webhook, a click)."""
        self._wakeup.set()

    # --- the pool ----------------------------------------------------------------------------
    def start(self) -> None:
        self._stopping = False
        scheduler = AsyncIOScheduler()
        scheduler.add_job(
            self.wake, "interval", seconds=self._tick_seconds, id="reelbot-tick", coalesce=True
        )
        scheduler.add_job(
            self.purge_finished,
            "interval",
            hours=1,
            id="reelbot-purge",
            coalesce=True,
            max_instances=1,
            next_run_time=datetime.now(UTC),  # and once at start, for short-lived replicas
        )
        scheduler.start()
        self._scheduler = scheduler
        self._dispatcher = asyncio.create_task(self._dispatch())

    async def _dispatch(self) -> None:
        while not self._stopping:
            self._wakeup.clear()
            self.last_tick_at = time.time()
            try:
                started = await self._fill()
            except STORE_DOWN as exc:
                # One line per tick while the store is down; /healthz reports it too.
                log.warning("poll skipped: the job store is unreachable (%s)", type(exc).__name__)
                started = 0
            except Exception:
                log.exception("poll failed")
                started = 0
            if started and len(self._turns) < self._concurrency:
                continue  # more may be due: fill again before sleeping
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), await self._idle_seconds())

    async def _idle_seconds(self) -> float:
        if len(self._turns) >= self._concurrency:
            return self._tick_seconds  # a finishing turn wakes us
        try:
            due = await self._store.next_due(self._providers)
        except STORE_DOWN:
            return self._tick_seconds
        if due is None:
            return self._tick_seconds
        until = due - self._clock()
        # Due now but not claimed: every slot for its provider is busy; a finishing turn wakes us.
        return self._tick_seconds if until <= 0 else min(self._tick_seconds, until)

    async def _fill(self) -> int:
        started = 0
        self._rotation = (self._rotation + 1) % max(1, len(self._providers))
        order = self._providers[self._rotation :] + self._providers[: self._rotation]
        for provider in order:
            room = min(
                self._concurrency - len(self._turns), self._per_provider - self._busy[provider]
            )
            if room <= 0 or self._stopping:
                continue
            owner = self._owner()
            jobs = await self._store.claim_due(provider, self._clock(), room, self._lease, owner)
            for job in jobs:
                self._start(job, owner)
            started += len(jobs)
        return started

    def _owner(self) -> str:
        return f"{self._replica}:{next(self._serial)}"

    def _start(self, job: Job, owner: str) -> None:
        task = asyncio.create_task(self._turn(job, owner))
        self._turns[task] = job.provider
        self._busy[job.provider] += 1
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        provider = self._turns.pop(task, None)
        if provider is not None:
            self._busy[provider] -= 1
        self._wakeup.set()

    async def _turn(self, job: Job, owner: str) -> None:
        turn = asyncio.current_task()
        assert turn is not None
        about(job)
        if self._metrics is not None and job.next_run_at is not None:
            lag = max(0.0, self._clock() - job.next_run_at)
            self._metrics.poll_lag.labels(job.provider).observe(lag)
        renewing = asyncio.create_task(self._renew(job.id, owner, turn))
        try:
            await self._runner.run(job, owner)
        except asyncio.CancelledError:
            if self._stopping:
                raise
            # Stopped by _renew: the lease is another replica's; nothing to clean up.
        except Exception:
            # The job stays due (its lease runs out), so a later turn retries it.
            log.exception("job %s: step failed; it will be retried", job.id)
        finally:
            renewing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewing

    async def _renew(self, job_id: str, owner: str, turn: asyncio.Task[None]) -> None:
        """Keep the lease while the turn runs; stop the turn if another replica has the job
        (this one stalled past its lease): whatever it was doing is the new holder's now."""
        while True:
            await asyncio.sleep(self._lease / 3)
            try:
                held = await self._store.renew(job_id, owner, self._clock() + self._lease)
            except STORE_DOWN as exc:
                log.warning("job %s: lease not renewed (%s)", job_id, type(exc).__name__)
                continue
            if not held:
                log.warning("job %s: lease lost to another replica; stopping this turn", job_id)
                turn.cancel()
                return

    async def tick(self) -> int:
        """Claim and run every due job until none are left (bounded); how many ran.

        For tests and benchmarks: the same turns the pool runs, awaited here."""
        ran = 0
        for _ in range(20):
            batch: list[tuple[Job, str]] = []
            for provider in self._providers:
                owner = self._owner()
                claimed = await self._store.claim_due(
                    provider, self._clock(), self._concurrency, self._lease, owner
                )
                batch += [(job, owner) for job in claimed]
            if not batch:
                break
            await asyncio.gather(*(self._turn(job, owner) for job, owner in batch))
            ran += len(batch)
        self.last_tick_at = time.time()
        return ran

    async def purge_finished(self) -> None:
        """Delete finished jobs older than the retention period (every replica, hourly)."""
        before = self._clock() - self._retention
        try:
            await self._store.purge_shared()
            for _ in range(20):
                if await self._store.purge(before, _PURGE_BATCH) < _PURGE_BATCH:
                    return
        except STORE_DOWN as exc:
            log.warning("purge skipped: the job store is unreachable (%s)", type(exc).__name__)

    async def stop(self) -> None:
        """Stop claiming, let the turns in flight finish (bounded), then cancel the rest;
        anything cancelled is claimed again by a replica when its lease ends."""
        self._stopping = True
        self.wake()
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None
        if self._dispatcher is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._dispatcher, 5)
            self._dispatcher = None
        if self._turns:
            _, pending = await asyncio.wait(set(self._turns), timeout=self._stop_grace)
            for task in pending:
                task.cancel()
            if pending:
                log.warning(
                    "stopped with %d job turns unfinished; they resume elsewhere", len(pending)
                )
                await asyncio.gather(*pending, return_exceptions=True)
