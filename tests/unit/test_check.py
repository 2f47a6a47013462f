"""The parts of `reelbot check` that need no server: the manifest's scopes, where the store is
(never its password), and the table (never a secret)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.check import (
    ManifestProblem,
    Row,
    manifest_bot_scopes,
    manifest_places,
    render,
    run_checks,
    store_place,
)
from bot.settings import load_settings

REPO = Path(__file__).resolve().parents[2]
NO_PROVIDERS = dict.fromkeys(
    (
        "vizard_api_key",
        "cuttr_api_key",
        "heygen_api_key",
        "aistudios_app_id",
        "aistudios_user_key",
        "viddyscribe_api_key",
    )
)


def test_the_repositorys_manifest_is_found_and_its_bot_scopes_read() -> None:
    path, scopes = manifest_bot_scopes(manifest_places())
    assert path == REPO / "manifest.yml"
    wanted = yaml.safe_load((REPO / "manifest.yml").read_text())["oauth_config"]["scopes"]["bot"]
    assert scopes == set(wanted)
    assert {"chat:write", "commands", "files:read"} <= scopes


def test_the_first_manifest_that_exists_wins(tmp_path: Path) -> None:
    (tmp_path / "manifest.yml").write_text("oauth_config:\n  scopes:\n    bot: [commands]\n")
    path, scopes = manifest_bot_scopes(
        [tmp_path / "nowhere" / "manifest.yml", tmp_path / "manifest.yml"]
    )
    assert path == tmp_path / "manifest.yml"
    assert scopes == {"commands"}


@pytest.mark.parametrize(
    ("text", "named"),
    [
        (None, "not found"),
        ("oauth_config: [unclosed", "no readable oauth_config.scopes.bot"),
        ("display_information:\n  name: Reelbot\n", "no readable oauth_config.scopes.bot"),
        ("oauth_config:\n  scopes:\n    bot: commands\n", "no list under"),
    ],
)
def test_a_missing_or_broken_manifest_is_a_sentence(
    tmp_path: Path, text: str | None, named: str
) -> None:
    path = tmp_path / "manifest.yml"
    if text is not None:
        path.write_text(text)
    with pytest.raises(ManifestProblem) as problem:
        manifest_bot_scopes([path])
    assert named in str(problem.value)
    assert str(path) in str(problem.value)


@pytest.mark.parametrize(
    ("redis_url", "shown"),
    [
        ("redis://:pass-zz9@cache.internal:6380/3", "Redis at cache.internal:6380/3"),
        (
            "rediss://user:pass-zz9@cache.internal/0?ssl_cert_reqs=none",
            "Redis at cache.internal:6379/0",
        ),
        ("redis://cache.internal", "Redis at cache.internal:6379/0"),
        ("unix://:pass-zz9@/run/redis.sock?db=1", "Redis at /run/redis.sock"),
    ],
)
def test_the_store_is_named_without_its_password(redis_url: str, shown: str) -> None:
    settings = load_settings(redis_url=redis_url, _env_file=None)
    assert store_place(settings) == shown


def test_without_redis_the_store_is_the_sqlite_file() -> None:
    settings = load_settings(redis_url=None, reelbot_db="/data/reelbot.db", _env_file=None)
    assert store_place(settings) == "SQLite file /data/reelbot.db"


def test_the_table_names_each_failure_and_never_shows_a_secret() -> None:
    settings = load_settings(
        slack_bot_token="xoxb-secret-token-zz9",
        slack_signing_secret="0123456789abcdef0123456789abcdef",
        **(NO_PROVIDERS | {"vizard_api_key": "vizard-secret-zz9"}),
        _env_file=None,
    )
    rows = [
        Row("Slack bot token", True, "Team (T1) as @reelbot"),
        Row("Store", False, "SQLite file x.db does not answer"),
        # A detail that quotes a secret by mistake is still scrubbed.
        Row("Vizard key", False, "refused vizard-secret-zz9"),
    ]
    text = render(rows, settings)
    lines = text.splitlines()
    assert any(line.split()[:2] == ["Store", "FAIL"] for line in lines)
    assert any(line.split()[:3] == ["Slack", "bot", "token"] and "OK" in line for line in lines)
    assert "2 of 3 checks failed: Store, Vizard key." in text
    assert "vizard-secret-zz9" not in text and "[redacted]" in text
    assert "HeyGen (HEYGEN_API_KEY)" in text


async def test_a_signing_secret_not_shaped_like_slacks_fails_without_showing_it(
    tmp_path: Path,
) -> None:
    settings = load_settings(
        slack_bot_token="xoxb-1",
        slack_signing_secret="not-a-signing-secret-zz9",
        slack_api_url="http://127.0.0.1:9/api/",
        reelbot_db=str(tmp_path / "reelbot.db"),
        **NO_PROVIDERS,
        _env_file=None,
    )
    rows = {row.what: row for row in await run_checks(settings, seconds=5)}
    assert not rows["Slack signing secret"].ok
    assert "32 hexadecimal" in rows["Slack signing secret"].detail
    assert rows["Store"].ok  # the SQLite file opens
    assert not rows["Slack bot token"].ok  # nothing listens on port 9
    assert not rows["Providers"].ok  # none set up
    assert all("zz9" not in row.detail for row in rows.values())


def test_the_working_directory_is_searched_too_as_in_the_image(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The image installs the package into site-packages and copies manifest.yml to WORKDIR.
    monkeypatch.chdir(tmp_path)
    (tmp_path / "manifest.yml").write_text("oauth_config:\n  scopes:\n    bot: [chat:write]\n")
    places = manifest_places()
    assert places[-1] == tmp_path / "manifest.yml"
    assert manifest_bot_scopes([tmp_path / "site-packages" / "manifest.yml", *places[1:]])[1] == {
        "chat:write"
    }
