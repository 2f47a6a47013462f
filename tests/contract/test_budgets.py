"""Budgets over both stores: a provider that charges more than its quote makes the next
reservations expect as much, so a price setting below the real price cannot spend past the
budget; a charge reaches the ledger once, at the end of the turn."""

from __future__ import annotations

from bot.budget import Budgets
from bot.jobs import JobState
from bot.store import JobStore
from bot.store.spend import Budget
from tests.factories import make_job


async def test_charges_above_the_quote_never_spend_past_the_budget(store: JobStore) -> None:
    budgets = Budgets(store, Budget(team_cents=1000))
    charged = 0
    for n in range(12):
        job = make_job(provider="cuttr", quoted_cents=100, team_id="T1", user_id=f"U{n}")
        job, refusal = await budgets.reserve(job, "Cuttr")
        if refusal is not None:
            assert "left of its $10.00 monthly budget" in refusal
            continue
        # The provider charges 150 for what was quoted at 100.
        done = job.changed(
            state=JobState.DONE, provider_ref=f"r{n}", charged_cents=150, create_started_at=1.0
        )
        settled, ok = await budgets.reconcile(done)
        assert ok and settled.spend_settled
        assert (await budgets.reconcile(settled))[0] is settled, "settled once"
        charged += 150
    report = await store.spend_report("T1", Budgets.month(job))
    assert charged <= 1000 and report.total == charged
    assert charged == 900, "the first charge teaches the price; then six fit"


async def test_the_ratio_comes_down_once_the_provider_charges_the_quote(store: JobStore) -> None:
    budgets = Budgets(store, Budget(team_cents=10_000))

    async def one(n: int, quoted: int, charged: int) -> int:
        job = make_job(provider="cuttr", quoted_cents=quoted, team_id="T2", user_id=f"U{n}")
        job, refusal = await budgets.reserve(job, "Cuttr")
        assert refusal is None
        report = await store.spend_report("T2", Budgets.month(job))
        reserved = report.by_user[f"U{n}"]
        done = job.changed(state=JobState.DONE, provider_ref=f"r{n}", charged_cents=charged,
                           create_started_at=1.0)  # fmt: skip
        await budgets.reconcile(done)
        return reserved

    assert await one(1, 100, 900) == 100
    assert await one(2, 100, 100) == 400, "expected at most 4x the quote"
    assert await one(3, 100, 100) == 100, "the price setting was fixed: back to the quote"
