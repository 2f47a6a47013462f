"""Budgets for paid providers (BUDGET_MONTHLY_CENTS, BUDGET_MONTHLY_CENTS_PER_USER): a priced
job reserves its quote in the store's spend ledger just before its create is sent, and is
refused with what is left this month when it does not fit; the charge the provider reports
replaces the reservation; a create that surely never reached the provider gives it back."""

from __future__ import annotations

import logging
import math
from typing import Protocol

from bot.blocks import dollars
from bot.jobs import Job
from bot.store import STORE_DOWN
from bot.store.spend import Budget, Spend, SpendLedger, month_of, next_month_start
from providers.base import SharedState

log = logging.getLogger(__name__)
# The ledger's workspace for a job without one (single-workspace installs from the CLI).
NO_TEAM = "-"


def _left(cents: int | None) -> str:
    return dollars(max(0, cents or 0))


class Ledger(SpendLedger, SharedState, Protocol):
    """The job store: its spend ledger and its shared state."""


# How much more than its quotes a provider charged last (a ratio), kept this long, and at
# most this much (the two prices Cuttr's documents give differ threefold).
_RATIO_SECONDS = 90 * 86400
_MAX_RATIO = 4.0


class Budgets:
    def __init__(self, ledger: Ledger, budget: Budget | None = None) -> None:
        self._ledger = ledger
        self.budget = budget or Budget()

    async def _expected(self, job: Job) -> int:
        """What the job will likely cost: its quote, or more when the provider charged more
        than it was quoted last time (a price setting below the provider's real price)."""
        assert job.quoted_cents is not None
        raw = await self._ledger.shared_get(f"budget:ratio:{job.provider}")
        try:
            ratio = max(1.0, float(raw)) if raw else 1.0
        except ValueError:
            ratio = 1.0
        return math.ceil(job.quoted_cents * ratio)

    async def reserve(self, job: Job, label: str) -> tuple[Job, str | None]:
        """The job with its reservation recorded, or a sentence saying why it does not fit.
        A job without a price reserves nothing."""
        if job.quoted_cents is None:
            return job, None
        month = self.month(job)
        expected = await self._expected(job)
        spend = Spend(job.team_id or NO_TEAM, month, job.id, job.user_id, job.provider, expected)
        answer = await self._ledger.reserve_spend(spend, self.budget)
        if answer.ok:
            return job.changed(spend_month=month), None
        cost, resets = dollars(expected), next_month_start(month)
        over_team = answer.team_left is not None and answer.team_left < expected
        if over_team:
            limit = dollars(self.budget.team_cents or 0)
            where = f"this workspace has {_left(answer.team_left)} left of its {limit} monthly "
            where += "budget for paid providers"
        else:
            limit = dollars(self.budget.user_cents or 0)
            where = f"you have {_left(answer.user_left)} left of your {limit} monthly budget"
        log.info("job %s: over budget (%s)", job.id, "workspace" if over_team else "person")
        return job, (
            f"This request would cost {cost} with {label}, and {where} (it starts afresh on "
            f"{resets}). Nothing was sent and nothing was spent: ask for fewer clips, or ask "
            "a workspace admin about the budget."
        )

    @staticmethod
    def month(job: Job) -> str:
        """The month a job's spend counts in: the month it was confirmed (UTC; recorded on
        the job then), else the month it was asked for, so any turn finds its entry again."""
        return job.spend_month or month_of(job.created_at)

    async def release(self, job: Job) -> None:
        """Nothing was spent: the reservation goes back (if there is one)."""
        if job.quoted_cents is not None:
            await self._ledger.release_spend(job.team_id or NO_TEAM, self.month(job), job.id)

    async def reconcile(self, job: Job) -> tuple[Job, bool]:
        """At the end of each turn: a charge the provider reported goes into the ledger
        (once), and a priced job that ended without its create ever being sent (cancelled,
        expired, refused, or stopped between its reservation and its create) gives its
        reservation back. False when the store did not answer: the caller tries again on
        a later turn."""
        if job.quoted_cents is None:
            return job, True
        try:
            if job.charged_cents is not None and not job.spend_settled:
                spend = Spend(job.team_id or NO_TEAM, self.month(job), job.id, job.user_id,
                              job.provider, job.charged_cents)  # fmt: skip
                await self._ledger.settle_spend(spend)
                await self._learn(job.provider, job.quoted_cents, job.charged_cents)
                return job.changed(spend_settled=True), True
            unsent = job.provider_ref is None and job.create_started_at is None
            if job.terminal and unsent and job.charged_cents is None:
                await self.release(job)
        except STORE_DOWN as exc:
            log.warning("job %s: spend not reconciled yet (%s)", job.id, type(exc).__name__)
            return job, False
        return job, True

    async def _learn(self, provider: str, quoted: int, charged: int) -> None:
        """What the provider charged against its quote, as the next reservations' ratio:
        kept while it charges more (capped), dropped once it charges the quote or less."""
        key = f"budget:ratio:{provider}"
        if quoted <= 0 or charged <= quoted:
            await self._ledger.shared_delete(key)
            return
        ratio = min(_MAX_RATIO, charged / quoted)
        await self._ledger.shared_put(key, str(ratio), _RATIO_SECONDS)
