"""A SQLite file written by an earlier Reelbot keeps working after an upgrade."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bot.store.sqlite import SqliteJobStore
from tests.factories import make_job


async def test_a_file_without_lease_tracking_is_upgraded_in_place(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    old = make_job(next_run_at=100.0)
    with sqlite3.connect(path) as conn:
        conn.execute(
            "CREATE TABLE jobs (id TEXT PRIMARY KEY, data TEXT NOT NULL, version INTEGER NOT NULL,"
            " due_at REAL NULL, provider TEXT NOT NULL, provider_ref TEXT NULL,"
            " user_id TEXT NOT NULL, created_at REAL NOT NULL)"
        )
        conn.execute(
            "INSERT INTO jobs VALUES (?, ?, 1, 100.0, 'vizard', NULL, 'U1', 1.0)",
            (old.id, old.model_dump_json()),
        )
    store = SqliteJobStore(str(path))
    try:
        [claimed] = await store.claim_due(200.0, 10, 120.0)
        assert claimed.id == old.id
        assert await store.make_due(old.id, 201.0) is True
        assert await store.claim(old.id, 201.0, 120.0) is None, "the lease holds"
    finally:
        await store.close()
