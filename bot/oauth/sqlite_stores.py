"""Installations and OAuth states in the SQLite file of REELBOT_DB (its own tables, its own
connection, bot/store/sqlite_file.py, as the job store has).
"""

from __future__ import annotations

import logging
import secrets
import sqlite3
import time
from collections.abc import Callable
from typing import TypeVar

from slack_sdk.oauth.installation_store.models.bot import Bot
from slack_sdk.oauth.installation_store.models.installation import Installation
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore

from bot.oauth import records
from bot.store.sqlite_file import SqliteFile

log = logging.getLogger(__name__)
_T = TypeVar("_T")

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS oauth_installations (client_id TEXT NOT NULL, "
    "enterprise_id TEXT NOT NULL, team_id TEXT NOT NULL, user_id TEXT NOT NULL, "
    "installed_at REAL NOT NULL, data TEXT NOT NULL, "
    "PRIMARY KEY (client_id, enterprise_id, team_id, user_id))",
    "CREATE TABLE IF NOT EXISTS oauth_bots (client_id TEXT NOT NULL, "
    "enterprise_id TEXT NOT NULL, team_id TEXT NOT NULL, installed_at REAL NOT NULL, "
    "data TEXT NOT NULL, PRIMARY KEY (client_id, enterprise_id, team_id))",
    "CREATE TABLE IF NOT EXISTS oauth_states (state TEXT PRIMARY KEY, expires_at REAL NOT NULL)",
)


def _create_tables(conn: sqlite3.Connection) -> None:
    for statement in _SCHEMA:
        conn.execute(statement)


class OAuthDatabase:
    """The OAuth tables' connection to the SQLite file; every call is one write transaction."""

    def __init__(self, path: str) -> None:
        self._file = SqliteFile(path, _create_tables)

    async def run(self, fn: Callable[[sqlite3.Connection], _T]) -> _T:
        return await self._file.write(fn)

    async def close(self) -> None:
        await self._file.close()


class SqliteInstallationStore(records.TeamInstallationStore):
    def __init__(self, database: OAuthDatabase, client_id: str) -> None:
        self._db = database
        self._client_id = client_id

    @property
    def logger(self) -> logging.Logger:
        return log

    async def async_save(self, installation: Installation) -> None:
        enterprise, team, user = records.installation_key(installation)
        row = (self._client_id, enterprise, team, user, installation.installed_at)

        def save(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT OR REPLACE INTO oauth_installations VALUES (?, ?, ?, ?, ?, ?)",
                (*row, records.dump_installation(installation)),
            )
            if installation.bot_token is not None:
                self._put_bot(conn, installation.to_bot())

        await self._db.run(save)

    def _put_bot(self, conn: sqlite3.Connection, bot: Bot) -> None:
        conn.execute(
            "INSERT OR REPLACE INTO oauth_bots VALUES (?, ?, ?, ?, ?)",
            (self._client_id, *records.bot_key(bot), bot.installed_at, records.dump_bot(bot)),
        )

    async def async_save_bot(self, bot: Bot) -> None:
        if bot.bot_token is not None:
            await self._db.run(lambda conn: self._put_bot(conn, bot))

    async def async_find_bot(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> Bot | None:
        key = records.workspace(enterprise_id, team_id, is_enterprise_install)

        def find(conn: sqlite3.Connection) -> str | None:
            row = conn.execute(
                "SELECT data FROM oauth_bots WHERE client_id = ? AND enterprise_id = ? "
                "AND team_id = ?",
                (self._client_id, *key),
            ).fetchone()
            return None if row is None else str(row[0])

        data = await self._db.run(find)
        return None if data is None else records.load_bot(data)

    async def async_find_bot_for_team(self, team_id: str) -> Bot | None:
        """The bot of a workspace known by its team id alone (in an Enterprise Grid org or
        not), as a job knows its workspace."""

        def find(conn: sqlite3.Connection) -> str | None:
            row = conn.execute(
                "SELECT data FROM oauth_bots WHERE client_id = ? AND team_id = ? "
                "ORDER BY installed_at DESC LIMIT 1",
                (self._client_id, team_id),
            ).fetchone()
            return None if row is None else str(row[0])

        data = await self._db.run(find) if team_id else None
        return None if data is None else records.load_bot(data)

    async def async_find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        key = records.workspace(enterprise_id, team_id, is_enterprise_install)

        def find(conn: sqlite3.Connection) -> list[str]:
            rows = conn.execute(
                "SELECT data FROM oauth_installations WHERE client_id = ? AND enterprise_id = ? "
                "AND team_id = ?",
                (self._client_id, *key),
            ).fetchall()
            return [str(r[0]) for r in rows]

        stored = [records.load_installation(d) for d in await self._db.run(find)]
        return records.chosen(stored, user_id)

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        key = records.workspace(enterprise_id, team_id)
        await self._db.run(
            lambda conn: conn.execute(
                "DELETE FROM oauth_bots WHERE client_id = ? AND enterprise_id = ? AND team_id = ?",
                (self._client_id, *key),
            )
        )

    async def async_delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        key = records.workspace(enterprise_id, team_id)
        where = "client_id = ? AND enterprise_id = ? AND team_id = ?"
        values: tuple[str, ...] = (self._client_id, *key)
        if user_id is not None:
            where, values = where + " AND user_id = ?", (*values, user_id)
        await self._db.run(
            lambda conn: conn.execute(f"DELETE FROM oauth_installations WHERE {where}", values)  # noqa: S608
        )

    async def async_delete_all(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        key = records.workspace(enterprise_id, team_id)

        def delete(conn: sqlite3.Connection) -> None:
            for table in ("oauth_bots", "oauth_installations"):
                conn.execute(
                    f"DELETE FROM {table} WHERE client_id = ? AND enterprise_id = ? "  # noqa: S608
                    "AND team_id = ?",
                    (self._client_id, *key),
                )

        await self._db.run(delete)


class SqliteOAuthStateStore(AsyncOAuthStateStore):
    """States expire after `expiration_seconds` and are consumed once (a DELETE of one row)."""

    def __init__(
        self, database: OAuthDatabase, expiration_seconds: float = records.STATE_SECONDS
    ) -> None:
        self._db = database
        self._seconds = expiration_seconds

    @property
    def logger(self) -> logging.Logger:
        return log

    async def async_issue(self, *args: object, **kwargs: object) -> str:
        state = secrets.token_urlsafe(24)

        def issue(conn: sqlite3.Connection) -> None:
            now = time.time()
            conn.execute("DELETE FROM oauth_states WHERE expires_at <= ?", (now,))
            conn.execute("INSERT INTO oauth_states VALUES (?, ?)", (state, now + self._seconds))

        await self._db.run(issue)
        return state

    async def async_consume(self, state: str) -> bool:
        def consume(conn: sqlite3.Connection) -> bool:
            cursor = conn.execute(
                "DELETE FROM oauth_states WHERE state = ? AND expires_at > ?", (state, time.time())
            )
            return cursor.rowcount == 1

        return await self._db.run(consume)
