"""The spend ledger: what paid providers cost this workspace, per month, per person and per
provider, with the budgets enforced where the money is counted.

A job reserves its quote before its create is sent, atomically against both limits (the
workspace's, all paid providers together, and the person's), so two replicas cannot spend
past a budget together. The entry is the job's own (by job id): reserving again changes
nothing, so a turn repeated after a crash reserves once. When the provider reports its charge,
the entry becomes that amount (a ratio of what it charged over its quote is kept, so the
next reservations expect as much); a create that surely never reached the provider gives its
reservation back. Months are calendar months in UTC.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol


def month_of(when: float) -> str:
    return datetime.fromtimestamp(when, UTC).strftime("%Y-%m")


def next_month_start(month: str) -> str:
    year, number = (int(part) for part in month.split("-"))
    year, number = (year + 1, 1) if number == 12 else (year, number + 1)
    return datetime(year, number, 1, tzinfo=UTC).strftime("%B %-d")


@dataclass(frozen=True)
class Spend:
    """One job's entry: who asked, which provider, how much (cents)."""

    team: str
    month: str
    job_id: str
    user: str
    provider: str
    cents: int


@dataclass(frozen=True)
class Budget:
    """Monthly limits in cents; None: no limit."""

    team_cents: int | None = None
    user_cents: int | None = None

    @property
    def limited(self) -> bool:
        return self.team_cents is not None or self.user_cents is not None


@dataclass(frozen=True)
class Reservation:
    """The answer to a reservation: whether it holds, and what is left of each limit after
    it (or, refused, before it); None where there is no limit."""

    ok: bool
    team_left: int | None
    user_left: int | None


@dataclass(frozen=True)
class SpendReport:
    month: str
    total: int = 0
    by_provider: dict[str, int] = field(default_factory=dict)
    by_user: dict[str, int] = field(default_factory=dict)


# A month's ledger is kept this long (a year and a bit), then dropped.
LEDGER_SECONDS = 400 * 86400


class SpendLedger(Protocol):
    async def reserve_spend(self, spend: Spend, budget: Budget) -> Reservation:
        """Record `spend` if it fits both limits (always, without limits); once per job."""
        ...

    async def settle_spend(self, spend: Spend) -> None:
        """The job's entry becomes `spend.cents` (what the provider charged), within the
        limits or not; recorded afresh if it was not there."""
        ...

    async def release_spend(self, team: str, month: str, job_id: str) -> None:
        """The job's entry is given back (nothing was spent)."""
        ...

    async def spend_report(self, team: str, month: str) -> SpendReport: ...


def now_month() -> str:
    return month_of(time.time())
