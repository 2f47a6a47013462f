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
        settled = await budgets.reconcile(done)
        assert settled.spend_settled
        assert (await budgets.reconcile(settled)) is settled, "settled once"
        charged += 150
    report = await store.spend_report("T1", Budgets.month(job))
    assert charged <= 1000 and report.total == charged
    assert charged == 900, "the first charge teaches the price; then six fit"
