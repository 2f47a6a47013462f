from __future__ import annotations

import asyncio
import io
import json
import logging

import pytest

from bot.jobs import JobState
from bot.logs import REDACTED, RedactingFormatter, about, configure_logging
from bot.settings import SettingsError, load_settings
from providers.vizard import VizardSettings
from tests.factories import make_job


def test_defaults_need_no_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SLACK_BOT_TOKEN", "REDIS_URL", "VIZARD_API_KEY", "PORT"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings(_env_file=None)
    assert settings.port == 3000
    assert settings.redis_url is None
    assert str(settings.slack_api_url) == "https://slack.com/api/"
    assert not settings.has_slack


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PORT", "seventy"),
        ("POLL_TICK_SECONDS", "-3"),
        ("SLACK_API_URL", "not a url"),
        ("REDIS_URL", "http://cache:6379"),
        ("LOG_LEVEL", "LOUD"),
        ("VIZARD_BASE_URL", "ftp://x"),
        ("VIZARD_PER_MINUTE", "0"),
        ("POLL_CONCURRENCY", "0"),
        ("JOB_RETENTION_DAYS", "-1"),
    ],
)
def test_a_bad_setting_is_named_and_its_value_not_echoed(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as caught:
        load_settings(_env_file=None)
    assert str(caught.value).startswith(name)
    assert value not in str(caught.value)


def test_provider_settings_come_from_their_own_group(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIZARD_API_KEY", "vz-from-env-1234")
    monkeypatch.setenv("VIZARD_PER_MINUTE", "7")
    settings = load_settings(_env_file=None, vizard_per_hour=9)
    group = settings.group("vizard")
    assert isinstance(group, VizardSettings) and group.configured
    assert (group.per_minute, group.per_hour) == (7, 9)
    assert "vz-from-env-1234" in settings.secrets()
    monkeypatch.setenv("VIZARD_API_KEY", "  ")
    assert not load_settings(_env_file=None).group("vizard").configured, "blank is unset"


def test_a_default_provider_must_be_one_this_build_knows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLIP_DEFAULT_PROVIDER", "nope")
    with pytest.raises(SettingsError, match=r"^CLIP_DEFAULT_PROVIDER is invalid: must be one of"):
        load_settings(_env_file=None)


def test_run_needs_a_bot_token_and_a_signing_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(SettingsError, match="SLACK_BOT_TOKEN"):
        load_settings(_env_file=None).require_slack()
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1-2-3")
    with pytest.raises(SettingsError, match="SLACK_SIGNING_SECRET"):
        load_settings(_env_file=None).require_slack()
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-1-2")
    load_settings(_env_file=None).require_slack()


def test_redactor_removes_configured_secrets_and_token_shapes_from_tracebacks() -> None:
    stream = io.StringIO()
    configure_logging("DEBUG", ["sekrit-vizard-key-123"], stream)
    log = logging.getLogger("test.redaction")
    try:
        raise ValueError("key sekrit-vizard-key-123 and token xoxb-999-888-abc refused")
    except ValueError:
        log.exception("boom with %s", "sekrit-vizard-key-123")
    text = stream.getvalue()
    assert "sekrit-vizard-key-123" not in text
    assert "xoxb-999" not in text
    assert text.count(REDACTED) >= 3


def test_short_values_are_not_treated_as_secrets() -> None:
    assert RedactingFormatter(["ab"]).redact("about ab") == "about ab"


def test_json_logs_are_one_object_a_line_with_the_job_and_no_secret() -> None:
    stream = io.StringIO()
    configure_logging("INFO", ["sekrit-cuttr-key-456"], stream, fmt="json")
    log = logging.getLogger("reelbot.test.json")
    log.info("no job yet")

    async def turn() -> None:
        about(make_job(provider="cuttr", team_id="T9", state=JobState.QUEUED))
        log.info("sent with key sekrit-cuttr-key-456 and xoxb-1-2-abc")
        try:
            raise ValueError("boom sekrit-cuttr-key-456")
        except ValueError:
            log.exception("step failed")

    asyncio.run(turn())
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert lines[0]["message"] == "no job yet" and "job" not in lines[0]
    sent, failed = lines[1], lines[2]
    assert (sent["provider"], sent["team"], sent["state"]) == ("cuttr", "T9", "queued")
    assert len(sent["job"]) == 32 and sent["level"] == "INFO" and sent["time"].endswith("Z")
    assert "sekrit" not in stream.getvalue() and "xoxb-1-2-abc" not in stream.getvalue()
    assert "ValueError" in failed["error"] and failed["job"] == sent["job"]
    logging.getLogger().handlers.clear()
