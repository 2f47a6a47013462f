"""The spend ledger in SQLite: one row per job and month; sums are counted in the same
IMMEDIATE transaction that inserts, so two processes on one file cannot overspend."""

from __future__ import annotations

import abc
import sqlite3
from collections.abc import Callable
from typing import TypeVar

from bot.store.spend import Budget, Reservation, Spend, SpendReport

_T = TypeVar("_T")

SCHEMA = """
CREATE TABLE IF NOT EXISTS spend (
    team TEXT NOT NULL,
    month TEXT NOT NULL,
    job_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    provider TEXT NOT NULL,
    cents INTEGER NOT NULL,
    PRIMARY KEY (team, month, job_id)
);
CREATE INDEX IF NOT EXISTS spend_user ON spend (team, month, user_id);
"""


def _left(limit: int | None, used: int) -> int | None:
    return None if limit is None else limit - used


class SpendRows(abc.ABC):
    """Mixed into SqliteJobStore, which provides `_run` and `_write` (BEGIN IMMEDIATE)."""

    @abc.abstractmethod
    async def _run(self, fn: Callable[[sqlite3.Connection], _T]) -> _T:
        """Run `fn` on the store's connection, off the event loop."""

    @abc.abstractmethod
    async def _write(self, fn: Callable[[sqlite3.Connection], _T]) -> _T:
        """Run `fn` in one IMMEDIATE transaction."""

    async def reserve_spend(self, spend: Spend, budget: Budget) -> Reservation:
        def reserve(conn: sqlite3.Connection) -> Reservation:
            key = (spend.team, spend.month)
            (total,) = conn.execute(
                "SELECT COALESCE(SUM(cents), 0) FROM spend WHERE team = ? AND month = ?", key
            ).fetchone()
            (mine,) = conn.execute(
                "SELECT COALESCE(SUM(cents), 0) FROM spend "
                "WHERE team = ? AND month = ? AND user_id = ?",
                (*key, spend.user),
            ).fetchone()
            known = conn.execute(
                "SELECT 1 FROM spend WHERE team = ? AND month = ? AND job_id = ?",
                (*key, spend.job_id),
            ).fetchone()
            if known is not None:
                return Reservation(
                    True, _left(budget.team_cents, total), _left(budget.user_cents, mine)
                )
            over_team = budget.team_cents is not None and total + spend.cents > budget.team_cents
            over_user = budget.user_cents is not None and mine + spend.cents > budget.user_cents
            if over_team or over_user:
                return Reservation(
                    False, _left(budget.team_cents, total), _left(budget.user_cents, mine)
                )
            conn.execute(
                "INSERT INTO spend (team, month, job_id, user_id, provider, cents) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (*key, spend.job_id, spend.user, spend.provider, spend.cents),
            )
            return Reservation(
                True,
                _left(budget.team_cents, total + spend.cents),
                _left(budget.user_cents, mine + spend.cents),
            )

        return await self._write(reserve)

    async def settle_spend(self, spend: Spend) -> None:
        def settle(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT INTO spend (team, month, job_id, user_id, provider, cents) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (team, month, job_id) "
                "DO UPDATE SET cents = excluded.cents",
                (spend.team, spend.month, spend.job_id, spend.user, spend.provider, spend.cents),
            )

        await self._write(settle)

    async def release_spend(self, team: str, month: str, job_id: str) -> None:
        def release(conn: sqlite3.Connection) -> None:
            conn.execute(
                "DELETE FROM spend WHERE team = ? AND month = ? AND job_id = ?",
                (team, month, job_id),
            )

        await self._write(release)

    async def spend_report(self, team: str, month: str) -> SpendReport:
        def report(conn: sqlite3.Connection) -> SpendReport:
            rows = conn.execute(
                "SELECT user_id, provider, cents FROM spend WHERE team = ? AND month = ?",
                (team, month),
            ).fetchall()
            found = SpendReport(month, sum(int(r[2]) for r in rows))
            for user, provider, cents in rows:
                found.by_user[user] = found.by_user.get(user, 0) + int(cents)
                found.by_provider[provider] = found.by_provider.get(provider, 0) + int(cents)
            return found

        return await self._run(report)
