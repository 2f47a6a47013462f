"""Where jobs live: Redis when replicas share them, otherwise one SQLite file."""

from __future__ import annotations

from bot.store.base import JobStore
from bot.store.redis import RedisJobStore
from bot.store.sqlite import SqliteJobStore

__all__ = ["JobStore", "RedisJobStore", "SqliteJobStore", "open_store"]


def open_store(*, redis_url: str | None, sqlite_path: str, prefix: str = "reelbot:") -> JobStore:
    if redis_url:
        return RedisJobStore.from_url(redis_url, prefix)
    return SqliteJobStore(sqlite_path)
