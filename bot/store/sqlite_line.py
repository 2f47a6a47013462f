"""The queue line in SQLite (see bot/store/line.py): one row per job in a line. Each look at
the line (and the slot taken in line) is one IMMEDIATE transaction, and reads only the rows
ahead of the job (each checked against its job by primary key)."""

from __future__ import annotations

import abc
import sqlite3
from collections.abc import Callable, Sequence
from typing import TypeVar

from bot.store.line import LineTurn
from providers.base import RateWindow

_T = TypeVar("_T")

SCHEMA = """
CREATE TABLE IF NOT EXISTS line (
    job_id TEXT PRIMARY KEY,
    provider TEXT NOT NULL,
    since REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS line_order ON line (provider, since, job_id);
"""

_AHEAD = "provider = ? AND (since < ? OR (since = ? AND job_id < ?))"


class LineRows(abc.ABC):
    """Mixed into SqliteJobStore, which provides `_run` and `_write` (BEGIN IMMEDIATE)."""

    @abc.abstractmethod
    async def _run(self, fn: Callable[[sqlite3.Connection], _T]) -> _T:
        """Run `fn` on the store's connection, off the event loop."""

    @abc.abstractmethod
    async def _write(self, fn: Callable[[sqlite3.Connection], _T]) -> _T:
        """Run `fn` in one IMMEDIATE transaction."""

    async def line_position(self, provider: str, job_id: str, since: float) -> int:
        return await self._write(lambda conn: _ahead(conn, provider, job_id, since)[0])

    async def take_slot_in_line(
        self,
        provider: str,
        job_id: str,
        since: float,
        key: str,
        windows: Sequence[RateWindow],
        now: float,
    ) -> LineTurn:
        if not windows:
            raise ValueError("no rate windows to take a slot in")

        def take(conn: sqlite3.Connection) -> LineTurn:
            ahead, joined = _ahead(conn, provider, job_id, since)
            free = min(_room(conn, key, window, now) for window in windows)
            taken = ahead < free
            if taken:
                conn.executemany(
                    "INSERT INTO rate (key, seconds, at) VALUES (?, ?, ?)",
                    [(key, window.seconds, now) for window in windows],
                )
                conn.execute("DELETE FROM line WHERE job_id = ?", (job_id,))
            slots = [
                [
                    float(at)
                    for (at,) in conn.execute(
                        "SELECT at FROM rate WHERE key = ? AND seconds = ? ORDER BY at",
                        (key, window.seconds),
                    )
                ]
                for window in windows
            ]
            return LineTurn(taken=taken, ahead=ahead, since=joined, slots=slots)

        return await self._write(take)


def _ahead(conn: sqlite3.Connection, provider: str, job_id: str, since: float) -> tuple[int, float]:
    """Join the line unless in it; the jobs ahead still waiting (the others leave), and when
    this job joined."""
    conn.execute(
        "INSERT OR IGNORE INTO line (job_id, provider, since) VALUES (?, ?, ?)",
        (job_id, provider, since),
    )
    (joined,) = conn.execute("SELECT since FROM line WHERE job_id = ?", (job_id,)).fetchone()
    ahead = (provider, joined, joined, job_id)
    conn.execute(
        f"DELETE FROM line WHERE {_AHEAD} AND NOT EXISTS (SELECT 1 FROM jobs"  # noqa: S608
        " WHERE jobs.id = line.job_id AND json_extract(jobs.data, '$.state') = 'queued')",
        ahead,
    )
    (count,) = conn.execute(f"SELECT COUNT(*) FROM line WHERE {_AHEAD}", ahead).fetchone()  # noqa: S608
    return int(count), float(joined)


def _room(conn: sqlite3.Connection, key: str, window: RateWindow, now: float) -> int:
    """Free slots in one window at `now` (the slots that left it are deleted, as
    take_rate_slot does)."""
    conn.execute(
        "DELETE FROM rate WHERE key = ? AND seconds = ? AND at <= ?",
        (key, window.seconds, now - window.seconds),
    )
    (count,) = conn.execute(
        "SELECT COUNT(*) FROM rate WHERE key = ? AND seconds = ?", (key, window.seconds)
    ).fetchone()
    return window.limit - int(count)
