"""Per-workspace settings that last (channel presets, a workspace's encrypted provider keys):
a small string map per team, in the job store. Nothing here expires; uninstalling the app
drops a team's map whole (`config_drop`).

Redis keeps one hash per team (`config:{team}`); SQLite a `team_config` table.
"""

from __future__ import annotations

import abc
import sqlite3
from collections.abc import Callable, Sequence
from typing import Protocol, TypeVar

import redis.asyncio

_T = TypeVar("_T")

SCHEMA = """
CREATE TABLE IF NOT EXISTS team_config (
    team TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (team, key)
);
"""


class TeamConfig(Protocol):
    async def config_get(self, team: str, key: str) -> str | None: ...

    async def config_put(self, team: str, key: str, value: str) -> None: ...

    async def config_delete(self, team: str, key: str) -> bool:
        """True when the key was there."""
        ...

    async def config_all(self, team: str) -> dict[str, str]: ...

    async def config_many(self, team: str, keys: Sequence[str]) -> dict[str, str]:
        """The values of those keys that are set, in one read."""
        ...

    async def config_drop(self, team: str) -> int:
        """Delete every setting of the team; how many went."""
        ...


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value


class RedisTeamConfig:
    """Mixed into RedisJobStore, which sets `_client` and `_prefix`."""

    _client: redis.asyncio.Redis
    _prefix: str

    def _config_key(self, team: str) -> str:
        return f"{self._prefix}config:{team}"

    async def config_get(self, team: str, key: str) -> str | None:
        value = await self._client.hget(self._config_key(team), key)
        return None if value is None else _text(value)

    async def config_put(self, team: str, key: str, value: str) -> None:
        await self._client.hset(self._config_key(team), key, value)

    async def config_delete(self, team: str, key: str) -> bool:
        return bool(await self._client.hdel(self._config_key(team), key))

    async def config_all(self, team: str) -> dict[str, str]:
        found = await self._client.hgetall(self._config_key(team))
        return {_text(k): _text(v) for k, v in found.items()}

    async def config_many(self, team: str, keys: Sequence[str]) -> dict[str, str]:
        if not keys:
            return {}
        values = await self._client.hmget(self._config_key(team), list(keys))
        return {k: _text(v) for k, v in zip(keys, values, strict=True) if v is not None}

    async def config_drop(self, team: str) -> int:
        key = self._config_key(team)
        async with self._client.pipeline(transaction=True) as pipe:
            pipe.hlen(key)
            pipe.delete(key)
            count, _ = await pipe.execute()
        return int(count)


class SqliteTeamConfig(abc.ABC):
    """Mixed into SqliteJobStore, which provides `_run` and `_write`."""

    @abc.abstractmethod
    async def _run(self, fn: Callable[[sqlite3.Connection], _T]) -> _T:
        """Run `fn` on the store's connection, off the event loop."""

    @abc.abstractmethod
    async def _write(self, fn: Callable[[sqlite3.Connection], _T]) -> _T:
        """Run `fn` inside one write transaction."""

    async def config_get(self, team: str, key: str) -> str | None:
        def get(conn: sqlite3.Connection) -> str | None:
            row = conn.execute(
                "SELECT value FROM team_config WHERE team = ? AND key = ?", (team, key)
            ).fetchone()
            return None if row is None else str(row[0])

        return await self._run(get)

    async def config_put(self, team: str, key: str, value: str) -> None:
        def put(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT INTO team_config (team, key, value) VALUES (?, ?, ?) "
                "ON CONFLICT (team, key) DO UPDATE SET value = excluded.value",
                (team, key, value),
            )

        await self._write(put)

    async def config_delete(self, team: str, key: str) -> bool:
        def delete(conn: sqlite3.Connection) -> bool:
            cursor = conn.execute("DELETE FROM team_config WHERE team = ? AND key = ?", (team, key))
            return cursor.rowcount == 1

        return await self._write(delete)

    async def config_all(self, team: str) -> dict[str, str]:
        def everything(conn: sqlite3.Connection) -> dict[str, str]:
            rows = conn.execute(
                "SELECT key, value FROM team_config WHERE team = ?", (team,)
            ).fetchall()
            return {str(k): str(v) for k, v in rows}

        return await self._run(everything)

    async def config_many(self, team: str, keys: Sequence[str]) -> dict[str, str]:
        wanted = list(dict.fromkeys(keys))
        if not wanted:
            return {}

        def some(conn: sqlite3.Connection) -> dict[str, str]:
            marks = ", ".join("?" for _ in wanted)
            rows = conn.execute(
                f"SELECT key, value FROM team_config WHERE team = ? AND key IN ({marks})",  # noqa: S608
                (team, *wanted),
            ).fetchall()
            return {str(k): str(v) for k, v in rows}

        return await self._run(some)

    async def config_drop(self, team: str) -> int:
        def drop(conn: sqlite3.Connection) -> int:
            return conn.execute("DELETE FROM team_config WHERE team = ?", (team,)).rowcount

        return await self._write(drop)
