"""The JobStore contract: one suite, run against Redis and against SQLite."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import redis.asyncio

from bot.jobs import Delivery, DeliveryState, Job, JobState, output_key
from bot.store import InFlightFull, JobStore, RedisJobStore
from providers.base import Clip, File, JobKind, RateWindow, Video
from tests.contract.conftest import Connect
from tests.factories import make_job

T0 = 1_700_000_000.25
LEASE = 60.0
WINDOWS = (RateWindow(seconds=60, limit=3), RateWindow(seconds=3600, limit=20))
VIZ = "vizard"
HEY = "heygen"
# Lease owners: one token per claim.
A = "owner-a"
B = "owner-b"


async def replicas(connect: Connect, count: int = 4) -> list[JobStore]:
    """`count` stores over the same data, each connected already, so a race starts at once."""
    stores = [connect() for _ in range(count)]
    assert await asyncio.gather(*(store.ping() for store in stores)) == [True] * count
    return stores


async def due_job(store: JobStore, at: float = T0, **changes: Any) -> Job:
    return await store.add(make_job(next_run_at=at, **changes))


async def due_ids(store: JobStore, now: float, provider: str = VIZ) -> list[str]:
    """The ids of the provider's jobs due at `now` (claiming them, as a poller would)."""
    return [job.id for job in await store.claim_due(provider, now, 100, LEASE, "probe")]


async def current(store: JobStore, job_id: str) -> Job:
    job = await store.get(job_id)
    assert job is not None
    return job


def finished(state: JobState = JobState.DONE, at: float = T0 - 100, **changes: Any) -> Job:
    """A job that reached `state` (DONE by the whole way, FAILED or CANCELLED from QUEUED),
    finished at `at`, with nothing left to do."""
    job = make_job(**changes)
    if state is JobState.DONE:
        job = job.moved(JobState.SUBMITTING).moved(JobState.SUBMITTED)
    return job.moved(state, finished_at=at, next_run_at=None)


# --- add / get ------------------------------------------------------------------------------
async def test_store_answers_ping(store: JobStore) -> None:
    assert await store.ping() is True


async def test_added_job_reads_back_equal_with_version_one(store: JobStore) -> None:
    posted = Delivery(
        state=DeliveryState.POSTED, channel="C1", reserved_at=T0, ts="1.5", file_id="F1"
    )
    job = make_job(
        kind=JobKind.AVATAR,
        state=JobState.RENDERING,
        provider_ref="viz-1",
        percent=42.5,
        outputs=[
            Clip(url="https://cdn.example.com/1.mp4", title="One", duration_s=31.5, score=9.1),
            Clip(url="https://cdn.example.com/2.mp4", topics=("ai", "video")),
            Video(url="https://cdn.example.com/3.mp4", expires_at=T0 + 3600),
            File(name="captions.vtt", media_type="text/vtt", text="WEBVTT"),
        ],
        deliveries={output_key(0): posted},
    )

    added = await store.add(job)
    got = await store.get(job.id)

    assert added.version == 1
    assert got == added
    assert got is not None
    assert got.kind is JobKind.AVATAR
    assert got.state is JobState.RENDERING
    assert got.outputs == job.outputs
    assert [type(output) for output in got.outputs] == [Clip, Clip, Video, File]
    assert got.deliveries[output_key(0)] == posted
    assert got.unposted == [1, 2, 3]


async def test_get_of_unknown_id_is_none(store: JobStore) -> None:
    assert await store.get("no-such-job") is None


async def test_adding_an_existing_id_is_refused_and_keeps_the_first(store: JobStore) -> None:
    first = await store.add(make_job(notice="first"))

    with pytest.raises(ValueError, match="already exists"):
        await store.add(
            make_job(
                id=first.id,
                notice="second",
                next_run_at=T0,
                state=JobState.SUBMITTED,
                provider_ref="viz-second",
            ),
            owner=A,
            lease_until=T0 + LEASE,
        )

    assert await store.get(first.id) == first
    assert await store.claim_due(VIZ, T0 + LEASE + 1, 10, LEASE, A) == []
    assert await store.in_flight(VIZ) == 0
    assert await store.find_by_ref(VIZ, "viz-second") is None
    assert await store.renew(first.id, A, T0 + 1000) is False


async def test_add_needs_owner_and_lease_end_together(store: JobStore) -> None:
    job = make_job(next_run_at=T0)

    with pytest.raises(ValueError):
        await store.add(job, owner=A)
    with pytest.raises(ValueError):
        await store.add(job, lease_until=T0 + LEASE)

    assert await store.get(job.id) is None


# --- save (compare-and-set) -----------------------------------------------------------------
async def test_save_with_current_version_stores_it_and_increments_version(
    store: JobStore,
) -> None:
    added = await store.add(make_job())

    saved = await store.save(
        added.moved(JobState.SUBMITTING).moved(JobState.SUBMITTED, provider_ref="viz-7"), now=T0
    )

    assert saved is not None
    assert saved.version == 2
    assert saved.state is JobState.SUBMITTED
    assert await store.get(added.id) == saved
    again = await store.save(saved.changed(percent=10.0), now=T0)
    assert again is not None
    assert again.version == 3
    assert await store.get(added.id) == again


async def test_save_with_stale_version_is_refused_and_changes_nothing(store: JobStore) -> None:
    added = await store.add(make_job(next_run_at=T0))
    winner = await store.save(added.changed(notice="winner", next_run_at=T0 + 100), now=T0)
    assert winner is not None

    stale = await store.save(
        added.moved(JobState.SUBMITTING, notice="loser", next_run_at=T0, provider_ref="viz-l"),
        now=T0,
    )

    assert stale is None
    assert await store.get(added.id) == winner
    assert await store.claim_due(VIZ, T0 + 50, 10, LEASE, A) == []
    assert await store.in_flight(VIZ) == 0
    assert await store.find_by_ref(VIZ, "viz-l") is None


