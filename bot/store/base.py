"""The JobStore protocol: every implementation passes tests/contract/test_store_contract.py.

Leases. A job is worked on only by the holder of its lease: an `owner` token (one per claim)
and an end time. Claiming a job sets both and moves the job's due time to the lease end, so
nobody else claims it until then, and a holder that dies gives the job back when the lease
ends. The holder renews the lease while its step runs and ends it with `save(...,
release=True)`. A save by anyone else (a Cancel click) changes the job's data by version as
usual but never touches the lease: the job becomes due at its new `next_run_at` only when
the holder releases it or the lease runs out.

Due sets are per provider, so a poller can serve providers by their own limits. Times always
come from the caller.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from bot.jobs import Job
from bot.store.line import QueueLine
from bot.store.spend import SpendLedger
from bot.store.team_config import TeamConfig
from providers.base import RateWindow, SharedState


class InFlightFull(Exception):
    """A save that would put one more job at the provider than its in-flight limit allows."""

    def __init__(self, in_flight: int) -> None:
        super().__init__(f"{in_flight} jobs already at the provider")
        self.in_flight = in_flight


@dataclass(frozen=True)
class ActiveJobs:
    """A page of a workspace's jobs not finished yet, newest first, and how many there are."""

    jobs: list[Job] = field(default_factory=list)
    total: int = 0


class JobStore(SharedState, SpendLedger, TeamConfig, QueueLine, Protocol):
    async def add(
        self, job: Job, *, owner: str | None = None, lease_until: float | None = None
    ) -> Job:
        """Persist a new job (version becomes 1), due at job.next_run_at (None: not due).

        With `owner`, the job starts leased to it until `lease_until`. ValueError if the id
        exists (the stored job is left as it was).
        """
        ...

    async def get(self, job_id: str) -> Job | None: ...

    async def save(
        self,
        job: Job,
        *,
        now: float,
        owner: str | None = None,
        release: bool = False,
        in_flight_limit: int | None = None,
    ) -> Job | None:
        """Compare-and-set: store `job` only if the stored version equals job.version.

        Returns the stored job (version + 1), or None when another writer got there first or,
        with `owner`, when the lease is not (or no longer) that owner's: a holder whose lease
        ran out and was claimed by another can never write again. With `release`, the lease
        ends. The due time follows
        job.next_run_at (None: not due) unless a lease is held at `now` and not released;
        then the job stays due at the lease end. The provider index follows job.provider_ref.
        With `in_flight_limit`, a job that would newly be at the provider (state.at_provider)
        while `in_flight_limit` others are raises InFlightFull and nothing is stored.
        """
        ...

    async def claim_due(
        self, provider: str, now: float, limit: int, lease_seconds: float, owner: str
    ) -> list[Job]:
        """Lease up to `limit` of `provider`'s jobs due at `now`, earliest due first."""
        ...

    async def claim(self, job_id: str, now: float, lease_seconds: float, owner: str) -> Job | None:
        """Lease one job if it is due now; None if it is not due or someone holds it."""
        ...

    async def renew(self, job_id: str, owner: str, until: float) -> bool:
        """Extend `owner`'s lease to `until`; False when the lease is someone else's now."""
        ...

    async def make_due(self, job_id: str, now: float) -> bool:
        """Webhook fast path: a job in a due set becomes due no later than `now`, unless its
        lease is held (a lease is never cut short). True when the job is in a due set."""
        ...

    async def lease_end(self, job_id: str) -> float | None:
        """When the job's current lease ends (possibly past), or None when none was taken or
        it was released."""
        ...

    async def next_due(self, providers: Sequence[str]) -> float | None:
        """The earliest due time among these providers' jobs (leased ones too), if any."""
        ...

    async def queue_depth(self, provider: str, now: float) -> int:
        """How many of `provider`'s jobs are due at `now` (waiting for a turn)."""
        ...

    async def in_flight(self, provider: str) -> int:
        """How many of the provider's jobs are at the provider (state.at_provider)."""
        ...

    async def find_by_ref(self, provider: str, ref: str) -> str | None:
        """The job id behind a provider's job id."""
        ...

    async def recent_for_user(self, user_id: str, limit: int = 10) -> list[Job]:
        """The user's newest jobs first."""
        ...

    async def active_for_team(self, team_id: str | None, limit: int = 20) -> ActiveJobs:
        """The team's jobs not in a terminal state, newest first (at most `limit`), from an
        index kept by add and save (never a scan). A job without a team is under None."""
        ...

    async def take_rate_slot(self, key: str, windows: Sequence[RateWindow], now: float) -> float:
        """Take one slot in every window at once, or none: 0.0 when taken, otherwise the
        seconds until a slot opens in the fullest window."""
        ...

    async def pace(self, key: str, interval: float, now: float, max_wait: float) -> float:
        """Space calls on `key` `interval` seconds apart, across every replica.

        Returns the seconds until the caller's turn. When that is at most `max_wait` the turn
        is reserved (wait, then go); when it is longer nothing is reserved (come back then).
        """
        ...

    async def purge(self, before: float, limit: int = 500) -> int:
        """Delete up to `limit` finished jobs (terminal, not due) that finished before
        `before`, with their provider index entries; returns how many went."""
        ...

    async def purge_shared(self) -> int:
        """Delete expired shared state where the store does not expire it by itself."""
        ...

    async def ping(self) -> bool: ...

    async def close(self) -> None: ...
