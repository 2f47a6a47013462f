"""Where jobs live: Redis when replicas share them, otherwise one SQLite file."""

from __future__ import annotations

import sqlite3

from redis.exceptions import RedisError

from bot.store.base import InFlightFull, JobStore
from bot.store.redis import RedisJobStore
from bot.store.sqlite import SqliteJobStore

__all__ = [
    "STORE_DOWN",
    "InFlightFull",
    "JobStore",
    "RedisJobStore",
    "SqliteJobStore",
    "open_store",
]

# What a store raises when it cannot be reached (as opposed to a bug in our code).
STORE_DOWN: tuple[type[Exception], ...] = (RedisError, sqlite3.OperationalError, OSError)


def open_store(*, redis_url: str | None, sqlite_path: str, prefix: str = "reelbot:") -> JobStore:
    if redis_url:
        return RedisJobStore.from_url(redis_url, prefix)
    return SqliteJobStore(sqlite_path)