async def test_save_of_a_job_never_added_is_refused(store: JobStore) -> None:
    job = make_job(next_run_at=T0, state=JobState.SUBMITTED)

    assert await store.save(job, now=T0) is None
    assert await store.get(job.id) is None
    assert await store.claim_due(VIZ, T0, 10, LEASE, A) == []
    assert await store.in_flight(VIZ) == 0


async def test_save_refuses_to_move_a_job_to_another_provider(store: JobStore) -> None:
    added = await due_job(store)

    with pytest.raises(ValueError):
        await store.save(added.changed(provider=HEY), now=T0)

    assert await store.get(added.id) == added
    assert await due_ids(store, T0, HEY) == []
    assert await due_ids(store, T0) == [added.id]


# --- due set --------------------------------------------------------------------------------
async def test_due_set_follows_next_run_at(store: JobStore) -> None:
    added = await due_job(store, at=T0 + 10)
    assert await store.claim_due(VIZ, T0 + 9, 10, LEASE, A) == []

    moved = await store.save(added.changed(next_run_at=T0 + 30), now=T0)
    assert moved is not None
    assert await store.claim_due(VIZ, T0 + 29, 10, LEASE, A) == []
    assert await due_ids(store, T0 + 30) == [added.id]

    held = await current(store, added.id)
    parked = await store.save(
        held.changed(next_run_at=None), now=T0 + 31, owner="probe", release=True
    )
    assert parked is not None
    assert await store.claim_due(VIZ, T0 + 10_000, 10, LEASE, A) == []
    assert await store.make_due(added.id, T0 + 10_000) is False
    assert await store.next_due([VIZ]) is None


async def test_job_without_next_run_at_is_never_due(store: JobStore) -> None:
    added = await store.add(make_job())

    assert await store.claim_due(VIZ, T0 + 10_000, 10, LEASE, A) == []
    assert await store.claim(added.id, T0 + 10_000, LEASE, A) is None


async def test_finishing_a_job_takes_it_out_of_the_due_set(store: JobStore) -> None:
    added = await due_job(store)

    assert await store.save(added.moved(JobState.FAILED, next_run_at=None), now=T0) is not None

    assert await store.claim_due(VIZ, T0 + 10_000, 10, LEASE, A) == []
    assert await store.claim(added.id, T0 + 10_000, LEASE, A) is None
    assert await store.make_due(added.id, T0) is False


async def test_finished_job_with_slack_work_left_stays_due(store: JobStore) -> None:
    added = await due_job(store)
    done = added.moved(JobState.FAILED, error="gone", next_run_at=T0 + 5)

    assert await store.save(done, now=T0) is not None

    [claimed] = await store.claim_due(VIZ, T0 + 10, 10, LEASE, A)
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

    claimed = await store.claim_due(VIZ, T0, 3, LEASE, A)

    assert [job.id for job in claimed] == [oldest.id, middle.id, later.id]
    assert claimed == [oldest, middle, later]
    rest = await store.claim_due(VIZ, T0, 3, LEASE, B)
    assert [job.id for job in rest] == [exactly_now.id]


async def test_claim_due_of_nothing_or_a_limit_of_zero_is_empty(store: JobStore) -> None:
    assert await store.claim_due(VIZ, T0, 10, LEASE, A) == []
    added = await due_job(store)

    assert await store.claim_due(VIZ, T0, 0, LEASE, A) == []
    assert await due_ids(store, T0) == [added.id]


async def test_claimed_jobs_carry_their_latest_version(store: JobStore) -> None:
    added = await due_job(store)
    saved = await store.save(added.changed(percent=50.0), now=T0)

    assert saved is not None
    assert saved.version == 2
    assert await store.claim_due(VIZ, T0, 10, LEASE, A) == [saved]


async def test_second_claim_due_at_the_same_time_gets_nothing(store: JobStore) -> None:
    for _ in range(3):
        await due_job(store)

    assert len(await store.claim_due(VIZ, T0, 10, LEASE, A)) == 3
    assert await store.claim_due(VIZ, T0, 10, LEASE, B) == []


async def test_claimed_job_comes_back_when_the_lease_expires(store: JobStore) -> None:
    added = await due_job(store)
    assert await store.claim_due(VIZ, T0, 10, LEASE, A) == [added]

    assert await store.claim_due(VIZ, T0 + LEASE - 1, 10, LEASE, B) == []
    assert await store.claim_due(VIZ, T0 + LEASE, 10, LEASE, B) == [added]
    assert await store.claim_due(VIZ, T0 + LEASE, 10, LEASE, A) == []


# --- claim (one job) ------------------------------------------------------------------------
async def test_claim_takes_a_due_job_and_holds_it_for_the_lease(store: JobStore) -> None:
    added = await due_job(store, at=T0 + 10)

    assert await store.claim(added.id, T0, LEASE, A) is None
    assert await store.claim(added.id, T0 + 10, LEASE, A) == added
    assert await store.claim(added.id, T0 + 10, LEASE, B) is None
    assert await store.claim_due(VIZ, T0 + 10 + LEASE - 1, 10, LEASE, B) == []
    assert await store.claim(added.id, T0 + 10 + LEASE, LEASE, B) == added


async def test_claim_of_an_unknown_job_is_none(store: JobStore) -> None:
    assert await store.claim("no-such-job", T0, LEASE, A) is None


