"""The JobStore protocol: every implementation passes tests/contract/test_store_contract.py."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from bot.jobs import Job
from providers.base import RateWindow


class JobStore(Protocol):
    async def add(self, job: Job) -> Job:
        """Persist a new job (version becomes 1) and put it in the due set at job.next_run_at."""
        ...

    async def get(self, job_id: str) -> Job | None: ...

    async def save(self, job: Job) -> Job | None:
        """Compare-and-set: store `job` only if the stored version equals job.version.

        Returns the stored job (version + 1), or None when another writer got there first.
        The due set follows job.next_run_at alone (None removes the job from it; a finished job
        stays due while Slack still owes it a post); the provider index follows job.provider_ref.
        """
        ...

    async def claim_due(self, now: float, limit: int, lease_seconds: float) -> list[Job]:
        """Lease up to `limit` jobs due at `now`: their due time moves to now + lease_seconds,
        so no other caller gets them until then, and a crashed caller's jobs come back."""
        ...

    async def claim(self, job_id: str, now: float, lease_seconds: float) -> Job | None:
        """Lease one job if it is due now; None if it is not due or someone holds it."""
        ...

    async def make_due(self, job_id: str, now: float) -> bool:
        """Webhook fast path: a job still in the due set becomes due at `now`."""
        ...

    async def find_by_ref(self, provider: str, ref: str) -> str | None:
        """The job id behind a provider's job id."""
        ...

    async def recent_for_user(self, user_id: str, limit: int = 10) -> list[Job]:
        """The user's newest jobs first."""
        ...

    async def take_rate_slot(self, key: str, windows: Sequence[RateWindow], now: float) -> float:
        """Take one slot in every window at once, or none: 0.0 when taken, otherwise the
        seconds until a slot opens in the fullest window."""
        ...

    async def ping(self) -> bool: ...

    async def close(self) -> None: ...
