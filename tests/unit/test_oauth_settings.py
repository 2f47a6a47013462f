"""Many workspaces in the settings: what `reelbot run` needs, what stays secret, the scopes
asked for at install."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.settings import Settings, SettingsError, load_settings

REPO = Path(__file__).resolve().parents[2]
OAUTH = {
    "slack_client_id": "1111.2222",
    "slack_client_secret": "client-secret-zz9",
    "slack_signing_secret": "signing-secret",
}


def _settings(**values: Any) -> Settings:
    return load_settings(_env_file=None, slack_bot_token=None, **values)


def test_default_scopes_are_the_manifests_bot_scopes() -> None:
    manifest = yaml.safe_load((REPO / "manifest.yml").read_text(encoding="utf-8"))
    assert _settings(**OAUTH).scopes == manifest["oauth_config"]["scopes"]["bot"]


def test_client_id_and_secret_stand_in_for_the_bot_token() -> None:
    settings = _settings(**OAUTH)
    settings.require_slack()
    assert settings.oauth and settings.has_slack
    assert "client-secret-zz9" in settings.secrets()


@pytest.mark.parametrize(
    ("values", "named"),
    [
        ({"slack_client_id": "1111.2222", "slack_signing_secret": "s"}, "SLACK_CLIENT_SECRET"),
        ({"slack_client_secret": "x", "slack_signing_secret": "s"}, "SLACK_CLIENT_ID"),
        ({**OAUTH, "slack_bot_token": "xoxb-1"}, "SLACK_BOT_TOKEN"),
        ({k: v for k, v in OAUTH.items() if k != "slack_signing_secret"}, "SLACK_SIGNING_SECRET"),
    ],
)
def test_half_or_mixed_oauth_settings_name_the_variable(values: dict[str, str], named: str) -> None:
    overrides: dict[str, Any] = {"slack_bot_token": None, **values}
    settings = load_settings(_env_file=None, **overrides)
    with pytest.raises(SettingsError) as refused:
        settings.require_slack()
    assert str(refused.value).startswith(named)
    assert "zz9" not in str(refused.value)


def test_redirect_uri_is_the_public_url_with_bolts_path() -> None:
    assert _settings(**OAUTH).redirect_uri is None
    settings = _settings(**OAUTH, public_url="https://reelbot.example.com/")
    assert settings.redirect_uri == "https://reelbot.example.com/slack/oauth_redirect"


def test_scopes_can_be_set_and_bad_ones_are_refused() -> None:
    assert _settings(slack_scopes=" commands, chat:write ,").scopes == ["commands", "chat:write"]
    with pytest.raises(SettingsError, match=r"^SLACK_SCOPES"):
        _settings(slack_scopes=" , ")


def test_plain_reelbot_with_oauth_settings_serves_instead_of_the_demo(tmp_path: Path) -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "VIZARD_", "REELBOT_", "REDIS_", "POLL_", "PORT"))
    }
    env |= {
        "PYTHONPATH": str(REPO),
        "SLACK_CLIENT_ID": "1111.2222",
        "SLACK_CLIENT_SECRET": "client-secret-zz9",
        "SLACK_SIGNING_SECRET": "signing-secret",
        "SLACK_API_URL": "http://127.0.0.1:9/api/",
        "REELBOT_DB": str(tmp_path / "reelbot.db"),
        "PORT": "0",
    }
    bot = subprocess.Popen(
        [sys.executable, "-m", "bot"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    try:
        assert bot.stdout is not None
        deadline = time.monotonic() + 60
        seen: list[str] = []
        while time.monotonic() < deadline:
            line = bot.stdout.readline()
            if not line:
                break
            seen.append(line)
            if "listening on port" in line:
                break
        assert any("listening on port" in line for line in seen), "".join(seen)
    finally:
        bot.send_signal(signal.SIGTERM)
        rest, _ = bot.communicate(timeout=60)
    output = "".join(seen) + rest
    assert bot.returncode == 0, output
    assert "#general" not in output, "not the demo"
    assert "client-secret-zz9" not in output
