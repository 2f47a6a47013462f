"""The JobStore contract: one suite, run against Redis and against SQLite."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from bot.jobs import Job, JobState
from bot.store import JobStore, RedisJobStore, SqliteJobStore
from providers.base import JobKind, Output, RateWindow
from tests.factories import make_job

T0 = 1_700_000_000.25
LEASE = 60.0
WINDOWS = (RateWindow(seconds=60, limit=3), RateWindow(seconds=3600, limit=20))

Connect = Callable[[], JobStore]


@pytest_asyncio.fixture(params=["redis", "sqlite"])
async def connect(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Connect]:
    """Opens another store over the same data: a second replica (Redis) or process (SQLite)."""
    opened: list[JobStore] = []

    if request.param == "redis":
        url: str = request.getfixturevalue("redis_url")
        prefix: str = request.getfixturevalue("redis_prefix")

        def open_one() -> JobStore:
            return RedisJobStore.from_url(url, prefix)
    else:
        path = str(tmp_path / "db" / "jobs.sqlite3")

        def open_one() -> JobStore:
            return SqliteJobStore(path)

    def connect_and_track() -> JobStore:
        store = open_one()
        opened.append(store)
        return store

    yield connect_and_track
    for store in opened:
        await store.close()


@pytest.fixture
def store(connect: Connect) -> JobStore:
    return connect()


async def due_job(store: JobStore, at: float = T0, **changes: Any) -> Job:
    return await store.add(make_job(next_run_at=at, **changes))


# --- add / get ------------------------------------------------------------------------------
async def test_store_answers_ping(store: JobStore) -> None:
    assert await store.ping() is True


async def test_added_job_reads_back_equal_with_version_one(store: JobStore) -> None:
    job = make_job(
        kind=JobKind.AVATAR,
        state=JobState.RENDERING,
        provider_ref="viz-1",
        percent=42.5,
        outputs=[
            Output(url="https://cdn.example.com/1.mp4", title="One", duration_s=31.5, score=9.1),
            Output(url="https://cdn.example.com/2.mp4", topics=("ai", "video")),
        ],
        posted=1,
    )

    added = await store.add(job)
    got = await store.get(job.id)

    assert added.version == 1
    assert got == added
    assert got is not None
    assert got.kind is JobKind.AVATAR
    assert got.state is JobState.RENDERING
    assert got.outputs[1].topics == ("ai", "video")
    assert got.unposted == [job.outputs[1]]


async def test_get_of_unknown_id_is_none(store: JobStore) -> None:
    assert await store.get("no-such-job") is None


async def test_adding_an_existing_id_is_refused_and_keeps_the_first(store: JobStore) -> None:
    first = await store.add(make_job(notice="first"))

    with pytest.raises(ValueError, match="already exists"):
        await store.add(make_job(id=first.id, notice="second", next_run_at=T0))

    assert await store.get(first.id) == first
    assert await store.claim_due(T0 + 1, 10, LEASE) == []


# --- save (compare-and-set) -----------------------------------------------------------------
async def test_save_with_current_version_stores_it_and_increments_version(
    store: JobStore,
) -> None:
    added = await store.add(make_job())

    saved = await store.save(added.moved(JobState.SUBMITTED, provider_ref="viz-7"))

    assert saved is not None
    assert saved.version == 2
    assert saved.state is JobState.SUBMITTED
    assert await store.get(added.id) == saved
    again = await store.save(saved.changed(percent=10.0))
    assert again is not None
    assert again.version == 3


async def test_save_with_stale_version_is_refused_and_changes_nothing(store: JobStore) -> None:
    added = await store.add(make_job(next_run_at=T0))
    current = await store.save(added.changed(notice="winner", next_run_at=T0 + 100))
    assert current is not None

    stale = await store.save(added.changed(notice="loser", next_run_at=T0))

    assert stale is None
    assert await store.get(added.id) == current
    assert await store.claim_due(T0 + 50, 10, LEASE) == []


async def test_save_of_a_job_never_added_is_refused(store: JobStore) -> None:
    job = make_job(next_run_at=T0)

    assert await store.save(job) is None
    assert await store.get(job.id) is None
    assert await store.claim_due(T0, 10, LEASE) == []


# --- due set --------------------------------------------------------------------------------
async def test_due_set_follows_next_run_at(store: JobStore) -> None:
    added = await due_job(store, at=T0 + 10)
    assert await store.claim_due(T0 + 9, 10, LEASE) == []

    moved = await store.save(added.changed(next_run_at=T0 + 30))
    assert moved is not None
    assert await store.claim_due(T0 + 29, 10, LEASE) == []
    assert [job.id for job in await store.claim_due(T0 + 30, 10, LEASE)] == [added.id]

    current = await store.get(added.id)
    assert current is not None
    parked = await store.save(current.changed(next_run_at=None))
    assert parked is not None
    assert await store.claim_due(T0 + 10_000, 10, LEASE) == []
    assert await store.make_due(added.id, T0 + 10_000) is False


async def test_job_without_next_run_at_is_never_due(store: JobStore) -> None:
    added = await store.add(make_job())

    assert await store.claim_due(T0 + 10_000, 10, LEASE) == []
    assert await store.claim(added.id, T0 + 10_000, LEASE) is None


async def test_finishing_a_job_takes_it_out_of_the_due_set(store: JobStore) -> None:
    added = await due_job(store)

    assert await store.save(added.moved(JobState.FAILED, error="gone")) is not None

    assert await store.claim_due(T0 + 10_000, 10, LEASE) == []
    assert await store.claim(added.id, T0 + 10_000, LEASE) is None
    assert await store.make_due(added.id, T0) is False


async def test_finished_job_with_slack_work_left_stays_due(store: JobStore) -> None:
    added = await due_job(store)
    done = added.moved(JobState.FAILED, error="gone").changed(next_run_at=T0 + 5)

    assert await store.save(done) is not None

    [claimed] = await store.claim_due(T0 + 10, 10, LEASE)
    assert claimed.id == added.id
    assert claimed.state is JobState.FAILED


# --- claim_due ------------------------------------------------------------------------------
async def test_claim_due_returns_only_due_jobs_oldest_first_at_most_limit(
    store: JobStore,
) -> None:
    later = await due_job(store, at=T0 - 5)
    oldest = await due_job(store, at=T0 - 30)
    middle = await due_job(store, at=T0 - 10)
    exactly_now = await due_job(store, at=T0)
    await due_job(store, at=T0 + 1)

    claimed = await store.claim_due(T0, 3, LEASE)

    assert [job.id for job in claimed] == [oldest.id, middle.id, later.id]
    assert claimed == [oldest, middle, later]
    rest = await store.claim_due(T0, 3, LEASE)
    assert [job.id for job in rest] == [exactly_now.id]


async def test_claimed_jobs_carry_their_latest_version(store: JobStore) -> None:
    added = await due_job(store)
    saved = await store.save(added.changed(percent=50.0))

    assert await store.claim_due(T0, 10, LEASE) == [saved]


async def test_second_claim_due_at_the_same_time_gets_nothing(store: JobStore) -> None:
    for _ in range(3):
        await due_job(store)

    assert len(await store.claim_due(T0, 10, LEASE)) == 3
    assert await store.claim_due(T0, 10, LEASE) == []


async def test_claimed_job_comes_back_when_the_lease_expires(store: JobStore) -> None:
    added = await due_job(store)
    assert await store.claim_due(T0, 10, LEASE) == [added]

    assert await store.claim_due(T0 + LEASE - 1, 10, LEASE) == []
    assert await store.claim_due(T0 + LEASE, 10, LEASE) == [added]
    assert await store.claim_due(T0 + LEASE, 10, LEASE) == []


# --- claim (one job) ------------------------------------------------------------------------
async def test_claim_takes_a_due_job_and_holds_it_for_the_lease(store: JobStore) -> None:
    added = await due_job(store, at=T0 + 10)

    assert await store.claim(added.id, T0, LEASE) is None
    assert await store.claim(added.id, T0 + 10, LEASE) == added
    assert await store.claim(added.id, T0 + 10, LEASE) is None
    assert await store.claim_due(T0 + 10 + LEASE - 1, 10, LEASE) == []
    assert await store.claim(added.id, T0 + 10 + LEASE, LEASE) == added


async def test_claim_of_an_unknown_job_is_none(store: JobStore) -> None:
    assert await store.claim("no-such-job", T0, LEASE) is None


# --- make_due -------------------------------------------------------------------------------
async def test_make_due_pulls_a_scheduled_job_to_now(store: JobStore) -> None:
    added = await due_job(store, at=T0 + 600)

    assert await store.make_due(added.id, T0) is True

    assert await store.claim_due(T0, 10, LEASE) == [added]


async def test_make_due_never_cuts_a_lease_short(store: JobStore) -> None:
    added = await due_job(store)
    assert await store.claim(added.id, T0, LEASE) == added

    assert await store.make_due(added.id, T0 + 1) is True

    assert await store.claim(added.id, T0 + 1, LEASE) is None
    assert await store.claim_due(T0 + 1, 10, LEASE) == []
    assert await store.claim(added.id, T0 + LEASE + 1, LEASE) is not None


async def test_the_holders_save_ends_the_lease_for_make_due(store: JobStore) -> None:
    added = await due_job(store)
    [held] = await store.claim_due(T0, 10, LEASE)
    saved = await store.save(held.changed(next_run_at=T0 + 600))
    assert saved is not None

    assert await store.make_due(added.id, T0 + 1) is True

    assert await store.claim(added.id, T0 + 1, LEASE) is not None


async def test_make_due_keeps_an_earlier_due_time(store: JobStore) -> None:
    earlier = await due_job(store, at=T0 - 100)
    other = await due_job(store, at=T0 - 50)

    assert await store.make_due(earlier.id, T0) is True

    assert [job.id for job in await store.claim_due(T0, 10, LEASE)] == [earlier.id, other.id]


async def test_make_due_ignores_jobs_outside_the_due_set(store: JobStore) -> None:
    unscheduled = await store.add(make_job())

    assert await store.make_due(unscheduled.id, T0) is False
    assert await store.make_due("no-such-job", T0) is False
    assert await store.claim_due(T0 + 10_000, 10, LEASE) == []


# --- indexes --------------------------------------------------------------------------------
async def test_find_by_ref_maps_a_provider_job_to_ours(store: JobStore) -> None:
    from_add = await store.add(make_job(provider_ref="viz-1"))
    later = await store.add(make_job())
    assert await store.find_by_ref("vizard", "viz-2") is None

    await store.save(later.moved(JobState.SUBMITTED, provider_ref="viz-2"))

    assert await store.find_by_ref("vizard", "viz-1") == from_add.id
    assert await store.find_by_ref("vizard", "viz-2") == later.id
    assert await store.find_by_ref("heygen", "viz-2") is None


async def test_recent_for_user_lists_newest_first_up_to_limit(store: JobStore) -> None:
    mine = [await store.add(make_job(created_at=T0 + i)) for i in range(5)]
    await store.add(make_job(user_id="U2"))
    latest = await store.save(mine[4].changed(notice="updated"))

    recent = await store.recent_for_user("U1", limit=3)

    assert recent == [latest, mine[3], mine[2]]
    assert [job.id for job in await store.recent_for_user("U1")] == [
        job.id for job in reversed(mine)
    ]
    assert await store.recent_for_user("U3") == []


async def test_recent_for_user_keeps_the_newest_fifty(store: JobStore) -> None:
    mine = [await store.add(make_job(created_at=T0 + i)) for i in range(55)]

    recent = await store.recent_for_user("U1", limit=100)

    assert [job.id for job in recent] == [job.id for job in reversed(mine[5:])]


# --- rate slots -----------------------------------------------------------------------------
async def test_fourth_take_in_a_minute_waits_for_the_oldest_to_leave(store: JobStore) -> None:
    for _ in range(3):
        assert await store.take_rate_slot("vizard", WINDOWS, T0) == 0.0

    assert await store.take_rate_slot("vizard", WINDOWS, T0) == pytest.approx(60.0)
    assert await store.take_rate_slot("vizard", WINDOWS, T0 + 15) == pytest.approx(45.0)
    assert await store.take_rate_slot("vizard", WINDOWS, T0 + 60) == 0.0


async def test_hourly_window_blocks_after_twenty_even_as_minutes_pass(store: JobStore) -> None:
    for i in range(20):
        assert await store.take_rate_slot("vizard", WINDOWS, T0 + i * 61) == 0.0

    now = T0 + 20 * 61
    assert await store.take_rate_slot("vizard", WINDOWS, now) == pytest.approx(3600 - 20 * 61)
    assert await store.take_rate_slot("vizard", WINDOWS, T0 + 3599) == pytest.approx(1.0)
    assert await store.take_rate_slot("vizard", WINDOWS, T0 + 3600) == 0.0


async def test_take_refused_by_the_minute_window_consumes_no_hourly_slot(
    store: JobStore,
) -> None:
    for _ in range(3):
        assert await store.take_rate_slot("vizard", WINDOWS, T0) == 0.0
    for second in range(1, 11):
        assert await store.take_rate_slot("vizard", WINDOWS, T0 + second) > 0

    # 17 more, one a minute, fill the hour exactly: refused takes left no trace in it.
    for minute in range(1, 18):
        assert await store.take_rate_slot("vizard", WINDOWS, T0 + minute * 60) == 0.0
    assert await store.take_rate_slot("vizard", WINDOWS, T0 + 18 * 60) > 0


async def test_take_refused_by_the_hourly_window_consumes_no_minute_slot(
    store: JobStore,
) -> None:
    for minute in range(7):
        for _ in range(3 if minute < 6 else 2):
            assert await store.take_rate_slot("vizard", WINDOWS, T0 + minute * 60) == 0.0
    for _ in range(3):
        assert await store.take_rate_slot("vizard", WINDOWS, T0 + 3599) == pytest.approx(1.0)

    # The three from T0 leave the hour; the minute window must still be empty to take them.
    for _ in range(3):
        assert await store.take_rate_slot("vizard", WINDOWS, T0 + 3600) == 0.0
    assert await store.take_rate_slot("vizard", WINDOWS, T0 + 3600) > 0


async def test_rate_keys_do_not_share_slots(store: JobStore) -> None:
    for _ in range(3):
        assert await store.take_rate_slot("vizard", WINDOWS, T0) == 0.0

    assert await store.take_rate_slot("heygen", WINDOWS, T0) == 0.0


# --- concurrency ----------------------------------------------------------------------------
async def test_concurrent_claimers_take_every_due_job_exactly_once(connect: Connect) -> None:
    stores = [connect() for _ in range(4)]
    added = [await due_job(stores[0], at=T0 - i) for i in range(100)]

    async def claimer(store: JobStore) -> list[str]:
        mine: list[str] = []
        while batch := await store.claim_due(T0, 3, LEASE):
            mine += [job.id for job in batch]
        return mine

    results = await asyncio.gather(*(claimer(stores[i % len(stores)]) for i in range(10)))

    claimed = [job_id for result in results for job_id in result]
    assert len(claimed) == 100
    assert set(claimed) == {job.id for job in added}
    assert sum(1 for result in results if result) > 1


async def test_concurrent_saves_of_one_version_let_exactly_one_win(connect: Connect) -> None:
    stores = [connect() for _ in range(4)]
    added = await stores[0].add(make_job(next_run_at=T0))

    results = await asyncio.gather(
        *(stores[i % len(stores)].save(added.changed(notice=f"writer {i}")) for i in range(10))
    )

    winners = [result for result in results if result is not None]
    assert len(winners) == 1
    assert winners[0].version == 2
    assert await stores[0].get(added.id) == winners[0]