# --- leases and owners ----------------------------------------------------------------------
async def test_only_the_owner_renews_a_lease(store: JobStore) -> None:
    added = await due_job(store)
    assert await store.claim(added.id, T0, LEASE, A) == added

    assert await store.renew(added.id, B, T0 + 500) is False
    assert await store.claim_due(VIZ, T0 + LEASE, 10, LEASE, B) == [added], "B renewed nothing"

    assert await store.renew(added.id, B, T0 + 500) is True
    assert await store.renew(added.id, A, T0 + 1000) is False
    assert await store.claim_due(VIZ, T0 + 499, 10, LEASE, A) == []
    assert await store.next_due([VIZ]) == T0 + 500
    assert await store.claim(added.id, T0 + 500, LEASE, A) == added


async def test_renew_moves_the_due_time_to_the_new_lease_end(store: JobStore) -> None:
    added = await due_job(store)
    assert await store.claim(added.id, T0, LEASE, A) == added

    assert await store.renew(added.id, A, T0 + 200) is True

    assert await store.claim_due(VIZ, T0 + LEASE, 10, LEASE, B) == []
    assert await store.claim(added.id, T0 + 199, LEASE, B) is None
    assert await store.make_due(added.id, T0 + 100) is True
    assert await store.claim(added.id, T0 + 100, LEASE, B) is None, "make_due kept the lease"
    assert await store.claim_due(VIZ, T0 + 200, 10, LEASE, B) == [added]


async def test_renew_after_another_owner_claimed_fails(store: JobStore) -> None:
    added = await due_job(store)
    assert await store.claim_due(VIZ, T0, 10, LEASE, A) == [added]
    assert await store.claim_due(VIZ, T0 + LEASE, 10, LEASE, B) == [added]

    assert await store.renew(added.id, A, T0 + 1000) is False

    assert await store.next_due([VIZ]) == T0 + 2 * LEASE
    assert await store.renew(added.id, B, T0 + 1000) is True
    assert await store.next_due([VIZ]) == T0 + 1000


async def test_renew_of_an_unknown_or_never_leased_job_fails(store: JobStore) -> None:
    added = await due_job(store)

    assert await store.renew("no-such-job", A, T0 + 100) is False
    assert await store.renew(added.id, A, T0 + 100) is False
    assert await due_ids(store, T0) == [added.id]


async def test_release_by_the_owner_ends_the_lease_and_due_follows_next_run_at(
    store: JobStore,
) -> None:
    added = await due_job(store)
    [held] = await store.claim_due(VIZ, T0, 10, LEASE, A)

    saved = await store.save(held.changed(next_run_at=T0 + 10), now=T0 + 1, owner=A, release=True)

    assert saved is not None
    assert await store.next_due([VIZ]) == T0 + 10
    assert await store.claim_due(VIZ, T0 + 9, 10, LEASE, B) == []
    assert await store.renew(added.id, A, T0 + 500) is False, "the lease ended"
    assert await store.claim_due(VIZ, T0 + 10, 10, LEASE, B) == [saved]


async def test_release_with_no_next_run_at_leaves_the_job_not_due(store: JobStore) -> None:
    added = await due_job(store)
    [held] = await store.claim_due(VIZ, T0, 10, LEASE, A)

    assert await store.save(held.changed(next_run_at=None), now=T0, owner=A, release=True)

    assert await store.next_due([VIZ]) is None
    assert await store.make_due(added.id, T0 + 1) is False
    assert await store.claim_due(VIZ, T0 + 10 * LEASE, 10, LEASE, B) == []


async def test_a_save_without_release_keeps_the_lease(store: JobStore) -> None:
    added = await due_job(store)
    [held] = await store.claim_due(VIZ, T0, 10, LEASE, A)

    saved = await store.save(held.changed(percent=30.0, next_run_at=T0 + 5), now=T0 + 1, owner=A)

    assert saved is not None
    assert await store.claim_due(VIZ, T0 + 10, 10, LEASE, B) == []
    assert await store.next_due([VIZ]) == T0 + LEASE
    assert await store.renew(added.id, A, T0 + 100) is True
    assert await store.claim_due(VIZ, T0 + 100, 10, LEASE, B) == [saved]


async def test_a_save_by_someone_else_keeps_the_lease_until_the_owner_releases(
    store: JobStore,
) -> None:
    added = await due_job(store)
    [held] = await store.claim_due(VIZ, T0, 10, LEASE, A)
    # A Cancel click elsewhere: stores its change by version, but the lease is A's.
    cancel = await store.save(held.changed(notice="cancel", next_run_at=T0 + 5), now=T0 + 1)
    assert cancel is not None

    assert await store.claim_due(VIZ, T0 + 30, 10, LEASE, B) == []
    assert await store.claim(added.id, T0 + 30, LEASE, B) is None
    assert await store.next_due([VIZ]) == T0 + LEASE
    assert await store.renew(added.id, A, T0 + LEASE) is True, "the lease fields are A's"

    latest = await current(store, added.id)
    assert latest == cancel
    released = await store.save(latest, now=T0 + 2, owner=A, release=True)
    assert released is not None
    assert await store.next_due([VIZ]) == T0 + 5
    assert await store.claim_due(VIZ, T0 + 6, 10, LEASE, B) == [released]


async def test_a_save_naming_another_owner_is_fenced_off(store: JobStore) -> None:
    added = await due_job(store)
    [held] = await store.claim_due(VIZ, T0, 10, LEASE, A)

    saved = await store.save(held.changed(next_run_at=T0 + 5), now=T0 + 1, owner=B, release=True)

    assert saved is None
    assert await store.get(added.id) == held
    assert await store.claim_due(VIZ, T0 + 10, 10, LEASE, B) == []
    assert await store.renew(added.id, A, T0 + LEASE) is True


