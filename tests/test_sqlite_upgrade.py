"""A SQLite file written by an earlier Reelbot keeps working after an upgrade."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from bot.jobs import Job, JobState
from bot.store import InFlightFull
from bot.store.sqlite import SqliteJobStore
from tests.factories import make_job

A = "owner-a"
LEASE = 120.0

# The first schema: no lease tracking at all.
_FIRST_JOBS_TABLE = (
    "CREATE TABLE jobs (id TEXT PRIMARY KEY, data TEXT NOT NULL, version INTEGER NOT NULL,"
    " due_at REAL NULL, provider TEXT NOT NULL, provider_ref TEXT NULL,"
    " user_id TEXT NOT NULL, created_at REAL NOT NULL)"
)

# What the store made before leases had owners (commit ec91aa6 to d1ba842): leased_until,
# one due set for every provider, no in-flight or finished columns.
_LEASED_UNTIL_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    data TEXT NOT NULL,
    version INTEGER NOT NULL,
    due_at REAL NULL,
    provider TEXT NOT NULL,
    provider_ref TEXT NULL,
    user_id TEXT NOT NULL,
    created_at REAL NOT NULL,
    leased_until REAL NULL
);
CREATE INDEX IF NOT EXISTS jobs_due ON jobs (due_at, id) WHERE due_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS jobs_ref ON jobs (provider, provider_ref)
    WHERE provider_ref IS NOT NULL;
CREATE INDEX IF NOT EXISTS jobs_user ON jobs (user_id);
CREATE TABLE IF NOT EXISTS rate (
    key TEXT NOT NULL,
    seconds INTEGER NOT NULL,
    at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS rate_window ON rate (key, seconds, at);
"""


def old_data(job: Job) -> str:
    """The job's JSON with the fields an earlier Job had and today's does not."""
    fields: dict[str, Any] = json.loads(job.model_dump_json())
    fields.update(posted=0, retries=0, root_channel=None, root_ts=None)
    return json.dumps(fields)


def insert(
    conn: sqlite3.Connection,
    job: Job,
    due_at: float | None,
    leased_until: float | None = None,
) -> None:
    conn.execute(
        "INSERT INTO jobs (id, data, version, due_at, provider, provider_ref, user_id,"
        " created_at, leased_until) VALUES (?, ?, 1, ?, ?, ?, ?, 1.0, ?)",
        (job.id, old_data(job), due_at, job.provider, job.provider_ref, job.user_id, leased_until),
    )


