"""Scheduler wiring and one tick: claim due jobs -> run each (poll, record, notify)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.jobs import Job
from bot.runner import JobRunner
from bot.store import STORE_DOWN
from bot.store.base import JobStore

log = logging.getLogger(__name__)


class Poller:
    def __init__(
        self,
        store: JobStore,
        runner: JobRunner,
        *,
        tick_seconds: float,
        concurrency: int = 8,
        lease_seconds: float = 120.0,
        stop_grace_seconds: float = 30.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._clock = clock
        self._store = store
        self._runner = runner
        self._tick_seconds = tick_seconds
        # Claim only what can run at once, so no claimed job waits out its lease in a queue.
        self._batch = concurrency
        self._lease = lease_seconds
        self._stop_grace = stop_grace_seconds
        self._gate = asyncio.Semaphore(concurrency)
        self._scheduler: AsyncIOScheduler | None = None
        self._kicks: set[asyncio.Task[None]] = set()
        self._ticking: asyncio.Task[None] | None = None
        self.last_tick_at: float | None = None

    @property
    def running(self) -> bool:
        return self._scheduler is not None and bool(self._scheduler.running)

    async def tick(self) -> int:
        """Claim and run due jobs until none are left (bounded), returning how many ran."""
        ran = 0
        for _ in range(20):
            jobs = await self._store.claim_due(self._clock(), self._batch, self._lease)
            if jobs:
                await asyncio.gather(*(self._run(job) for job in jobs))
                ran += len(jobs)
            if len(jobs) < self._batch:
                break
        self.last_tick_at = time.time()
        return ran

    async def run_now(self, job_id: str) -> None:
        """Run one job at once if it is due (the listener and webhook fast path)."""
        job = await self._store.claim(job_id, self._clock(), self._lease)
        if job is not None:
            await self._run(job)

    @property
    def lease_seconds(self) -> float:
        return self._lease

    def kick(self, job_id: str) -> None:
        """run_now in the background (webhook fast path)."""
        self._background(self.run_now(job_id))

    def kick_job(self, job: Job) -> None:
        """Run a job this process already holds (a new job inside its start grace)."""
        self._background(self._run(job))

    def _background(self, work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        # Keep a reference so the task is not collected before it finishes.
        task = asyncio.create_task(work)
        self._kicks.add(task)
        task.add_done_callback(self._kicks.discard)
        return task

    async def _run(self, job: Job) -> None:
        async with self._gate:
            try:
                await self._runner.run(job)
            except Exception:
                # The job stays due (its lease, or a finished job's guard, runs out), so a
                # later tick retries it; never lose the tick.
                log.exception("job %s: step failed; it will be retried", job.id)

    def start(self) -> None:
        scheduler = AsyncIOScheduler()
        scheduler.add_job(
            self._scheduled_tick,
            "interval",
            seconds=self._tick_seconds,
            max_instances=1,
            coalesce=True,
            id="reelbot-poll",
        )
        scheduler.start()
        self._scheduler = scheduler
        self.kick_tick()

    def kick_tick(self) -> None:
        if self._ticking is None or self._ticking.done():
            self._ticking = self._background(self._tick_quietly())

    async def _scheduled_tick(self) -> None:
        # The tick runs as our own task, not APScheduler's: its shutdown cancels running
        # jobs, and a tick cut off between a save and a Slack post would strand that post.
        self.kick_tick()

    async def _tick_quietly(self) -> None:
        try:
            await self.tick()
        except STORE_DOWN as exc:
            # One line per tick while the store is down; /healthz reports it too.
            log.warning("poll tick skipped: the job store is unreachable (%s)", type(exc).__name__)
        except Exception:
            log.exception("poll tick failed")

    async def stop(self) -> None:
        """Stop scheduling, let the work in flight finish (bounded), then cancel the rest;
        anything cancelled is claimed again by a replica when its lease ends."""
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None
        if self._kicks:
            _, pending = await asyncio.wait(set(self._kicks), timeout=self._stop_grace)
            for task in pending:
                task.cancel()
            if pending:
                log.warning(
                    "stopped with %d job steps unfinished; they resume elsewhere", len(pending)
                )
                await asyncio.gather(*pending, return_exceptions=True)
