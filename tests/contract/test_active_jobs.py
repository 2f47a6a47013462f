"""The JobStore contract for a workspace's unfinished jobs (App Home's admin section), run
against Redis and against SQLite."""

from __future__ import annotations

from bot.jobs import Job, JobState
from bot.store import JobStore
from tests.factories import make_job

T0 = 1_700_000_000.25


async def _add(store: JobStore, team: str | None, at: float, **changes: object) -> Job:
    return await store.add(make_job(team_id=team, created_at=at, next_run_at=at, **changes))


async def _ids(store: JobStore, team: str | None, limit: int = 20) -> list[str]:
    return [job.id for job in (await store.active_for_team(team, limit)).jobs]


async def test_a_teams_unfinished_jobs_come_newest_first_with_their_count(
    store: JobStore,
) -> None:
    old = await _add(store, "T1", T0)
    new = await _add(store, "T1", T0 + 10, user_id="U2")
    middle = await _add(store, "T1", T0 + 5)
    await _add(store, "T2", T0 + 20)
    page = await store.active_for_team("T1", 2)
    assert [job.id for job in page.jobs] == [new.id, middle.id]
    assert page.total == 3
    assert page.jobs[0].user_id == "U2" and page.jobs[0].version == 1
    assert await _ids(store, "T1") == [new.id, middle.id, old.id]


async def test_a_job_leaves_the_list_when_it_finishes_and_not_before(store: JobStore) -> None:
    job = await _add(store, "T1", T0)
    submitting = await store.save(job.moved(JobState.SUBMITTING), now=T0)
    assert submitting is not None
    page = await store.active_for_team("T1")
    assert [j.state for j in page.jobs] == [JobState.SUBMITTING], "the stored version"
    submitted = await store.save(submitting.moved(JobState.SUBMITTED), now=T0)
    assert submitted is not None
    done = await store.save(submitted.moved(JobState.DONE, next_run_at=None), now=T0)
    assert done is not None
    assert (await store.active_for_team("T1")).total == 0
    assert await _ids(store, "T1") == []


async def test_cancelled_and_failed_jobs_leave_the_list(store: JobStore) -> None:
    first = await _add(store, "T1", T0)
    second = await _add(store, "T1", T0 + 1)
    assert await store.save(first.moved(JobState.CANCELLED), now=T0) is not None
    assert await store.save(second.moved(JobState.FAILED, error="no"), now=T0) is not None
    assert (await store.active_for_team("T1")).total == 0


async def test_a_stale_save_changes_nothing_in_the_list(store: JobStore) -> None:
    job = await _add(store, "T1", T0)
    assert await store.save(job.moved(JobState.SUBMITTING), now=T0) is not None
    assert await store.save(job.moved(JobState.CANCELLED), now=T0) is None, "stale version"
    assert await _ids(store, "T1") == [job.id]


async def test_a_job_added_finished_is_never_listed(store: JobStore) -> None:
    await store.add(make_job(team_id="T1", state=JobState.DONE, finished_at=T0))
    assert (await store.active_for_team("T1")).total == 0


async def test_jobs_without_a_team_are_listed_under_none(store: JobStore) -> None:
    job = await _add(store, None, T0)
    await _add(store, "T1", T0)
    assert await _ids(store, None) == [job.id]


async def test_a_limit_of_zero_counts_without_jobs(store: JobStore) -> None:
    await _add(store, "T1", T0)
    await _add(store, "T1", T0 + 1)
    page = await store.active_for_team("T1", 0)
    assert page.jobs == [] and page.total == 2
    empty = await store.active_for_team("T-unknown")
    assert empty.jobs == [] and empty.total == 0