async def test_a_holder_whose_lease_was_claimed_again_can_never_write(store: JobStore) -> None:
    added = await due_job(store)
    [first] = await store.claim_due(VIZ, T0, 10, LEASE, A)
    [second] = await store.claim_due(VIZ, T0 + LEASE, 10, LEASE, B)
    assert first == second, "nobody wrote in between: the same version"

    assert await store.save(first.changed(notice="stale"), now=T0 + LEASE + 1, owner=A) is None
    assert (
        await store.save(first.changed(notice="x"), now=T0 + LEASE + 1, owner=A, release=True)
        is None
    )
    assert await store.renew(added.id, A, T0 + 2 * LEASE) is False
    mine = await store.save(second.changed(notice="mine"), now=T0 + LEASE + 2, owner=B)
    assert mine is not None and mine.notice == "mine"


async def test_a_holder_may_still_write_when_its_lease_ran_out_unclaimed(store: JobStore) -> None:
    await due_job(store)
    [held] = await store.claim_due(VIZ, T0, 10, LEASE, A)

    saved = await store.save(held.changed(notice="late"), now=T0 + LEASE + 5, owner=A)

    assert saved is not None and saved.notice == "late"


async def test_a_save_after_release_by_its_old_owner_is_fenced_off(store: JobStore) -> None:
    await due_job(store)
    [held] = await store.claim_due(VIZ, T0, 10, LEASE, A)
    released = await store.save(held, now=T0 + 1, owner=A, release=True)
    assert released is not None

    assert await store.save(released.changed(notice="x"), now=T0 + 2, owner=A) is None
    anyone = await store.save(released.changed(notice="click"), now=T0 + 2)
    assert anyone is not None and anyone.notice == "click"


async def test_a_save_after_the_lease_ran_out_follows_next_run_at(store: JobStore) -> None:
    added = await due_job(store)
    [held] = await store.claim_due(VIZ, T0, 10, LEASE, A)

    saved = await store.save(held.changed(next_run_at=T0 + LEASE + 30), now=T0 + LEASE + 1)

    assert saved is not None
    assert await store.next_due([VIZ]) == T0 + LEASE + 30
    assert await store.claim_due(VIZ, T0 + LEASE + 29, 10, LEASE, B) == []
    assert await store.claim(added.id, T0 + LEASE + 30, LEASE, B) == saved


async def test_a_save_by_someone_else_finishing_a_leased_job_waits_for_the_lease(
    store: JobStore,
) -> None:
    added = await due_job(store)
    [held] = await store.claim_due(VIZ, T0, 10, LEASE, A)
    cancelled = await store.save(held.moved(JobState.CANCELLED, next_run_at=None), now=T0 + 1)
    assert cancelled is not None

    assert await store.next_due([VIZ]) == T0 + LEASE
    assert await store.make_due(added.id, T0 + 2) is True

    released = await store.save(cancelled, now=T0 + 3, owner=A, release=True)
    assert released is not None
    assert await store.next_due([VIZ]) is None
    assert await store.make_due(added.id, T0 + 4) is False


async def test_add_with_an_owner_starts_leased(store: JobStore) -> None:
    added = await store.add(make_job(next_run_at=T0), owner=A, lease_until=T0 + LEASE)

    assert added.version == 1
    assert await store.claim_due(VIZ, T0 + 1, 10, LEASE, B) == []
    assert await store.claim(added.id, T0 + 1, LEASE, B) is None
    assert await store.next_due([VIZ]) == T0 + LEASE
    assert await store.renew(added.id, B, T0 + 100) is False
    assert await store.renew(added.id, A, T0 + 100) is True

    released = await store.save(added, now=T0 + 2, owner=A, release=True)
    assert released is not None
    assert await store.claim_due(VIZ, T0 + 2, 10, LEASE, B) == [released]


async def test_a_leased_add_without_next_run_at_comes_back_when_the_lease_ends(
    store: JobStore,
) -> None:
    added = await store.add(make_job(), owner=A, lease_until=T0 + LEASE)

    assert await store.claim_due(VIZ, T0 + LEASE - 1, 10, LEASE, B) == []
    assert await store.claim_due(VIZ, T0 + LEASE, 10, LEASE, B) == [added]


# --- make_due -------------------------------------------------------------------------------
async def test_make_due_pulls_a_scheduled_job_to_now(store: JobStore) -> None:
    added = await due_job(store, at=T0 + 600)

    assert await store.make_due(added.id, T0) is True

    assert await store.claim_due(VIZ, T0, 10, LEASE, A) == [added]


async def test_make_due_never_cuts_a_lease_short(store: JobStore) -> None:
    added = await due_job(store)
    assert await store.claim(added.id, T0, LEASE, A) == added

    assert await store.make_due(added.id, T0 + 1) is True

    assert await store.claim(added.id, T0 + 1, LEASE, B) is None
    assert await store.claim_due(VIZ, T0 + 1, 10, LEASE, B) == []
    assert await store.claim(added.id, T0 + LEASE + 1, LEASE, B) is not None


async def test_the_holders_release_ends_the_lease_for_make_due(store: JobStore) -> None:
    added = await due_job(store)
    [held] = await store.claim_due(VIZ, T0, 10, LEASE, A)
    saved = await store.save(held.changed(next_run_at=T0 + 600), now=T0, owner=A, release=True)
    assert saved is not None

    assert await store.make_due(added.id, T0 + 1) is True

    assert await store.claim(added.id, T0 + 1, LEASE, B) == saved


