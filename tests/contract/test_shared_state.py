"""The shared state every replica sees (providers.base.SharedState), on Redis and SQLite."""

from __future__ import annotations

import asyncio

from bot.store import JobStore, SqliteJobStore
from tests.contract.conftest import Connect
from tests.factories import make_job


async def test_a_value_put_is_read_by_another_replica_until_it_expires(connect: Connect) -> None:
    one, two = connect(), connect()
    assert await two.shared_get("token") is None
    await one.shared_put("token", "abc", ttl=0.5)
    assert await two.shared_get("token") == "abc"
    await asyncio.sleep(0.7)
    assert await two.shared_get("token") is None


async def test_put_replaces_the_value(store: JobStore) -> None:
    await store.shared_put("k", "first", ttl=30)
    await store.shared_put("k", "second", ttl=30)
    assert await store.shared_get("k") == "second"


async def test_put_new_takes_a_key_once_among_racing_replicas(connect: Connect) -> None:
    stores = [connect() for _ in range(6)]
    won = await asyncio.gather(
        *(s.shared_put_new("lock", f"owner-{n}", ttl=30) for n, s in enumerate(stores))
    )
    assert sorted(won) == [False] * 5 + [True]
    holder = await stores[0].shared_get("lock")
    assert holder == f"owner-{won.index(True)}"


async def test_put_new_takes_an_expired_key_again(store: JobStore) -> None:
    assert await store.shared_put_new("lock", "a", ttl=0.3)
    assert not await store.shared_put_new("lock", "b", ttl=0.3)
    await asyncio.sleep(0.5)
    assert await store.shared_put_new("lock", "b", ttl=30)
    assert await store.shared_get("lock") == "b"


async def test_delete_with_a_value_deletes_only_while_the_key_holds_it(store: JobStore) -> None:
    await store.shared_put("token", "new", ttl=30)
    assert not await store.shared_delete("token", value="old")
    assert await store.shared_get("token") == "new"
    assert await store.shared_delete("token", value="new")
    assert await store.shared_get("token") is None
    assert not await store.shared_delete("token")


async def test_keys_are_kept_apart_from_jobs_and_each_other(store: JobStore) -> None:
    await store.shared_put("a", "1", ttl=30)
    await store.shared_put("b", "2", ttl=30)
    assert (await store.shared_get("a"), await store.shared_get("b")) == ("1", "2")
    assert await store.recent_for_user("a") == []


async def test_lease_end_says_when_the_lease_ends_and_nothing_once_released(
    store: JobStore,
) -> None:
    added = await store.add(make_job(next_run_at=100.0))
    assert await store.lease_end(added.id) is None
    held = await store.claim(added.id, 100.0, 60, "owner")
    assert held is not None
    assert await store.lease_end(added.id) == 160.0
    assert await store.save(held, now=101.0, owner="owner", release=True) is not None
    assert await store.lease_end(added.id) is None
    assert await store.lease_end("no-such-job") is None


async def test_expired_shared_state_is_gone_after_a_purge(store: JobStore) -> None:
    await store.shared_put("old", "1", ttl=0.2)
    await store.shared_put("new", "2", ttl=60)
    await asyncio.sleep(0.4)
    # SQLite deletes the expired row; Redis has expired the key by itself.
    assert await store.purge_shared() == (1 if isinstance(store, SqliteJobStore) else 0)
    assert (await store.shared_get("old"), await store.shared_get("new")) == (None, "2")
