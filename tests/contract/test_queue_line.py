"""The queue line (bot/store/line.py): the same answers from Redis and SQLite, and the same
answers to every replica."""

from __future__ import annotations

import asyncio

import pytest

from bot.jobs import Job, JobState
from bot.store import JobStore
from bot.store.line import LineTurn
from providers.base import RateWindow
from tests.contract.conftest import Connect
from tests.factories import make_job

T0 = 1_700_000_000.25
VIZ = "vizard"
HEY = "heygen"
WINDOWS = (RateWindow(seconds=60, limit=3), RateWindow(seconds=3600, limit=20))
KEY = "submit:vizard"


async def queued(store: JobStore, provider: str = VIZ, **changes: object) -> Job:
    return await store.add(make_job(provider=provider, next_run_at=T0, **changes))


async def moved(store: JobStore, job: Job, state: JobState) -> Job:
    current = await store.get(job.id)
    assert current is not None
    saved = await store.save(current.moved(state), now=T0)
    assert saved is not None
    return saved


async def test_jobs_in_line_count_those_that_joined_before_them(store: JobStore) -> None:
    first, second, third = [await queued(store) for _ in range(3)]
    assert await store.line_position(VIZ, first.id, T0) == 0
    assert await store.line_position(VIZ, second.id, T0 + 1) == 1
    assert await store.line_position(VIZ, third.id, T0 + 2) == 2
    # Asking again keeps the place it joined at, whatever `since` says now.
    assert await store.line_position(VIZ, third.id, T0 - 50) == 2
    assert await store.line_position(VIZ, first.id, T0 + 99) == 0


async def test_equal_join_times_go_by_job_id(store: JobStore) -> None:
    jobs = [await queued(store, id=f"job-{n}") for n in (3, 1, 2)]
    for job in jobs:
        await store.line_position(VIZ, job.id, T0)
    assert [await store.line_position(VIZ, f"job-{n}", T0) for n in (1, 2, 3)] == [0, 1, 2]


async def test_lines_are_per_provider(store: JobStore) -> None:
    viz = await queued(store)
    hey = await queued(store, provider=HEY, kind="avatar")
    assert await store.line_position(VIZ, viz.id, T0) == 0
    assert await store.line_position(HEY, hey.id, T0 + 1) == 0


@pytest.mark.parametrize("state", [JobState.SUBMITTING, JobState.CANCELLED, JobState.FAILED])
async def test_a_job_that_stopped_waiting_no_longer_counts(
    store: JobStore, state: JobState
) -> None:
    first, second = await queued(store), await queued(store)
    await store.line_position(VIZ, first.id, T0)
    assert await store.line_position(VIZ, second.id, T0 + 1) == 1
    await moved(store, first, state)
    assert await store.line_position(VIZ, second.id, T0 + 1) == 0


async def test_a_job_sent_back_to_the_queue_joins_at_the_back(store: JobStore) -> None:
    first, second = await queued(store), await queued(store)
    await store.line_position(VIZ, first.id, T0)
    await store.line_position(VIZ, second.id, T0 + 1)
    sending = await moved(store, first, JobState.SUBMITTING)
    assert await store.line_position(VIZ, second.id, T0 + 1) == 0
    await moved(store, sending, JobState.QUEUED)
    assert await store.line_position(VIZ, second.id, T0 + 1) == 0, "dropped from its place"
    assert await store.line_position(VIZ, first.id, T0 + 5) == 1


async def test_a_purged_job_no_longer_counts(store: JobStore) -> None:
    first, second = await queued(store), await queued(store)
    await store.line_position(VIZ, first.id, T0)
    await store.save(first.moved(JobState.CANCELLED, finished_at=T0 - 10, next_run_at=None), now=T0)
    assert await store.purge(T0) == 1
    assert await store.line_position(VIZ, second.id, T0 + 1) == 0


async def test_a_long_line_never_counts_fewer_than_wait_and_sheds_the_rest_as_it_is_read(
    store: JobStore,
) -> None:
    """A store may check only the first jobs ahead per look (a bounded cost): the place may
    then show later than it is, never earlier, and is exact once the looks reach the end."""
    jobs = [await queued(store) for _ in range(130)]
    for n, job in enumerate(jobs):
        assert await store.line_position(VIZ, job.id, T0 + n) == n
    for job in jobs[:120]:
        await moved(store, job, JobState.CANCELLED)
    last = jobs[-1]
    places = [await store.line_position(VIZ, last.id, T0) for _ in range(5)]
    assert all(place >= 9 for place in places), places
    assert places == sorted(places, reverse=True) and places[-1] == 9, places
    assert await store.line_position(VIZ, jobs[120].id, T0) == 0


