"""The sealing of workspace provider keys, REELBOT_SECRET_KEY, what the keys modal reads from a
submission, and which Provider acts for a workspace (with keys it can or cannot read)."""

from __future__ import annotations

import io
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from cryptography.fernet import Fernet

from bot.catalogs import Catalogs
from bot.directory import ProviderDirectory
from bot.key_modal import KeyState, keys_modal, read_submission
from bot.logs import RedactingFormatter
from bot.registry import PLUGINS, build_providers
from bot.settings import Settings, SettingsError, load_settings
from bot.store import SqliteJobStore
from bot.vault import Vault
from bot.workspace_keys import WorkspaceKeys, credentials

KEY_1 = Fernet.generate_key().decode()
KEY_2 = Fernet.generate_key().decode()
PLUGIN = {p.name: p for p in PLUGINS}


def test_a_sealed_value_opens_with_its_key_only() -> None:
    fields = {"api_key": "vz-secret-123"}
    token = Vault(KEY_1).seal(fields)
    assert "vz-secret-123" not in token
    assert Vault(KEY_1).seal(fields) != token, "a fresh token each time"
    assert Vault(KEY_1).open(token) == fields
    assert Vault(KEY_2).open(token) is None, "another secret key cannot read it"
    assert Vault(KEY_1).open("not a token") is None
    assert Vault(KEY_1).open(token[:-4] + "AAAA") is None, "a changed token is refused"


@pytest.mark.parametrize("value", ["short", "x" * 44, KEY_1[:-2], KEY_1 + "A"])
def test_a_bad_secret_key_stops_startup_naming_the_variable_only(value: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(_env_file=None, reelbot_secret_key=value)
    message = str(caught.value)
    assert message.startswith("REELBOT_SECRET_KEY is invalid: must be a Fernet key")
    assert value not in message and "\n" not in message


def test_the_secret_key_is_optional_and_redacted() -> None:
    assert load_settings(_env_file=None, reelbot_secret_key=" ").reelbot_secret_key is None
    settings = load_settings(_env_file=None, reelbot_secret_key=KEY_1)
    assert KEY_1 in settings.secrets()
    assert KEY_1 not in repr(settings)


def test_key_fields_are_the_ones_an_admin_sets_to_offer_a_provider() -> None:
    labels = {name: [c.label for c in credentials(p)] for name, p in PLUGIN.items()}
    assert labels == {
        "vizard": ["Vizard API key"],
        "cuttr": ["Cuttr API key"],
        "heygen": ["HeyGen API key"],  # not the webhook secret: webhooks are the app's
        "aistudios": ["AI Studios app ID", "AI Studios user key"],
        "viddyscribe": ["ViddyScribe API key"],
    }


def _typed(provider: str, field: str, value: str) -> dict[str, Any]:
    return {f"key:{provider}:{field}": {"value": {"type": "plain_text_input", "value": value}}}


def _remove(provider: str) -> dict[str, Any]:
    picked = {"type": "checkboxes", "selected_options": [{"value": "remove"}]}
    return {f"remove:{provider}": {"value": picked}}


def test_a_submission_sets_removes_keeps_and_refuses() -> None:
    plugins = list(PLUGINS)
    blank = read_submission(plugins, _typed("vizard", "api_key", "  "), {})
    assert (blank.typed, blank.remove, blank.errors) == ({}, [], {})
    typed = read_submission(plugins, _typed("vizard", "api_key", " vz-1 "), {})
    assert typed.typed == {"vizard": {"api_key": "vz-1"}}
    spaced = read_submission(plugins, _typed("cuttr", "api_key", "cuttr_ a"), {})
    assert "no spaces" in spaced.errors["key:cuttr:api_key"]
    both = read_submission(plugins, _typed("vizard", "api_key", "vz") | _remove("vizard"), {})
    assert "Either remove" in both.errors["remove:vizard"]
    assert read_submission(plugins, _remove("heygen"), {}).remove == ["heygen"]
    # AI Studios needs both fields; a blank one keeps what the workspace has.
    half = read_submission(plugins, _typed("aistudios", "user_key", "uk-2"), {})
    assert "needs this too" in half.errors["key:aistudios:app_id"]
    kept = read_submission(
        plugins,
        _typed("aistudios", "user_key", "uk-2"),
        {"aistudios": {"app_id": "app-1", "user_key": "uk-1"}},
    )
    assert kept.typed == {"aistudios": {"app_id": "app-1", "user_key": "uk-2"}}


def test_the_modal_says_whether_a_key_is_set_never_what_it_is() -> None:
    states = {"vizard": KeyState.OWN, "cuttr": KeyState.APP, "heygen": KeyState.UNREADABLE}
    view = keys_modal(list(PLUGINS), states)
    shown = str(view)
    assert "*Vizard*: set for this workspace" in shown and "*Cuttr*: using the app's key" in shown
    assert "*AI Studios*: not set" in shown
    removable = {b["block_id"] for b in view["blocks"] if b.get("block_id", "").startswith("re")}
    assert removable == {"remove:vizard", "remove:heygen"}
    inputs = [b for b in view["blocks"] if b["type"] == "input" and "key:" in b["block_id"]]
    assert all("initial_value" not in b["element"] for b in inputs)
    assert len(view["blocks"]) <= 100


@pytest_asyncio.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteJobStore]:
    opened = SqliteJobStore(str(tmp_path / "jobs.sqlite3"))
    yield opened
    await opened.close()


