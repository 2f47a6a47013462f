"""The JobStore in one SQLite file: the embedded default when there is no Redis.

One connection, used from worker threads one call at a time (a threading.Lock), so the event
loop never blocks on disk. Every change that reads before it writes runs in BEGIN IMMEDIATE,
which takes the file's write lock first: two processes sharing the file still never lease one
job twice or take one rate slot twice. Semantics match RedisJobStore, down to the order of
ties (due time, then id) and the 50 newest jobs kept per user.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from bot.jobs import Job
from providers.base import RateWindow

_T = TypeVar("_T")

_USER_HISTORY = 50
_BUSY_TIMEOUT_S = 30.0

_SCHEMA = """
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


def _due_at(job: Job) -> float | None:
    return job.next_run_at


def _job(data: str, version: int) -> Job:
    job = Job.model_validate_json(data)
    job.version = version
    return job


@contextmanager
def _immediate(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


class SqliteJobStore:
    def __init__(self, path: str) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None

    async def _run(self, fn: Callable[[sqlite3.Connection], _T]) -> _T:
        return await asyncio.to_thread(self._locked, fn)

    def _locked(self, fn: Callable[[sqlite3.Connection], _T]) -> _T:
        with self._lock:
            if self._conn is None:
                self._conn = self._open()
            return fn(self._conn)

    def _open(self) -> sqlite3.Connection:
        if self._path != ":memory:":
            Path(self._path).parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(
            self._path,
            timeout=_BUSY_TIMEOUT_S,
            isolation_level=None,
            check_same_thread=False,
        )
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            with _immediate(conn):
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        conn.execute(statement)
                columns = {row[1] for row in conn.execute("PRAGMA table_info(jobs)")}
                if "leased_until" not in columns:  # a file made before leases were tracked
                    conn.execute("ALTER TABLE jobs ADD COLUMN leased_until REAL NULL")
        except BaseException:
            conn.close()
            raise
        return conn

    async def add(self, job: Job) -> Job:
        stored = job.model_copy(update={"version": 1})

        def add(conn: sqlite3.Connection) -> None:
            with _immediate(conn):
                try:
                    conn.execute(
                        "INSERT INTO jobs (id, data, version, due_at, provider, provider_ref,"
                        " user_id, created_at) VALUES (?, ?, 1, ?, ?, ?, ?, ?)",
                        (
                            job.id,
                            stored.model_dump_json(),
                            _due_at(job),
                            job.provider,
                            job.provider_ref,
                            job.user_id,
                            job.created_at,
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

    async def save(self, job: Job) -> Job | None:
        stored = job.model_copy(update={"version": job.version + 1})

        # Like the Redis ref hash, a job's provider_ref is indexed once known and never unset.
        def save(conn: sqlite3.Connection) -> bool:
            with _immediate(conn):
                cursor = conn.execute(
                    "UPDATE jobs SET data = ?, version = version + 1, due_at = ?,"
                    " leased_until = NULL, provider_ref = COALESCE(?, provider_ref)"
                    " WHERE id = ? AND version = ?",
                    (
                        stored.model_dump_json(),
                        _due_at(job),
                        job.provider_ref,
                        job.id,
                        job.version,
                    ),
                )
                return cursor.rowcount == 1

        return stored if await self._run(save) else None

    async def claim_due(self, now: float, limit: int, lease_seconds: float) -> list[Job]:
        if limit <= 0:
            return []

        def claim_due(conn: sqlite3.Connection) -> list[tuple[str, str, int]]:
            with _immediate(conn):
                rows: list[tuple[str, str, int]] = conn.execute(
                    "SELECT id, data, version FROM jobs WHERE due_at IS NOT NULL AND due_at <= ?"
                    " ORDER BY due_at, id LIMIT ?",
                    (now, limit),
                ).fetchall()
                conn.executemany(
                    "UPDATE jobs SET due_at = ?, leased_until = ? WHERE id = ?",
                    [(now + lease_seconds, now + lease_seconds, job_id) for job_id, _, _ in rows],
                )
                return rows

        return [_job(data, version) for _, data, version in await self._run(claim_due)]

    async def claim(self, job_id: str, now: float, lease_seconds: float) -> Job | None:
        def claim(conn: sqlite3.Connection) -> tuple[str, int] | None:
            with _immediate(conn):
                row: tuple[str, int] | None = conn.execute(
                    "UPDATE jobs SET due_at = ?, leased_until = ? WHERE id = ?"
                    " AND due_at IS NOT NULL AND due_at <= ? RETURNING data, version",
                    (now + lease_seconds, now + lease_seconds, job_id, now),
                ).fetchone()
                return row

        row = await self._run(claim)
        return None if row is None else _job(*row)

    async def make_due(self, job_id: str, now: float) -> bool:
        def make_due(conn: sqlite3.Connection) -> bool:
            with _immediate(conn):
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

    async def take_rate_slot(self, key: str, windows: Sequence[RateWindow], now: float) -> float:
        def take(conn: sqlite3.Connection) -> float:
            with _immediate(conn):
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

    async def ping(self) -> bool:
        def ping(conn: sqlite3.Connection) -> bool:
            row: tuple[int] | None = conn.execute("SELECT 1").fetchone()
            return row == (1,)

        try:
            return await self._run(ping)
        except (sqlite3.Error, OSError):
            return False

    async def close(self) -> None:
        def close() -> None:
            with self._lock:
                if self._conn is not None:
                    self._conn.close()
                    self._conn = None

        await asyncio.to_thread(close)