async def test_every_replica_sees_one_line(connect: Connect) -> None:
    stores = [connect() for _ in range(4)]
    jobs = [await queued(stores[0]) for _ in range(8)]
    # Joined at once from four replicas, in whatever order they arrive: the line goes by
    # when each says it joined.
    await asyncio.gather(
        *(stores[n % 4].line_position(VIZ, job.id, T0 + n) for n, job in enumerate(jobs))
    )
    places = [
        await stores[(n + 1) % 4].line_position(VIZ, job.id, 0.0) for n, job in enumerate(jobs)
    ]
    assert places == list(range(8))


async def test_a_slot_is_taken_in_line_only_when_every_job_ahead_fits_too(
    store: JobStore,
) -> None:
    first, second, third, fourth = [await queued(store) for _ in range(4)]
    for n, job in enumerate((first, second, third, fourth)):
        await store.line_position(VIZ, job.id, T0 + n)
    # Three free slots a minute: the fourth in line must wait even though it asks first.
    late = await store.take_slot_in_line(VIZ, fourth.id, T0 + 9, KEY, WINDOWS, T0 + 10)
    assert late == LineTurn(taken=False, ahead=3, since=T0 + 3, slots=[[], []])
    took = await store.take_slot_in_line(VIZ, second.id, T0 + 9, KEY, WINDOWS, T0 + 10)
    assert took == LineTurn(taken=True, ahead=1, since=T0 + 1, slots=[[T0 + 10]] * 2)
    assert await store.line_position(VIZ, fourth.id, T0) == 2, "the second left the line"
    took = await store.take_slot_in_line(VIZ, first.id, T0, KEY, WINDOWS, T0 + 11)
    assert (took.taken, took.ahead, took.slots) == (True, 0, [[T0 + 10, T0 + 11]] * 2)
    # One slot left, and the third is next: the fourth still waits.
    late = await store.take_slot_in_line(VIZ, fourth.id, T0, KEY, WINDOWS, T0 + 12)
    assert (late.taken, late.ahead) == (False, 1)
    took = await store.take_slot_in_line(VIZ, third.id, T0, KEY, WINDOWS, T0 + 12)
    assert took.taken and took.slots == [[T0 + 10, T0 + 11, T0 + 12]] * 2
    # The window is full: nothing is taken, the slots say when it opens.
    full = await store.take_slot_in_line(VIZ, fourth.id, T0, KEY, WINDOWS, T0 + 13)
    assert full == LineTurn(False, 0, T0 + 3, [[T0 + 10, T0 + 11, T0 + 12]] * 2)
    assert await store.take_rate_slot(KEY, WINDOWS, T0 + 13) > 0, "the same slots"
    # A slot taken 60 s ago has left the minute window, as take_rate_slot counts it.
    opened = await store.take_slot_in_line(VIZ, fourth.id, T0, KEY, WINDOWS, T0 + 70)
    assert opened == LineTurn(True, 0, T0 + 3, [[T0 + 11, T0 + 12, T0 + 70], [
        T0 + 10, T0 + 11, T0 + 12, T0 + 70]])  # fmt: skip


async def test_no_replica_passes_a_job_ahead_of_it(connect: Connect) -> None:
    stores = [connect() for _ in range(4)]
    jobs = [await queued(stores[0]) for _ in range(6)]
    for n, job in enumerate(jobs):
        await stores[0].line_position(VIZ, job.id, T0 + n)
    turns = await asyncio.gather(
        *(
            stores[n % 4].take_slot_in_line(VIZ, job.id, T0, KEY, WINDOWS, T0 + 10)
            for n, job in reversed(list(enumerate(jobs)))
        )
    )
    taken = [job.id for job, turn in zip(reversed(jobs), turns, strict=True) if turn.taken]
    # However the six asked, at most the first three in line took the three slots.
    assert set(taken) <= {job.id for job in jobs[:3]}
    assert all(t.ahead < 3 for t in turns if t.taken)
    for job in jobs:
        turn = await stores[1].take_slot_in_line(VIZ, job.id, T0, KEY, WINDOWS, T0 + 10)
        assert turn.taken is False or job in jobs[:3]
    assert await stores[2].take_rate_slot(KEY, WINDOWS, T0 + 10) > 0, "three taken, once each"