async def test_make_due_works_again_once_a_lease_ran_out(store: JobStore) -> None:
    added = await due_job(store)
    assert await store.claim(added.id, T0, LEASE, A) == added

    assert await store.make_due(added.id, T0 + LEASE + 1) is True

    assert await store.claim(added.id, T0 + LEASE + 1, LEASE, B) == added


async def test_make_due_keeps_an_earlier_due_time(store: JobStore) -> None:
    earlier = await due_job(store, at=T0 - 100)
    other = await due_job(store, at=T0 - 50)

    assert await store.make_due(earlier.id, T0) is True

    assert await due_ids(store, T0) == [earlier.id, other.id]


async def test_make_due_ignores_jobs_outside_the_due_set(store: JobStore) -> None:
    unscheduled = await store.add(make_job())

    assert await store.make_due(unscheduled.id, T0) is False
    assert await store.make_due("no-such-job", T0) is False
    assert await store.claim_due(VIZ, T0 + 10_000, 10, LEASE, A) == []


# --- due sets per provider ------------------------------------------------------------------
async def test_claim_due_only_sees_its_providers_jobs(store: JobStore) -> None:
    viz = await due_job(store, at=T0 - 10)
    hey = await due_job(store, at=T0 - 20, provider=HEY)

    assert await store.claim_due(VIZ, T0, 10, LEASE, A) == [viz]
    assert await store.claim_due("nobody", T0, 10, LEASE, A) == []
    assert await store.claim_due(HEY, T0, 10, LEASE, A) == [hey]


async def test_claim_renew_and_make_due_find_the_jobs_provider(store: JobStore) -> None:
    hey = await due_job(store, at=T0 + 600, provider=HEY)

    assert await store.make_due(hey.id, T0) is True
    assert await store.claim(hey.id, T0, LEASE, A) == hey
    assert await store.next_due([HEY]) == T0 + LEASE
    assert await store.renew(hey.id, A, T0 + 300) is True
    assert await store.next_due([HEY]) == T0 + 300

    assert await store.next_due([VIZ]) is None
    assert await store.claim_due(VIZ, T0 + 10_000, 10, LEASE, B) == []
    assert await store.claim_due(HEY, T0 + 300, 10, LEASE, B) == [hey]


async def test_next_due_is_the_earliest_among_the_given_providers(store: JobStore) -> None:
    assert await store.next_due([VIZ, HEY]) is None
    assert await store.next_due([]) is None
    await due_job(store, at=T0 + 30)
    await due_job(store, at=T0 + 20)
    await due_job(store, at=T0 + 10, provider=HEY)
    await store.add(make_job(provider="other"))

    assert await store.next_due([VIZ]) == T0 + 20
    assert await store.next_due([HEY]) == T0 + 10
    assert await store.next_due([VIZ, HEY]) == T0 + 10
    assert await store.next_due(["other"]) is None
    assert await store.next_due(["other", VIZ]) == T0 + 20


async def test_next_due_counts_leased_jobs_at_their_lease_end(store: JobStore) -> None:
    first = await due_job(store, at=T0)
    await due_job(store, at=T0 + 500)
    assert await store.claim(first.id, T0, LEASE, A) == first

    assert await store.next_due([VIZ]) == T0 + LEASE


# --- in flight ------------------------------------------------------------------------------
async def test_in_flight_counts_jobs_at_the_provider_through_their_life(store: JobStore) -> None:
    added = await store.add(make_job())
    other = await store.add(make_job(provider=HEY, state=JobState.RENDERING))
    assert await store.in_flight(VIZ) == 0
    assert await store.in_flight(HEY) == 1

    counts: list[int] = []
    job = added
    for state in (
        JobState.SUBMITTING,
        JobState.SUBMITTED,
        JobState.RENDERING,
        JobState.RENDERING,
        JobState.DONE,
    ):
        saved = await store.save(job.moved(state), now=T0)
        assert saved is not None
        job = saved
        counts.append(await store.in_flight(VIZ))

    assert counts == [1, 1, 1, 1, 0]
    assert await store.in_flight(HEY) == 1
    assert await store.save(other.moved(JobState.FAILED), now=T0) is not None
    assert await store.in_flight(HEY) == 0


async def test_a_submit_sent_back_to_queued_leaves_the_count(store: JobStore) -> None:
    added = await store.add(make_job())
    submitting = await store.save(added.moved(JobState.SUBMITTING), now=T0)
    assert submitting is not None
    assert await store.in_flight(VIZ) == 1

    assert await store.save(submitting.moved(JobState.QUEUED), now=T0) is not None

    assert await store.in_flight(VIZ) == 0


async def test_a_job_added_at_the_provider_is_counted(store: JobStore) -> None:
    for state in (JobState.QUEUED, JobState.SUBMITTING, JobState.SUBMITTED, JobState.DONE):
        await store.add(make_job(state=state))

    assert await store.in_flight(VIZ) == 2
    assert await store.in_flight(HEY) == 0


async def test_a_save_past_the_in_flight_limit_raises_and_stores_nothing(
    store: JobStore,
) -> None:
    for _ in range(3):
        await store.add(make_job(state=JobState.SUBMITTED))
    await store.add(make_job(state=JobState.SUBMITTED, provider=HEY))
    queued = await due_job(store)

    with pytest.raises(InFlightFull) as full:
        await store.save(
            queued.moved(JobState.SUBMITTING, provider_ref="viz-9", next_run_at=T0 + 500),
            now=T0,
            in_flight_limit=3,
        )

    assert full.value.in_flight == 3
    assert await store.get(queued.id) == queued
    assert await store.in_flight(VIZ) == 3
    assert await store.find_by_ref(VIZ, "viz-9") is None
    assert await store.next_due([VIZ]) == T0
    submitting = await store.save(queued.moved(JobState.SUBMITTING), now=T0, in_flight_limit=4)
    assert submitting is not None
    assert submitting.version == 2
    assert await store.in_flight(VIZ) == 4