async def test_a_file_without_lease_tracking_is_upgraded_in_place(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    old = make_job(next_run_at=100.0)
    with sqlite3.connect(path) as conn:
        conn.execute(_FIRST_JOBS_TABLE)
        conn.execute(
            "INSERT INTO jobs VALUES (?, ?, 1, 100.0, 'vizard', NULL, 'U1', 1.0)",
            (old.id, old_data(old)),
        )
    store = SqliteJobStore(str(path))
    try:
        [claimed] = await store.claim_due("vizard", 200.0, 10, LEASE, A)
        assert claimed.id == old.id
        assert await store.make_due(old.id, 201.0) is True
        assert await store.claim(old.id, 201.0, LEASE, "owner-b") is None, "the lease holds"
        assert await store.renew(old.id, A, 400.0) is True
        assert await store.next_due(["vizard"]) == 400.0
        assert await store.in_flight("vizard") == 0
    finally:
        await store.close()


async def test_a_file_with_leases_but_no_owners_is_upgraded_in_place(tmp_path: Path) -> None:
    path = tmp_path / "leases.db"
    queued = make_job(next_run_at=100.0)
    submitted = make_job(state=JobState.SUBMITTED, provider_ref="viz-1", next_run_at=150.0)
    # Leased by a replica of the earlier Reelbot: nobody can renew it, it just runs out.
    rendering = make_job(state=JobState.RENDERING, provider_ref="viz-2", next_run_at=160.0)
    done = make_job(state=JobState.DONE, finished_at=50.0)
    owes_slack = make_job(state=JobState.FAILED, finished_at=60.0, next_run_at=300.0)
    elsewhere = make_job(provider="heygen", state=JobState.SUBMITTED, next_run_at=120.0)
    # Not finished, whatever its data says: never purged.
    parked = make_job(state=JobState.AWAITING_CONFIRMATION, finished_at=40.0)
    with sqlite3.connect(path) as conn:
        conn.executescript(_LEASED_UNTIL_SCHEMA)
        insert(conn, queued, 100.0)
        insert(conn, submitted, 150.0)
        insert(conn, rendering, 500.0, leased_until=500.0)
        insert(conn, done, None)
        insert(conn, owes_slack, 300.0)
        insert(conn, elsewhere, 120.0)
        insert(conn, parked, None)
    store = SqliteJobStore(str(path))
    try:
        assert await store.in_flight("vizard") == 2
        assert await store.in_flight("heygen") == 1
        with pytest.raises(InFlightFull):
            await store.save(
                queued.moved(JobState.SUBMITTING).model_copy(update={"version": 1}),
                now=200.0,
                in_flight_limit=2,
            )
        assert await store.find_by_ref("vizard", "viz-1") == submitted.id

        assert await store.next_due(["vizard"]) == 100.0
        claimed = await store.claim_due("vizard", 200.0, 10, LEASE, A)
        assert [job.id for job in claimed] == [queued.id, submitted.id]
        assert claimed[1].state is JobState.SUBMITTED
        assert await store.claim(rendering.id, 200.0, LEASE, A) is None
        assert await store.renew(rendering.id, A, 1000.0) is False
        taken_over = await store.claim(rendering.id, 500.0, LEASE, A)
        assert taken_over is not None
        assert taken_over.state is JobState.RENDERING

        assert await store.purge(1000.0) == 1
        assert await store.get(done.id) is None
        assert await store.get(owes_slack.id) is not None
        assert await store.get(parked.id) is not None
    finally:
        await store.close()

    again = SqliteJobStore(str(path))
    try:
        assert await again.in_flight("vizard") == 2, "a second open changes nothing"
        assert await again.ping() is True
    finally:
        await again.close()


async def test_an_upgraded_file_lists_each_teams_unfinished_jobs(tmp_path: Path) -> None:
    path = tmp_path / "teams.db"
    queued = make_job(team_id="T1", next_run_at=100.0)
    rendering = make_job(team_id="T1", state=JobState.RENDERING, next_run_at=150.0)
    done = make_job(team_id="T1", state=JobState.DONE, finished_at=50.0)
    teamless = make_job(next_run_at=100.0)
    with sqlite3.connect(path) as conn:
        conn.executescript(_LEASED_UNTIL_SCHEMA)
        for job in (queued, rendering, done, teamless):
            insert(conn, job, job.next_run_at)
    store = SqliteJobStore(str(path))
    try:
        page = await store.active_for_team("T1")
        assert page.total == 2
        assert {job.id for job in page.jobs} == {queued.id, rendering.id}
        assert [job.id for job in (await store.active_for_team(None)).jobs] == [teamless.id]
    finally:
        await store.close()


async def test_processes_opening_an_old_file_at_once_upgrade_it_once(tmp_path: Path) -> None:
    for attempt in range(5):
        path = tmp_path / f"shared-{attempt}.db"
        jobs = [make_job(state=JobState.SUBMITTED, next_run_at=100.0) for _ in range(3)]
        with sqlite3.connect(path) as conn:
            conn.executescript(_LEASED_UNTIL_SCHEMA)
            for job in jobs:
                insert(conn, job, 100.0)
        stores = [SqliteJobStore(str(path)) for _ in range(8)]
        try:
            counts = await asyncio.gather(*(store.in_flight("vizard") for store in stores))

            assert counts == [3] * len(stores)
            with sqlite3.connect(path) as conn:
                columns = [row[1] for row in conn.execute("PRAGMA table_info(jobs)")]
            assert len(columns) == len(set(columns))
            assert {"lease_owner", "at_provider", "finished_at"} <= set(columns)
        finally:
            for store in stores:
                await store.close()
