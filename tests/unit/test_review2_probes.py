"""Second review's probes: each fails while the defect it names is there."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio
from cryptography.fernet import Fernet

from bot.catalogs import Catalogs
from bot.directory import ProviderDirectory
from bot.registry import build_providers
from bot.settings import Settings, load_settings
from bot.store import SqliteJobStore
from bot.vault import Vault
from bot.workspace_keys import WorkspaceKeys

KEY = Fernet.generate_key().decode()


@pytest_asyncio.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteJobStore]:
    opened = SqliteJobStore(str(tmp_path / "jobs.sqlite3"))
    yield opened
    await opened.close()


def _settings() -> Settings:
    return load_settings(_env_file=None, heygen_api_key="env-heygen-key", reelbot_secret_key=KEY)


async def test_a_replaced_workspace_provider_still_caches_lists_apart_from_the_apps(
    store: SqliteJobStore,
) -> None:
    """A form that took workspace T1's Provider just before its admin changed the key still
    fetches lists with T1's old key; those lists must not be cached under the app's name,
    where every workspace on the app's key would be shown them."""
    settings = _settings()
    env = build_providers(settings, store)
    keys = WorkspaceKeys(store, Vault(KEY), settings.plugins)
    directory = ProviderDirectory(env, settings=settings, shared=store, keys=keys)
    catalogs = Catalogs(store, 60.0, scope=directory.scope)
    try:
        await keys.put("T1", "heygen", {"api_key": "ws-heygen-key-1"})
        old = (await directory.for_team("T1"))["heygen"]
        assert directory.scope(old) != ""
        # Another request of T1 (the admin saved a new key) replaces it.
        await keys.put("T1", "heygen", {"api_key": "ws-heygen-key-2"})
        assert (await directory.for_team("T1"))["heygen"] is not old
        spec = next(f for f in old.form.fields if f.type.name == "LOOKUP")
        values = {name: "x" for name in spec.depends_on}
        assert catalogs._key(old, spec, values) != catalogs._key(env["heygen"], spec, values), (
            "the old Provider's lists land in the app's cache key"
        )
    finally:
        await directory.aclose()
        for provider in env.values():
            await provider.aclose()