def _settings() -> Settings:
    return load_settings(_env_file=None, vizard_api_key="env-vizard-key", reelbot_secret_key=KEY_1)


async def test_a_workspace_gets_its_own_provider_and_others_the_apps(
    store: SqliteJobStore,
) -> None:
    settings = _settings()
    env = build_providers(settings, store)
    keys = WorkspaceKeys(store, Vault(KEY_1), settings.plugins)
    directory = ProviderDirectory(env, settings=settings, shared=store, keys=keys)
    try:
        await keys.put("T1", "vizard", {"api_key": "ws-vizard-key"})
        await keys.put("T1", "heygen", {"api_key": "ws-heygen-key"})
        mine = await directory.for_team("T1")
        assert list(mine) == ["vizard", "heygen"], "the registry's order"
        assert mine["vizard"] is not env["vizard"]
        assert (await directory.for_team("T1"))["vizard"] is mine["vizard"], "kept"
        assert directory.scope(mine["vizard"]) and directory.scope(env["vizard"]) == ""
        assert await directory.for_team("T2") == env
        assert await directory.for_team(None) == env
        await keys.put("T1", "vizard", {"api_key": "ws-vizard-key-2"})
        assert (await directory.for_team("T1"))["vizard"] is not mine["vizard"], "replaced"
        assert await keys.remove("T1", "vizard") and await keys.remove("T1", "heygen")
        assert await directory.for_team("T1") == env
    finally:
        await directory.aclose()
        for provider in env.values():
            await provider.aclose()


async def test_a_workspace_key_is_its_own_account_and_the_same_key_one_account(
    store: SqliteJobStore,
) -> None:
    settings = _settings()
    env = build_providers(settings, store)
    keys = WorkspaceKeys(store, Vault(KEY_1), settings.plugins)
    directory = ProviderDirectory(env, settings=settings, shared=store, keys=keys)
    try:
        for team, key in (("T1", "ws-key-1"), ("T2", "ws-key-1"), ("T3", "ws-key-3")):
            await keys.put(team, "vizard", {"api_key": key})
        one, same, other = [
            directory.account((await directory.for_team(team))["vizard"])
            for team in ("T1", "T2", "T3")
        ]
        assert directory.account(env["vizard"]) == "vizard", "the app's key: as before"
        assert one.startswith("vizard:") and one == same and other not in (one, "vizard")
        assert "ws-key" not in one + other
        await keys.put("T4", "vizard", {"api_key": "env-vizard-key"})
        apps_own = (await directory.for_team("T4"))["vizard"]
        assert directory.account(apps_own) == "vizard", "the app's own key: the app's account"
        assert directory.scope(apps_own) == ""
    finally:
        await directory.aclose()
        for provider in env.values():
            await provider.aclose()


async def test_keys_sealed_under_another_secret_key_are_not_replaced_by_the_apps(
    store: SqliteJobStore, caplog: pytest.LogCaptureFixture
) -> None:
    settings = _settings()
    env = build_providers(settings, store)
    await WorkspaceKeys(store, Vault(KEY_2), settings.plugins).put(
        "T1", "vizard", {"api_key": "ws-vizard-key"}
    )
    keys = WorkspaceKeys(store, Vault(KEY_1), settings.plugins)
    directory = ProviderDirectory(env, settings=settings, shared=store, keys=keys)
    caplog.set_level(logging.INFO)
    try:
        # Not the app's key instead: the workspace meant its own account to pay.
        without = {n: p for n, p in env.items() if n != "vizard"}
        assert await directory.for_team("T1") == without
        assert await directory.for_team("T1") == without
        assert await directory.for_team("T2") == env
    finally:
        await directory.aclose()
        for provider in env.values():
            await provider.aclose()
    lines = [r.getMessage() for r in caplog.records if "cannot be read" in r.getMessage()]
    assert lines == [
        "workspace T1: its own Vizard key cannot be read with this REELBOT_SECRET_KEY; "
        "not offered there until an admin sets it again"
    ]


async def test_a_workspace_key_read_is_redacted_from_every_log_line(
    store: SqliteJobStore,
) -> None:
    settings = _settings()
    keys = WorkspaceKeys(store, Vault(KEY_1), settings.plugins)
    await keys.put("T9", "cuttr", {"api_key": "cuttr_ws_only_7731"})
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(RedactingFormatter(settings.secrets()))
    logger = logging.getLogger("test.redaction")
    logger.addHandler(handler)
    try:
        logger.warning("sent %s", "cuttr_ws_only_7731")
    finally:
        logger.removeHandler(handler)
    assert "cuttr_ws_only_7731" not in out.getvalue() and "[redacted]" in out.getvalue()


async def test_a_replaced_workspace_provider_still_caches_lists_apart_from_the_apps(
    store: SqliteJobStore,
) -> None:
    """A form that took workspace T1's Provider just before its admin changed the key still
    fetches lists with T1's old key; those lists must not be cached under the app's name,
    where every workspace on the app's key would be shown them."""
    settings = _heygen_settings()
    env = build_providers(settings, store)
    keys = WorkspaceKeys(store, Vault(KEY_1), settings.plugins)
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


def _heygen_settings() -> Settings:
    return load_settings(_env_file=None, heygen_api_key="env-heygen-key", reelbot_secret_key=KEY_1)
