"""The queue line in SQLite (see bot/store/line.py): one row per job in a line. Asking a
place runs in one IMMEDIATE transaction, and looks only at the rows ahead of the job (each
checked against its job by primary key)."""

from __future__ import annotations

import abc
import sqlite3
from collections.abc import Callable, Sequence
from typing import TypeVar

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
        def position(conn: sqlite3.Connection) -> int:
            conn.execute(
                "INSERT OR IGNORE INTO line (job_id, provider, since) VALUES (?, ?, ?)",
                (job_id, provider, since),
            )
            (mine,) = conn.execute("SELECT since FROM line WHERE job_id = ?", (job_id,)).fetchone()
            ahead = (provider, mine, mine, job_id)
            conn.execute(
                f"DELETE FROM line WHERE {_AHEAD} AND NOT EXISTS (SELECT 1 FROM jobs"  # noqa: S608
                " WHERE jobs.id = line.job_id AND json_extract(jobs.data, '$.state') = 'queued')",
                ahead,
            )
            (count,) = conn.execute(
                f"SELECT COUNT(*) FROM line WHERE {_AHEAD}",  # noqa: S608
                ahead,
            ).fetchone()
            return int(count)

        return await self._write(position)

    async def leave_line(self, provider: str, job_id: str) -> float | None:
        def leave(conn: sqlite3.Connection) -> float | None:
            row: tuple[float] | None = conn.execute(
                "DELETE FROM line WHERE job_id = ? AND provider = ? RETURNING since",
                (job_id, provider),
            ).fetchone()
            return None if row is None else float(row[0])

        return await self._write(leave)

    async def rate_slots_taken(
        self, key: str, windows: Sequence[RateWindow], now: float
    ) -> list[list[float]]:
        def taken(conn: sqlite3.Connection) -> list[list[float]]:
            return [
                [
                    float(at)
                    for (at,) in conn.execute(
                        "SELECT at FROM rate WHERE key = ? AND seconds = ? AND at > ? ORDER BY at",
                        (key, window.seconds, now - window.seconds),
                    )
                ]
                for window in windows
            ]

        return await self._run(taken)
