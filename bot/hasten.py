"""The webhook fast path: a provider's call makes its job due now.

A lease is never cut short, so a call that arrives while a turn holds the job cannot make it
due then; instead it is tried again each second until the turn ends (bounded), so the fast
path still works when the callback beats the turn that submitted the job.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from bot.store.base import JobStore

log = logging.getLogger(__name__)


class Hastener:
    def __init__(
        self,
        store: JobStore,
        wake: Callable[[], None],
        clock: Callable[[], float],
        *,
        pending: int = 256,
        tries: int = 30,
        every: float = 1.0,
    ) -> None:
        self._store = store
        self._wake = wake
        self._clock = clock
        self._pending = pending
        self._tries = tries
        self._every = every
        self._waiting: dict[str, asyncio.Task[None]] = {}

    async def hasten(self, job_id: str) -> bool:
        """True when the job is in a due set: due now, or as soon as the turn that holds it
        ends (a retry is then under way). False for a job that is not ours or is done."""
        if not await self._due_now(job_id):
            return False
        if not await self._held(job_id):
            # The turn may have ended between the two calls: make sure it is due now.
            await self._due_now(job_id)
        elif job_id not in self._waiting and len(self._waiting) < self._pending:
            task = asyncio.create_task(self._retry(job_id))
            self._waiting[job_id] = task
            task.add_done_callback(lambda _: self._waiting.pop(job_id, None))
        return True

    async def _held(self, job_id: str) -> bool:
        end = await self._store.lease_end(job_id)
        return end is not None and end > self._clock()

    async def _due_now(self, job_id: str) -> bool:
        if not await self._store.make_due(job_id, self._clock()):
            return False
        self._wake()
        return True

    async def _retry(self, job_id: str) -> None:
        for _ in range(self._tries):
            await asyncio.sleep(self._every)
            try:
                if await self._held(job_id):
                    continue
                if await self._due_now(job_id):
                    log.info("job %s: due now, after the turn that held it", job_id)
                return
            except Exception as exc:  # the store is down: the ordinary poll still comes
                log.info("job %s: not hastened (%s)", job_id, type(exc).__name__)
                return

    async def aclose(self) -> None:
        for task in list(self._waiting.values()):
            task.cancel()
        for task in list(self._waiting.values()):
            with contextlib.suppress(asyncio.CancelledError):
                await task
