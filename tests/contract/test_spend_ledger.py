"""The spend ledger of both stores (tests/contract/conftest.py runs each test on Redis and on
SQLite): budgets hold under concurrency, entries are per job, settle and release adjust the
sums."""

from __future__ import annotations

import asyncio

from bot.store import JobStore
from bot.store.spend import Budget, Spend
from tests.contract.conftest import Connect

MONTH = "2026-12"


def spend(job: str, cents: int = 150, user: str = "U1", provider: str = "cuttr") -> Spend:
    return Spend("T1", MONTH, job, user, provider, cents)


async def test_a_reservation_within_the_limits_is_recorded_once_per_job(store: JobStore) -> None:
    budget = Budget(team_cents=1000, user_cents=400)
    first = await store.reserve_spend(spend("j1", 300), budget)
    again = await store.reserve_spend(spend("j1", 300), budget)
    assert (first.ok, first.team_left, first.user_left) == (True, 700, 100)
    assert (again.ok, again.team_left, again.user_left) == (True, 700, 100), "once per job"
    report = await store.spend_report("T1", MONTH)
    assert (report.total, report.by_user, report.by_provider) == (300, {"U1": 300}, {"cuttr": 300})


async def test_over_either_limit_nothing_is_recorded_and_what_is_left_is_said(
    store: JobStore,
) -> None:
    budget = Budget(team_cents=1000, user_cents=400)
    await store.reserve_spend(spend("j1", 300), budget)
    mine = await store.reserve_spend(spend("j2", 150), budget)
    assert (mine.ok, mine.team_left, mine.user_left) == (False, 700, 100)
    await store.reserve_spend(spend("j3", 400, user="U2"), budget)
    await store.reserve_spend(spend("j4", 250, user="U3"), budget)
    team = await store.reserve_spend(spend("j5", 100, user="U4"), budget)
    assert (team.ok, team.team_left) == (False, 50)
    assert (await store.spend_report("T1", MONTH)).total == 950
    other_month = Spend("T1", "2027-01", "j6", "U1", "cuttr", 400)
    assert (await store.reserve_spend(other_month, budget)).ok, "a new month starts afresh"
    other_team = Spend("T2", MONTH, "j7", "U1", "cuttr", 400)
    assert (await store.reserve_spend(other_team, budget)).ok, "budgets are per workspace"


async def test_no_limits_records_everything(store: JobStore) -> None:
    answer = await store.reserve_spend(spend("j1", 10_000), Budget())
    assert (answer.ok, answer.team_left, answer.user_left) == (True, None, None)


async def test_settle_records_the_charge_and_release_gives_it_back(store: JobStore) -> None:
    budget = Budget(team_cents=1000)
    await store.reserve_spend(spend("j1", 300), budget)
    await store.reserve_spend(spend("j2", 300, provider="snip"), budget)
    await store.settle_spend(spend("j1", 450))
    await store.settle_spend(spend("j1", 450))
    await store.release_spend("T1", MONTH, "j2")
    await store.release_spend("T1", MONTH, "j2")
    report = await store.spend_report("T1", MONTH)
    assert (report.total, report.by_provider) == (450, {"cuttr": 450})
    left = await store.reserve_spend(spend("j3", 550), budget)
    assert (left.ok, left.team_left) == (True, 0)
    await store.settle_spend(spend("j9", 100, user="U9"))
    after = await store.spend_report("T1", MONTH)
    assert (after.total, after.by_user["U9"]) == (1100, 100), "a charge unreserved is recorded"


async def test_concurrent_reservations_from_replicas_never_pass_the_limit(
    connect: Connect,
) -> None:
    stores = [connect() for _ in range(4)]
    budget = Budget(team_cents=1000)
    answers = await asyncio.gather(
        *(stores[n % 4].reserve_spend(spend(f"j{n}", 100, user=f"U{n}"), budget) for n in range(40))
    )
    assert sum(a.ok for a in answers) == 10
    assert (await stores[0].spend_report("T1", MONTH)).total == 1000
