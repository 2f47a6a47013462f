"""The SQLite store's schema, and the in-place upgrade of a file an earlier Reelbot made.

Run inside one BEGIN IMMEDIATE on every open: two processes opening one old file upgrade it
once. A column an older file lacks is added with ALTER TABLE; what it holds is recomputed
from each row's JSON (read as plain JSON: an old row need not validate as today's Job).
"""

from __future__ import annotations

import json
import sqlite3

from bot.jobs import JobState
from bot.store.sqlite_line import SCHEMA as LINE_SCHEMA
from bot.store.sqlite_spend import SCHEMA as SPEND_SCHEMA
from bot.store.team_config import SCHEMA as CONFIG_SCHEMA

_TABLES = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    data TEXT NOT NULL,
    version INTEGER NOT NULL,
    due_at REAL NULL,
    provider TEXT NOT NULL,
    provider_ref TEXT NULL,
    user_id TEXT NOT NULL,
    created_at REAL NOT NULL,
    leased_until REAL NULL,
    lease_owner TEXT NULL,
    at_provider INTEGER NOT NULL DEFAULT 0,
    finished_at REAL NULL,
    unfinished_team TEXT NULL
);
CREATE TABLE IF NOT EXISTS rate (
    key TEXT NOT NULL,
    seconds INTEGER NOT NULL,
    at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS pace (
    key TEXT PRIMARY KEY,
    next_free REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS shared (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    expires_at REAL NOT NULL
);
"""

# Columns of `jobs` added after its first version, in the order they came.
_ADDED_COLUMNS: tuple[tuple[str, str], ...] = (
    ("leased_until", "REAL NULL"),
    ("lease_owner", "TEXT NULL"),
    ("at_provider", "INTEGER NOT NULL DEFAULT 0"),
    ("finished_at", "REAL NULL"),
    ("unfinished_team", "TEXT NULL"),
)
# Computed from the JSON when added; the others start NULL (an old lease has no owner, so it
# just runs out).
_DERIVED = frozenset({"at_provider", "finished_at"})

# Created after the columns: some index the added ones. jobs_due (due_at, id) was the index
# before due sets were per provider.
_INDEXES = """
DROP INDEX IF EXISTS jobs_due;
CREATE INDEX IF NOT EXISTS jobs_provider_due ON jobs (provider, due_at, id)
    WHERE due_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS jobs_ref ON jobs (provider, provider_ref)
    WHERE provider_ref IS NOT NULL;
CREATE INDEX IF NOT EXISTS jobs_user ON jobs (user_id);
CREATE INDEX IF NOT EXISTS jobs_at_provider ON jobs (provider) WHERE at_provider = 1;
CREATE INDEX IF NOT EXISTS jobs_finished ON jobs (finished_at, id)
    WHERE finished_at IS NOT NULL AND due_at IS NULL;
CREATE INDEX IF NOT EXISTS jobs_unfinished ON jobs (unfinished_team, created_at, id)
    WHERE unfinished_team IS NOT NULL;
CREATE INDEX IF NOT EXISTS rate_window ON rate (key, seconds, at);
CREATE INDEX IF NOT EXISTS pace_free ON pace (next_free);
"""

_AT_PROVIDER = frozenset(state.value for state in JobState if state.at_provider)
_TERMINAL = frozenset(state.value for state in JobState if state.terminal)


def _statements(script: str) -> list[str]:
    return [statement for statement in script.split(";") if statement.strip()]


def _derived(data: str) -> tuple[int, float | None]:
    """at_provider and finished_at from a row's JSON."""
    try:
        fields = json.loads(data)
    except ValueError:
        return 0, None
    if not isinstance(fields, dict):
        return 0, None
    state = fields.get("state")
    finished_at = fields.get("finished_at")
    if state not in _TERMINAL or not isinstance(finished_at, int | float):
        finished_at = None
    return int(state in _AT_PROVIDER), finished_at


def unfinished_team(team_id: str | None, state: object) -> str | None:
    """What the unfinished_team column holds: the job's team ("-" for none) while its state
    is not terminal, else NULL (the jobs_unfinished index leaves it out)."""
    return None if state in _TERMINAL else team_id or "-"


def _index_unfinished(conn: sqlite3.Connection) -> None:
    """Fill unfinished_team from each row's JSON (a file from before the column)."""
    rows: list[tuple[str, str]] = conn.execute("SELECT id, data FROM jobs").fetchall()
    updates: list[tuple[str | None, str]] = []
    for job_id, data in rows:
        try:
            fields = json.loads(data)
        except ValueError:
            continue
        if isinstance(fields, dict):
            team = fields.get("team_id")
            team = team if isinstance(team, str) else None
            updates.append((unfinished_team(team, fields.get("state")), job_id))
    conn.executemany("UPDATE jobs SET unfinished_team = ? WHERE id = ?", updates)


def create_or_upgrade(conn: sqlite3.Connection) -> None:
    """Make the schema current; the caller holds the write lock (BEGIN IMMEDIATE)."""
    for statement in _statements(_TABLES + SPEND_SCHEMA + CONFIG_SCHEMA + LINE_SCHEMA):
        conn.execute(statement)
    columns = {row[1] for row in conn.execute("PRAGMA table_info(jobs)")}
    added = [(name, kind) for name, kind in _ADDED_COLUMNS if name not in columns]
    for name, kind in added:
        conn.execute(f"ALTER TABLE jobs ADD COLUMN {name} {kind}")
    if _DERIVED.intersection(name for name, _ in added):
        rows: list[tuple[str, str]] = conn.execute("SELECT id, data FROM jobs").fetchall()
        conn.executemany(
            "UPDATE jobs SET at_provider = ?, finished_at = ? WHERE id = ?",
            [(*_derived(data), job_id) for job_id, data in rows],
        )
    if "unfinished_team" in (name for name, _ in added):
        _index_unfinished(conn)
    for statement in _statements(_INDEXES):
        conn.execute(statement)
