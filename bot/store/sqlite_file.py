"""One connection to a SQLite file, as the job store and the OAuth stores use it: opened on
first use, in WAL mode, and used from worker threads one call at a time, so the event loop
never waits on disk."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

_T = TypeVar("_T")
BUSY_TIMEOUT_S = 30.0


@contextmanager
def immediate(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One write transaction (BEGIN IMMEDIATE), rolled back on any error."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def _wal(conn: sqlite3.Connection) -> None:
    """Switch to WAL. Switching needs the file to itself and SQLite answers "database is
    locked" at once, without its busy timeout, while another process opens the same new
    file: so wait and try again here, up to the busy timeout."""
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


class SqliteFile:
    """The connection; `prepare` makes the schema current (inside one write transaction)
    when the file is opened."""

    def __init__(self, path: str, prepare: Callable[[sqlite3.Connection], None]) -> None:
        self._path = path
        self._prepare = prepare
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None

    async def run(self, fn: Callable[[sqlite3.Connection], _T]) -> _T:
        """`fn` on the connection, in a worker thread."""
        return await asyncio.to_thread(self._locked, fn)

    async def write(self, fn: Callable[[sqlite3.Connection], _T]) -> _T:
        """`fn` inside one write transaction."""

        def in_transaction(conn: sqlite3.Connection) -> _T:
            with immediate(conn):
                return fn(conn)

        return await self.run(in_transaction)

    def _locked(self, fn: Callable[[sqlite3.Connection], _T]) -> _T:
        with self._lock:
            if self._conn is None:
                self._conn = self._open()
            return fn(self._conn)

    def _open(self) -> sqlite3.Connection:
        if self._path != ":memory:":
            Path(self._path).parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(
            self._path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
        )
        try:
            _wal(conn)
            conn.execute("PRAGMA synchronous=NORMAL")
            with immediate(conn):
                self._prepare(conn)
        except BaseException:
            conn.close()
            raise
        return conn

    async def close(self) -> None:
        def close() -> None:
            with self._lock:
                if self._conn is not None:
                    self._conn.close()
                    self._conn = None

        await asyncio.to_thread(close)