async def test_an_in_flight_limit_of_zero_admits_nobody(store: JobStore) -> None:
    queued = await store.add(make_job())

    with pytest.raises(InFlightFull) as full:
        await store.save(queued.moved(JobState.SUBMITTING), now=T0, in_flight_limit=0)

    assert full.value.in_flight == 0
    assert await store.get(queued.id) == queued


async def test_a_job_already_at_the_provider_saves_under_a_full_limit(store: JobStore) -> None:
    added = await store.add(make_job())
    submitting = await store.save(added.moved(JobState.SUBMITTING), now=T0, in_flight_limit=2)
    assert submitting is not None
    await store.add(make_job(state=JobState.RENDERING))

    submitted = await store.save(submitting.moved(JobState.SUBMITTED), now=T0, in_flight_limit=2)
    assert submitted is not None
    rendering = await store.save(submitted.moved(JobState.RENDERING), now=T0, in_flight_limit=1)
    assert rendering is not None
    done = await store.save(rendering.moved(JobState.DONE), now=T0, in_flight_limit=0)
    assert done is not None

    assert await store.in_flight(VIZ) == 1
    assert await store.get(added.id) == done


async def test_jobs_not_at_the_provider_save_under_a_full_limit(store: JobStore) -> None:
    await store.add(make_job(state=JobState.SUBMITTED))
    queued = await store.add(make_job())

    saved = await store.save(queued.changed(notice="still waiting"), now=T0, in_flight_limit=1)
    assert saved is not None
    cancelled = await store.save(saved.moved(JobState.CANCELLED), now=T0, in_flight_limit=1)
    assert cancelled is not None


async def test_a_stale_save_under_a_full_limit_is_refused_as_stale(store: JobStore) -> None:
    # The version is checked first: a writer that lost the race hears None.
    await store.add(make_job(state=JobState.SUBMITTED))
    queued = await store.add(make_job())
    assert await store.save(queued.changed(notice="newer"), now=T0) is not None

    stale = await store.save(queued.moved(JobState.SUBMITTING), now=T0, in_flight_limit=1)

    assert stale is None
    assert await store.in_flight(VIZ) == 1


# --- provider index -------------------------------------------------------------------------
async def test_find_by_ref_maps_a_provider_job_to_ours(store: JobStore) -> None:
    from_add = await store.add(make_job(provider_ref="viz-1"))
    later = await store.add(make_job())
    assert await store.find_by_ref(VIZ, "viz-2") is None

    await store.save(
        later.moved(JobState.SUBMITTING).moved(JobState.SUBMITTED, provider_ref="viz-2"),
        now=T0,
    )

    assert await store.find_by_ref(VIZ, "viz-1") == from_add.id
    assert await store.find_by_ref(VIZ, "viz-2") == later.id
    assert await store.find_by_ref(HEY, "viz-2") is None


async def test_the_provider_index_is_never_unset_by_a_save(store: JobStore) -> None:
    added = await store.add(make_job(provider_ref="viz-1"))

    assert await store.save(added.changed(provider_ref=None), now=T0) is not None

    assert await store.find_by_ref(VIZ, "viz-1") == added.id


async def test_recent_for_user_lists_newest_first_up_to_limit(store: JobStore) -> None:
    mine = [await store.add(make_job(created_at=T0 + i)) for i in range(5)]
    await store.add(make_job(user_id="U2"))
    latest = await store.save(mine[4].changed(notice="updated"), now=T0)

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


# --- pace -----------------------------------------------------------------------------------
async def test_pace_spaces_calls_an_interval_apart(store: JobStore) -> None:
    waits = [
        await store.pace("chat:C1", 1.5, T0, 10.0),
        await store.pace("chat:C1", 1.5, T0, 10.0),
        await store.pace("chat:C1", 1.5, T0 + 0.5, 10.0),
        await store.pace("chat:C1", 1.5, T0 + 4.0, 10.0),
        await store.pace("chat:C1", 1.5, T0 + 10.0, 10.0),
        await store.pace("chat:C1", 1.5, T0 + 10.5, 10.0),
        await store.pace("chat:C1", 1.5, T0 + 100.0, 10.0),
    ]

    assert waits == pytest.approx([0.0, 1.5, 2.5, 0.5, 0.0, 1.0, 0.0])


async def test_pace_beyond_max_wait_reserves_nothing(store: JobStore) -> None:
    assert await store.pace("chat:C1", 5.0, T0, 10.0) == 0.0
    assert await store.pace("chat:C1", 5.0, T0, 10.0) == pytest.approx(5.0)

    assert await store.pace("chat:C1", 5.0, T0, 7.0) == pytest.approx(10.0)
    assert await store.pace("chat:C1", 5.0, T0, 7.0) == pytest.approx(10.0)
    assert await store.pace("chat:C1", 5.0, T0 + 1, 9.0) == pytest.approx(9.0), "the same turn"
    assert await store.pace("chat:C1", 5.0, T0 + 1, 9.0) == pytest.approx(14.0)


async def test_pace_with_no_wait_allowed_still_takes_a_free_turn(store: JobStore) -> None:
    assert await store.pace("chat:C1", 2.0, T0, 0.0) == 0.0
    assert await store.pace("chat:C1", 2.0, T0 + 1, 0.0) == pytest.approx(1.0)
    assert await store.pace("chat:C1", 2.0, T0 + 2, 0.0) == 0.0
    assert await store.pace("chat:C1", 2.0, T0 + 2, 5.0) == pytest.approx(2.0)


