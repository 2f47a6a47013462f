"""The SQLite store's shared state (providers.base.SharedState): rows that expire.

Expiry is wall-clock time on this machine (one file has one machine). Expired rows are
ignored on read and replaced on write; `purge_shared` sweeps them.
"""

from __future__ import annotations

import abc
import sqlite3
import time
from collections.abc import Callable
from typing import TypeVar

_T = TypeVar("_T")


class SharedRows(abc.ABC):
    """Mixed into SqliteJobStore, which provides `_run` (one connection, one thread)."""

    @abc.abstractmethod
    async def _run(self, fn: Callable[[sqlite3.Connection], _T]) -> _T:
        """Run `fn` on the store's connection, off the event loop."""

    async def shared_get(self, key: str) -> str | None:
        def get(conn: sqlite3.Connection) -> str | None:
            row = conn.execute(
                "SELECT value FROM shared WHERE key = ? AND expires_at > ?", (key, time.time())
            ).fetchone()
            return None if row is None else str(row[0])

        return await self._run(get)

    async def shared_put(self, key: str, value: str, ttl: float) -> None:
        def put(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT INTO shared (key, value, expires_at) VALUES (?, ?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value, "
                "expires_at = excluded.expires_at",
                (key, value, time.time() + ttl),
            )

        await self._run(put)

    async def shared_put_new(self, key: str, value: str, ttl: float) -> bool:
        def put_new(conn: sqlite3.Connection) -> bool:
            now = time.time()
            # One statement: an expired row counts as absent and is replaced.
            cursor = conn.execute(
                "INSERT INTO shared (key, value, expires_at) VALUES (?, ?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value, "
                "expires_at = excluded.expires_at WHERE shared.expires_at <= ?",
                (key, value, now + ttl, now),
            )
            return cursor.rowcount == 1

        return await self._run(put_new)

    async def shared_delete(self, key: str, value: str | None = None) -> bool:
        def delete(conn: sqlite3.Connection) -> bool:
            if value is None:
                cursor = conn.execute(
                    "DELETE FROM shared WHERE key = ? AND expires_at > ?", (key, time.time())
                )
            else:
                cursor = conn.execute(
                    "DELETE FROM shared WHERE key = ? AND value = ? AND expires_at > ?",
                    (key, value, time.time()),
                )
            return cursor.rowcount == 1

        return await self._run(delete)

    async def purge_shared(self) -> int:
        def purge(conn: sqlite3.Connection) -> int:
            return conn.execute("DELETE FROM shared WHERE expires_at <= ?", (time.time(),)).rowcount

        return await self._run(purge)
