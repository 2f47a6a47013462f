"""The installation and OAuth state stores for the configured store: Redis when REDIS_URL is
set, else the SQLite file of REELBOT_DB."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import redis.asyncio
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore

from bot.oauth.records import TeamInstallationStore
from bot.oauth.redis_stores import RedisInstallationStore, RedisOAuthStateStore
from bot.oauth.sqlite_stores import OAuthDatabase, SqliteInstallationStore, SqliteOAuthStateStore


@dataclass(frozen=True)
class OAuthStores:
    installations: TeamInstallationStore
    states: AsyncOAuthStateStore
    close: Callable[[], Awaitable[None]]


def open_oauth_stores(
    *, client_id: str, redis_url: str | None, sqlite_path: str, prefix: str
) -> OAuthStores:
    if redis_url:
        client = redis.asyncio.Redis.from_url(redis_url)
        return OAuthStores(
            RedisInstallationStore(client, prefix, client_id),
            RedisOAuthStateStore(client, prefix),
            client.aclose,
        )
    database = OAuthDatabase(sqlite_path)
    return OAuthStores(
        SqliteInstallationStore(database, client_id),
        SqliteOAuthStateStore(database),
        database.close,
    )