async def test_pace_keys_do_not_share_turns(store: JobStore) -> None:
    assert await store.pace("chat:C1", 3.0, T0, 10.0) == 0.0

    assert await store.pace("chat:C2", 3.0, T0, 10.0) == 0.0
    assert await store.pace("chat:C1", 3.0, T0, 10.0) == pytest.approx(3.0)


# --- purge ----------------------------------------------------------------------------------
async def test_purge_deletes_only_finished_jobs_out_of_the_due_set_and_old_enough(
    store: JobStore,
) -> None:
    old_done = await store.add(finished(JobState.DONE, at=T0 - 100))
    old_failed = await store.add(finished(JobState.FAILED, at=T0 - 50))
    at_cutoff = await store.add(finished(JobState.CANCELLED, at=T0))
    recent = await store.add(finished(JobState.DONE, at=T0 + 100))
    owes_slack = await store.add(finished(JobState.DONE, at=T0 - 100).changed(next_run_at=T0))
    never_finished = await store.add(make_job(state=JobState.DONE))
    queued = await store.add(make_job(finished_at=T0 - 100))
    rendering = await store.add(make_job(state=JobState.RENDERING, finished_at=T0 - 100))

    assert await store.purge(T0) == 2

    assert await store.get(old_done.id) is None
    assert await store.get(old_failed.id) is None
    for kept in (at_cutoff, recent, owes_slack, never_finished, queued, rendering):
        assert await store.get(kept.id) == kept
    assert await store.purge(T0) == 0
    assert await store.in_flight(VIZ) == 1
    assert await store.next_due([VIZ]) == T0


async def test_purge_takes_a_job_that_finished_after_it_was_due(store: JobStore) -> None:
    added = await due_job(store)
    done = await store.save(
        added.moved(JobState.CANCELLED, finished_at=T0 - 10, next_run_at=T0 + 5), now=T0
    )
    assert done is not None
    assert await store.purge(T0) == 0, "Slack is still owed"

    posted = await store.save(done.changed(next_run_at=None), now=T0 + 1)
    assert posted is not None

    assert await store.purge(T0) == 1
    assert await store.get(added.id) is None


async def test_purge_leaves_a_finished_job_made_due_again(store: JobStore) -> None:
    added = await store.add(finished())
    due_again = await store.save(added.changed(next_run_at=T0 + 5), now=T0)
    assert due_again is not None

    assert await store.purge(T0) == 0

    assert await store.get(added.id) == due_again
    assert await due_ids(store, T0 + 5) == [added.id]


async def test_purge_deletes_the_provider_index_entry(store: JobStore) -> None:
    added = await store.add(make_job(provider_ref="viz-1"))
    submitting = await store.save(added.moved(JobState.SUBMITTING), now=T0)
    assert submitting is not None
    submitted = await store.save(submitting.moved(JobState.SUBMITTED), now=T0)
    assert submitted is not None
    done = await store.save(submitted.moved(JobState.DONE, finished_at=T0 - 10), now=T0)
    assert done is not None
    kept = await store.add(make_job(provider_ref="viz-2"))

    assert await store.purge(T0) == 1

    assert await store.find_by_ref(VIZ, "viz-1") is None
    assert await store.find_by_ref(VIZ, "viz-2") == kept.id
    assert await store.in_flight(VIZ) == 0
    assert await store.recent_for_user("U1") == [kept]


async def test_purge_keeps_an_index_entry_that_names_a_newer_job(store: JobStore) -> None:
    first = await store.add(finished(provider_ref="viz-1"))
    again = await store.add(make_job(provider_ref="viz-1", state=JobState.SUBMITTED))
    assert await store.find_by_ref(VIZ, "viz-1") == again.id

    assert await store.purge(T0) == 1

    assert await store.get(first.id) is None
    assert await store.find_by_ref(VIZ, "viz-1") == again.id


async def test_purge_respects_its_limit(store: JobStore) -> None:
    added = [await store.add(finished(at=T0 - 100 + i)) for i in range(5)]

    counts = [await store.purge(T0, limit=2) for _ in range(4)]

    assert counts == [2, 2, 1, 0]
    assert [await store.get(job.id) for job in added] == [None] * 5
    assert await store.purge(T0, limit=0) == 0


async def test_purge_of_a_limit_of_zero_deletes_nothing(store: JobStore) -> None:
    added = await store.add(finished())

    assert await store.purge(T0, limit=0) == 0

    assert await store.get(added.id) == added


async def test_purge_leaves_a_leased_terminal_job(store: JobStore) -> None:
    added = await due_job(store)
    [held] = await store.claim_due(VIZ, T0, 10, LEASE, A)
    cancelled = await store.save(
        held.moved(JobState.CANCELLED, finished_at=T0 - 10, next_run_at=None), now=T0 + 1
    )
    assert cancelled is not None

    assert await store.purge(T0 + 10_000) == 0
    assert await store.get(added.id) == cancelled

    assert await store.save(cancelled, now=T0 + 2, owner=A, release=True) is not None
    assert await store.purge(T0 + 10_000) == 1
    assert await store.get(added.id) is None


async def test_purge_leaves_a_terminal_job_whose_owner_renewed_it(store: JobStore) -> None:
    # The lease ran out, a save took the job out of the due set; then its owner renewed.
    added = await due_job(store)
    [held] = await store.claim_due(VIZ, T0, 10, LEASE, A)
    cancelled = await store.save(
        held.moved(JobState.CANCELLED, finished_at=T0 - 10, next_run_at=None), now=T0 + LEASE
    )
    assert cancelled is not None
    assert await store.renew(added.id, A, T0 + 2 * LEASE) is True

    assert await store.purge(T0 + 10_000) == 0
    assert await store.next_due([VIZ]) == T0 + 2 * LEASE


