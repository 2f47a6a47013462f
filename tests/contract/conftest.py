"""Stores for the contract suites: each test runs against Redis and against SQLite."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
import pytest_asyncio

from bot.store import JobStore, RedisJobStore, SqliteJobStore

Connect = Callable[[], JobStore]


@pytest_asyncio.fixture(params=["redis", "sqlite"])
async def connect(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Connect]:
    """Opens another store over the same data: a second replica (Redis) or process (SQLite)."""
    opened: list[JobStore] = []

    if request.param == "redis":
        url: str = request.getfixturevalue("redis_url")
        prefix: str = request.getfixturevalue("redis_prefix")

        def open_one() -> JobStore:
            return RedisJobStore.from_url(url, prefix)
    else:
        path = str(tmp_path / "db" / "jobs.sqlite3")

        def open_one() -> JobStore:
            return SqliteJobStore(path)

    def connect_and_track() -> JobStore:
        store = open_one()
        opened.append(store)
        return store

    yield connect_and_track
    for store in opened:
        await store.close()


@pytest.fixture
def store(connect: Connect) -> JobStore:
    return connect()
