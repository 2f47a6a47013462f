"""manifest.yml keeps to the rules Slack's manifest schema enforces (see shared SLACK.md)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from bot.kinds import KINDS
from bot.listeners import reel
from bot.runtime import STOP_GRACE_SECONDS

MANIFEST = Path(__file__).resolve().parents[1] / "manifest.yml"


def _manifest() -> dict[str, Any]:
    data = yaml.safe_load(MANIFEST.read_text())
    assert isinstance(data, dict)
    return data


def test_display_information_fits_slack_limits() -> None:
    info = _manifest()["display_information"]
    assert set(info) <= {"name", "description", "long_description", "background_color"}
    assert 1 <= len(info["name"]) <= 35
    assert len(info["description"]) <= 140
    assert 175 <= len(info["long_description"]) <= 4000
    assert re.fullmatch(r"#[0-9a-fA-F]{6}", info["background_color"])


def test_every_command_the_app_answers_is_declared() -> None:
    commands = _manifest()["features"]["slash_commands"]
    wanted = [words.command for words in KINDS.values()] + [reel.COMMAND]
    assert [c["command"] for c in commands] == wanted
    for command in commands:
        assert re.fullmatch(r"/[a-z0-9_-]{1,31}", command["command"])
        assert command["description"] and len(command["description"]) <= 2000
        assert command["url"].startswith("https://")
        assert command["url"].endswith("/slack/events")
        assert isinstance(command["should_escape"], bool)


def test_scopes_cover_what_the_bot_calls_and_nothing_is_a_yaml_surprise() -> None:
    manifest = _manifest()
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert {"commands", "chat:write", "im:write", "files:write", "users:read"} <= scopes
    # Reading its own posts back (with their metadata) is how a post whose answer was lost
    # is found again instead of being posted twice.
    assert {"channels:history", "groups:history", "im:history", "mpim:history"} <= scopes
    # Posting where it is no member (chat:write.public) would leave posts it cannot read back;
    # it joins the public channel a request came from instead.
    assert "chat:write.public" not in scopes
    assert "channels:join" in scopes
    settings = manifest["settings"]
    assert settings["interactivity"]["is_enabled"] is True
    assert settings["interactivity"]["request_url"].endswith("/slack/events")
    for key in ("org_deploy_enabled", "socket_mode_enabled", "token_rotation_enabled"):
        assert isinstance(settings[key], bool)
    assert manifest["features"]["bot_user"]["display_name"]
    assert len(manifest["features"]["bot_user"]["display_name"]) <= 80


def test_compose_gives_the_bot_longer_to_stop_than_the_poller_drains() -> None:
    compose = yaml.safe_load((MANIFEST.parent / "docker-compose.yml").read_text())
    grace = str(compose["services"]["bot"]["stop_grace_period"])
    assert grace.endswith("s")
    assert float(grace[:-1]) > STOP_GRACE_SECONDS + 5


def test_every_message_shortcut_the_app_answers_is_declared() -> None:
    shortcuts = _manifest()["features"]["shortcuts"]
    wanted = [w.shortcut for w in KINDS.values() if w.shortcut is not None]
    assert [s["callback_id"] for s in shortcuts] == wanted
    for shortcut in shortcuts:
        assert 1 <= len(shortcut["name"]) <= 24
        assert shortcut["type"] in {"message", "global"}
        assert 1 <= len(shortcut["description"]) <= 150


def test_searchable_selects_have_an_options_url() -> None:
    # External selects (avatars, voices) ask this URL for their options in HTTP mode.
    interactivity = _manifest()["settings"]["interactivity"]
    assert interactivity["message_menu_options_url"].endswith("/slack/events")


def test_the_home_tab_is_on_and_its_event_subscribed() -> None:
    manifest = _manifest()
    home = manifest["features"]["app_home"]
    assert set(home) <= {
        "home_tab_enabled",
        "messages_tab_enabled",
        "messages_tab_read_only_enabled",
    }
    assert home["home_tab_enabled"] is True
    # Reelbot falls back to a DM where it cannot post: the Messages tab stays.
    assert home["messages_tab_enabled"] is True
    events = manifest["settings"]["event_subscriptions"]
    assert set(events) <= {"request_url", "bot_events", "user_events"}
    assert events["request_url"].endswith("/slack/events")
    assert "app_home_opened" in events["bot_events"]
    assert len(events["bot_events"]) == len(set(events["bot_events"]))


def test_many_workspaces_install_and_uninstall_are_declared() -> None:
    manifest = _manifest()
    assert manifest["oauth_config"]["redirect_urls"] == [
        "https://reelbot.example.com/slack/oauth_redirect"
    ]
    events = manifest["settings"]["event_subscriptions"]
    assert events["request_url"].endswith("/slack/events")
    assert {"app_uninstalled", "tokens_revoked"} <= set(events["bot_events"])