# --- concurrency ----------------------------------------------------------------------------
async def test_concurrent_claimers_take_every_due_job_exactly_once(connect: Connect) -> None:
    stores = await replicas(connect)
    added = [await due_job(stores[0], at=T0 - i) for i in range(100)]

    async def claimer(store: JobStore, owner: str) -> list[str]:
        mine: list[str] = []
        while batch := await store.claim_due(VIZ, T0, 3, LEASE, owner):
            mine += [job.id for job in batch]
        return mine

    results = await asyncio.gather(
        *(claimer(stores[i % len(stores)], f"owner-{i}") for i in range(10))
    )

    claimed = [job_id for result in results for job_id in result]
    assert len(claimed) == 100
    assert set(claimed) == {job.id for job in added}
    assert sum(1 for result in results if result) > 1


async def test_concurrent_claims_of_one_job_lease_it_to_one_owner(connect: Connect) -> None:
    stores = await replicas(connect)
    added = await due_job(stores[0])
    owners = [f"owner-{i}" for i in range(10)]

    results = await asyncio.gather(
        *(
            stores[i % len(stores)].claim(added.id, T0, LEASE, owner)
            for i, owner in enumerate(owners)
        )
    )

    winners = [owner for owner, result in zip(owners, results, strict=True) if result is not None]
    assert len(winners) == 1
    renewed = [await stores[1].renew(added.id, owner, T0 + 100) for owner in owners]
    assert renewed == [owner == winners[0] for owner in owners]


async def test_concurrent_saves_of_one_version_let_exactly_one_win(connect: Connect) -> None:
    stores = await replicas(connect)
    added = await stores[0].add(make_job(next_run_at=T0))

    results = await asyncio.gather(
        *(
            stores[i % len(stores)].save(added.changed(notice=f"writer {i}"), now=T0)
            for i in range(10)
        )
    )

    winners = [result for result in results if result is not None]
    assert len(winners) == 1
    assert winners[0].version == 2
    assert await stores[0].get(added.id) == winners[0]


async def test_concurrent_submits_admit_exactly_the_in_flight_limit(connect: Connect) -> None:
    stores = await replicas(connect)

    async def submit(store: JobStore, job: Job) -> bool:
        try:
            saved = await store.save(job.moved(JobState.SUBMITTING), now=T0, in_flight_limit=3)
        except InFlightFull as full:
            assert full.in_flight == 3
            return False
        assert saved is not None
        return True

    # Several rounds (a provider each), so an unguarded check-then-write shows itself.
    for race in range(5):
        provider = f"race-{race}"
        queued = [await stores[0].add(make_job(provider=provider)) for _ in range(10)]

        admitted = await asyncio.gather(
            *(submit(stores[i % len(stores)], job) for i, job in enumerate(queued))
        )

        assert admitted.count(True) == 3
        assert await stores[1].in_flight(provider) == 3
        states = [(await current(stores[2], job.id)).state for job in queued]
        assert [state is JobState.SUBMITTING for state in states] == admitted


async def test_concurrent_pacers_each_get_their_own_turn(connect: Connect) -> None:
    stores = await replicas(connect)

    waits = await asyncio.gather(
        *(stores[i % len(stores)].pace("chat:C1", 1.0, T0, 100.0) for i in range(12))
    )

    assert sorted(waits) == pytest.approx([float(n) for n in range(12)])
    assert await stores[0].pace("chat:C1", 1.0, T0, 100.0) == pytest.approx(12.0)


async def test_concurrent_purgers_delete_each_job_once(connect: Connect) -> None:
    stores = await replicas(connect)
    added = [await stores[0].add(finished(at=T0 - 100 + i)) for i in range(30)]
    kept = await stores[0].add(finished(at=T0 + 1))

    counts = await asyncio.gather(*(stores[i % len(stores)].purge(T0, limit=4) for i in range(12)))

    assert sum(counts) == 30
    assert [await stores[1].get(job.id) for job in added] == [None] * 30
    assert await stores[1].get(kept.id) == kept


# --- Redis only -----------------------------------------------------------------------------
async def test_a_redis_pace_key_lives_until_its_next_free_time_then_vanishes(
    redis_url: str, redis_prefix: str
) -> None:
    store = RedisJobStore.from_url(redis_url, redis_prefix)
    client = redis.asyncio.Redis.from_url(redis_url, decode_responses=True)
    try:
        assert await store.pace("chat:C1", 100.0, T0, 300.0) == 0.0
        assert await store.pace("chat:C1", 100.0, T0 + 50, 300.0) == pytest.approx(50.0)

        ttl = await client.ttl(f"{redis_prefix}pace:chat:C1")
        # The next free time is T0 + 200, 150 s after the last caller's now.
        assert 150 <= ttl <= 152
        assert await store.pace("chat:C1", 100.0, T0, 10.0) == pytest.approx(200.0)
        assert await client.ttl(f"{redis_prefix}pace:chat:C1") <= ttl, "nothing reserved"
    finally:
        await client.aclose()
        await store.close()


async def test_queue_depth_counts_the_jobs_due_now_per_provider(store: JobStore) -> None:
    await due_job(store)
    await due_job(store, at=T0 - 5)
    await due_job(store, at=T0 + 100)
    await due_job(store, provider=HEY)
    assert await store.queue_depth(VIZ, T0) == 2
    assert await store.queue_depth(VIZ, T0 + 100) == 3
    assert await store.queue_depth(HEY, T0) == 1
    await store.claim_due(VIZ, T0, 10, 60.0, A)
    assert await store.queue_depth(VIZ, T0) == 0, "leased jobs are not waiting"
