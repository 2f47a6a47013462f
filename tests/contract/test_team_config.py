"""Per-workspace settings in both stores (tests/contract/conftest.py runs each test on Redis
and on SQLite): kept per team, replaced in place, dropped whole on uninstall, and lasting
across a reopen of the store."""

from __future__ import annotations

from bot.store import JobStore
from tests.contract.conftest import Connect


async def test_settings_are_kept_per_team(store: JobStore) -> None:
    assert await store.config_get("T1", "preset:C1") is None
    await store.config_put("T1", "preset:C1", '{"clips": {"provider": "vizard"}}')
    await store.config_put("T1", "provider_keys:vizard", "gAAAA-token")
    await store.config_put("T2", "preset:C1", "other")
    assert await store.config_get("T1", "preset:C1") == '{"clips": {"provider": "vizard"}}'
    assert await store.config_get("T2", "preset:C1") == "other"
    assert await store.config_all("T1") == {
        "preset:C1": '{"clips": {"provider": "vizard"}}',
        "provider_keys:vizard": "gAAAA-token",
    }
    assert await store.config_all("T3") == {}


async def test_many_reads_only_the_keys_asked_for_that_are_set(store: JobStore) -> None:
    await store.config_put("T1", "preset:C1:clips", "c")
    await store.config_put("T1", "preset:C1:avatar", "a")
    await store.config_put("T1", "preset:C2:clips", "other channel")
    await store.config_put("T2", "preset:C1:describe", "other team")
    asked = ["preset:C1:clips", "preset:C1:avatar", "preset:C1:describe"]
    assert await store.config_many("T1", asked) == {
        "preset:C1:clips": "c",
        "preset:C1:avatar": "a",
    }
    assert await store.config_many("T3", asked) == {}
    assert await store.config_many("T1", []) == {}


async def test_a_put_replaces_and_a_delete_says_whether_it_was_there(store: JobStore) -> None:
    await store.config_put("T1", "k", "one")
    await store.config_put("T1", "k", "two")
    assert await store.config_get("T1", "k") == "two"
    assert await store.config_delete("T1", "k") is True
    assert await store.config_delete("T1", "k") is False
    assert await store.config_get("T1", "k") is None


async def test_drop_removes_one_team_whole(store: JobStore) -> None:
    for key in ("a", "b", "c"):
        await store.config_put("T1", key, key.upper())
    await store.config_put("T2", "a", "kept")
    assert await store.config_drop("T1") == 3
    assert await store.config_all("T1") == {}
    assert await store.config_drop("T1") == 0
    assert await store.config_all("T2") == {"a": "kept"}


async def test_settings_outlive_the_connection(connect: Connect) -> None:
    first = connect()
    await first.config_put("T1", "preset:C9", "\u00e9t\u00e9 \U0001f3ac")
    await first.close()
    again = connect()
    assert await again.config_get("T1", "preset:C9") == "\u00e9t\u00e9 \U0001f3ac"
    await again.close()
