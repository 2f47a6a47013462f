"""The JobStore in one SQLite file: the embedded default when there is no Redis.

One connection, used from worker threads one call at a time (a threading.Lock), so the event
loop never blocks on disk. Every change that reads before it writes runs in BEGIN IMMEDIATE,
which takes the file's write lock first: two processes sharing the file still never lease one
job twice, admit one job too many at a provider, or take one rate slot or pace turn twice.
Semantics match RedisJobStore, down to the order of ties (due time, then id) and the 50
newest jobs kept per user.

A job's row keeps outside its JSON what the store decides by: due_at (the lease end while
leased), leased_until and lease_owner (kept after a lease runs out, until its owner releases
it), at_provider (1 while job.state.at_provider), finished_at (only for a terminal job) and
unfinished_team (the job's team, "-" for none, until the job is terminal: active_for_team).
A file made by an earlier Reelbot gets the missing columns on open (bot/store/sqlite_schema.py).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from typing import TypeVar

from bot.jobs import Job
from bot.store.base import ActiveJobs, InFlightFull
from bot.store.sqlite_file import SqliteFile, immediate
from bot.store.sqlite_line import LineRows
from bot.store.sqlite_schema import create_or_upgrade, unfinished_team
from bot.store.sqlite_shared import SharedRows
from bot.store.sqlite_spend import SpendRows
from bot.store.team_config import SqliteTeamConfig
from providers.base import RateWindow

_T = TypeVar("_T")

_USER_HISTORY = 50
# A pace row this long past its next free time says nothing any more: it is deleted.
_PACE_IDLE_S = 60.0


def _job(data: str, version: int) -> Job:
    job = Job.model_validate_json(data)
    job.version = version
    return job


def _finished_at(job: Job) -> float | None:
    """What purge goes by: finished_at, for a terminal job only."""
    return job.finished_at if job.terminal else None


class SqliteJobStore(SharedRows, SpendRows, SqliteTeamConfig, LineRows):
    def __init__(self, path: str) -> None:
        self._file = SqliteFile(path, create_or_upgrade)

    async def _run(self, fn: Callable[[sqlite3.Connection], _T]) -> _T:
        return await self._file.run(fn)

    async def _write(self, fn: Callable[[sqlite3.Connection], _T]) -> _T:
        return await self._file.write(fn)

    async def add(
        self, job: Job, *, owner: str | None = None, lease_until: float | None = None
    ) -> Job:
        if (owner is None) != (lease_until is None):
            raise ValueError("owner and lease_until go together")
        stored = job.model_copy(update={"version": 1})
        due_at = job.next_run_at if lease_until is None else lease_until

        def add(conn: sqlite3.Connection) -> None:
            with immediate(conn):
                try:
                    conn.execute(
                        "INSERT INTO jobs (id, data, version, due_at, provider, provider_ref,"
                        " user_id, created_at, leased_until, lease_owner, at_provider,"
                        " finished_at, unfinished_team)"
                        " VALUES (?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (
                            job.id,
                            stored.model_dump_json(),
                            due_at,
                            job.provider,
                            job.provider_ref,
                            job.user_id,
                            job.created_at,
                            lease_until,
                            owner,
                            int(job.state.at_provider),
                            _finished_at(job),
                            unfinished_team(job.team_id, job.state.value),
                        ),
                    )
                except sqlite3.IntegrityError:
                    raise ValueError(f"job {job.id} already exists") from None

        await self._run(add)
        return stored

    async def get(self, job_id: str) -> Job | None:
        def get(conn: sqlite3.Connection) -> tuple[str, int] | None:
            row: tuple[str, int] | None = conn.execute(
                "SELECT data, version FROM jobs WHERE id = ?", (job_id,)
            ).fetchone()
            return row

        row = await self._run(get)
        return None if row is None else _job(*row)

    async def save(
        self,
        job: Job,
        *,
        now: float,
        owner: str | None = None,
        release: bool = False,
        in_flight_limit: int | None = None,
    ) -> Job | None:
        stored = job.model_copy(update={"version": job.version + 1})
        at_provider = job.state.at_provider

        # The version is checked first: a stale writer hears None, never InFlightFull.
        def save(conn: sqlite3.Connection) -> bool:
            with immediate(conn):
                row: tuple[int, str, int, float | None, str | None] | None = conn.execute(
                    "SELECT version, provider, at_provider, leased_until, lease_owner"
                    " FROM jobs WHERE id = ?",
                    (job.id,),
                ).fetchone()
                if row is None or row[0] != job.version:
                    return False
                version, provider, counted, leased_until, lease_owner = row
                if owner is not None and lease_owner != owner:
                    return False  # fenced: the lease is someone else's now
                if provider != job.provider:
                    raise ValueError(f"job {job.id} belongs to {provider}, not {job.provider}")
                if in_flight_limit is not None and at_provider and not counted:
                    (others,) = conn.execute(
                        "SELECT COUNT(*) FROM jobs WHERE provider = ? AND at_provider = 1",
                        (job.provider,),
                    ).fetchone()
                    if others >= in_flight_limit:
                        raise InFlightFull(others)
                if release and owner is not None and owner == lease_owner:
                    leased_until = lease_owner = None
                held = leased_until is not None and leased_until > now
                # Like the Redis ref key, a provider_ref is indexed once known, never unset.
                conn.execute(
                    "UPDATE jobs SET data = ?, version = ?, due_at = ?, leased_until = ?,"
                    " lease_owner = ?, at_provider = ?, finished_at = ?, unfinished_team = ?,"
                    " provider_ref = COALESCE(?, provider_ref) WHERE id = ?",
                    (
                        stored.model_dump_json(),
                        version + 1,
                        leased_until if held else job.next_run_at,
                        leased_until,
                        lease_owner,
                        int(at_provider),
                        _finished_at(job),
                        unfinished_team(job.team_id, job.state.value),
                        job.provider_ref,
                        job.id,
                    ),
                )
                return True

        return stored if await self._run(save) else None

    async def claim_due(
        self, provider: str, now: float, limit: int, lease_seconds: float, owner: str
    ) -> list[Job]:
        if limit <= 0:
            return []
        until = now + lease_seconds

        def claim_due(conn: sqlite3.Connection) -> list[tuple[str, str, int]]:
            with immediate(conn):
                rows: list[tuple[str, str, int]] = conn.execute(
                    "SELECT id, data, version FROM jobs WHERE provider = ?"
                    " AND due_at IS NOT NULL AND due_at <= ? ORDER BY due_at, id LIMIT ?",
                    (provider, now, limit),
                ).fetchall()
                conn.executemany(
                    "UPDATE jobs SET due_at = ?, leased_until = ?, lease_owner = ? WHERE id = ?",
                    [(until, until, owner, job_id) for job_id, _, _ in rows],
                )
                return rows

        return [_job(data, version) for _, data, version in await self._run(claim_due)]

    async def claim(self, job_id: str, now: float, lease_seconds: float, owner: str) -> Job | None:
        until = now + lease_seconds

        def claim(conn: sqlite3.Connection) -> tuple[str, int] | None:
            with immediate(conn):
                row: tuple[str, int] | None = conn.execute(
                    "UPDATE jobs SET due_at = ?, leased_until = ?, lease_owner = ? WHERE id = ?"
                    " AND due_at IS NOT NULL AND due_at <= ? RETURNING data, version",
                    (until, until, owner, job_id, now),
                ).fetchone()
                return row

        row = await self._run(claim)
        return None if row is None else _job(*row)

    async def renew(self, job_id: str, owner: str, until: float) -> bool:
        def renew(conn: sqlite3.Connection) -> bool:
            with immediate(conn):
                cursor = conn.execute(
                    "UPDATE jobs SET leased_until = ?, due_at = ? WHERE id = ? AND lease_owner = ?",
                    (until, until, job_id, owner),
                )
                return cursor.rowcount == 1

        return await self._run(renew)

    async def make_due(self, job_id: str, now: float) -> bool:
        def make_due(conn: sqlite3.Connection) -> bool:
            with immediate(conn):
                # A lease is never cut short, so no two runners poll one job.
                row: tuple[float | None] | None = conn.execute(
                    "SELECT leased_until FROM jobs WHERE id = ? AND due_at IS NOT NULL",
                    (job_id,),
                ).fetchone()
                if row is None:
                    return False
                if row[0] is None or row[0] <= now:
                    conn.execute(
                        "UPDATE jobs SET due_at = MIN(due_at, ?) WHERE id = ?", (now, job_id)
                    )
                return True

        return await self._run(make_due)

    async def lease_end(self, job_id: str) -> float | None:
        def lease_end(conn: sqlite3.Connection) -> float | None:
            row = conn.execute("SELECT leased_until FROM jobs WHERE id = ?", (job_id,)).fetchone()
            return None if row is None or row[0] is None else float(row[0])

        return await self._run(lease_end)

    async def next_due(self, providers: Sequence[str]) -> float | None:
        wanted = list(dict.fromkeys(providers))
        if not wanted:
            return None

        def next_due(conn: sqlite3.Connection) -> float | None:
            marks = ", ".join("?" * len(wanted))
            row: tuple[float | None] = conn.execute(
                f"SELECT MIN(due_at) FROM jobs WHERE provider IN ({marks})"  # noqa: S608
                " AND due_at IS NOT NULL",
                wanted,
            ).fetchone()
            return row[0]

        return await self._run(next_due)

    async def queue_depth(self, provider: str, now: float) -> int:
        def count(conn: sqlite3.Connection) -> int:
            row = conn.execute(
                "SELECT COUNT(*) FROM jobs WHERE provider = ? AND due_at IS NOT NULL"
                " AND due_at <= ?",
                (provider, now),
            ).fetchone()
            return int(row[0])

        return await self._run(count)

    async def in_flight(self, provider: str) -> int:
        def in_flight(conn: sqlite3.Connection) -> int:
            row: tuple[int] = conn.execute(
                "SELECT COUNT(*) FROM jobs WHERE provider = ? AND at_provider = 1", (provider,)
            ).fetchone()
            return row[0]

        return await self._run(in_flight)

    async def find_by_ref(self, provider: str, ref: str) -> str | None:
        def find_by_ref(conn: sqlite3.Connection) -> str | None:
            row: tuple[str] | None = conn.execute(
                "SELECT id FROM jobs WHERE provider = ? AND provider_ref = ?"
                " ORDER BY rowid DESC LIMIT 1",
                (provider, ref),
            ).fetchone()
            return None if row is None else row[0]

        return await self._run(find_by_ref)

    async def recent_for_user(self, user_id: str, limit: int = 10) -> list[Job]:
        if limit <= 0:
            return []

        def recent(conn: sqlite3.Connection) -> list[tuple[str, int]]:
            rows: list[tuple[str, int]] = conn.execute(
                "SELECT data, version FROM jobs WHERE user_id = ? ORDER BY rowid DESC LIMIT ?",
                (user_id, min(limit, _USER_HISTORY)),
            ).fetchall()
            return rows

        return [_job(data, version) for data, version in await self._run(recent)]

    async def active_for_team(self, team_id: str | None, limit: int = 20) -> ActiveJobs:
        team = unfinished_team(team_id, None)

        def active(conn: sqlite3.Connection) -> tuple[int, list[tuple[str, int]]]:
            (total,) = conn.execute(
                "SELECT COUNT(*) FROM jobs WHERE unfinished_team = ?", (team,)
            ).fetchone()
            rows: list[tuple[str, int]] = conn.execute(
                "SELECT data, version FROM jobs WHERE unfinished_team = ?"
                " ORDER BY created_at DESC, id DESC LIMIT ?",
                (team, max(0, limit)),
            ).fetchall()
            return int(total), rows

        total, rows = await self._run(active)
        return ActiveJobs([_job(data, version) for data, version in rows], total)

    async def take_rate_slot(self, key: str, windows: Sequence[RateWindow], now: float) -> float:
        def take(conn: sqlite3.Connection) -> float:
            with immediate(conn):
                wait = 0.0
                for window in windows:
                    conn.execute(
                        "DELETE FROM rate WHERE key = ? AND seconds = ? AND at <= ?",
                        (key, window.seconds, now - window.seconds),
                    )
                    count, oldest = conn.execute(
                        "SELECT COUNT(*), MIN(at) FROM rate WHERE key = ? AND seconds = ?",
                        (key, window.seconds),
                    ).fetchone()
                    if count >= window.limit:
                        until_free = (
                            float(window.seconds)
                            if oldest is None
                            else oldest + window.seconds - now
                        )
                        wait = max(wait, until_free)
                if wait > 0:
                    return wait
                conn.executemany(
                    "INSERT INTO rate (key, seconds, at) VALUES (?, ?, ?)",
                    [(key, window.seconds, now) for window in windows],
                )
                return 0.0

        return await self._run(take)

    async def pace(self, key: str, interval: float, now: float, max_wait: float) -> float:
        def pace(conn: sqlite3.Connection) -> float:
            with immediate(conn):
                conn.execute("DELETE FROM pace WHERE next_free < ?", (now - _PACE_IDLE_S,))
                row: tuple[float] | None = conn.execute(
                    "SELECT next_free FROM pace WHERE key = ?", (key,)
                ).fetchone()
                turn = now if row is None else max(now, row[0])
                wait = turn - now
                if wait <= max_wait:
                    conn.execute(
                        "INSERT INTO pace (key, next_free) VALUES (?, ?)"
                        " ON CONFLICT (key) DO UPDATE SET next_free = excluded.next_free",
                        (key, turn + interval),
                    )
                return wait

        return await self._run(pace)

    async def purge(self, before: float, limit: int = 500) -> int:
        if limit <= 0:
            return 0

        # Deleting the row deletes its provider index entry and its in-flight count with it.
        def purge(conn: sqlite3.Connection) -> int:
            with immediate(conn):
                cursor = conn.execute(
                    "DELETE FROM jobs WHERE id IN (SELECT id FROM jobs"
                    " WHERE finished_at IS NOT NULL AND finished_at < ? AND due_at IS NULL"
                    " ORDER BY finished_at, id LIMIT ?)",
                    (before, limit),
                )
                return cursor.rowcount

        return await self._run(purge)

    async def ping(self) -> bool:
        def ping(conn: sqlite3.Connection) -> bool:
            row: tuple[int] | None = conn.execute("SELECT 1").fetchone()
            return row == (1,)

        try:
            return await self._run(ping)
        except (sqlite3.Error, OSError):
            return False

    async def close(self) -> None:
        await self._file.close()
