"""The command line as an admin meets it: clear one-line errors, exit 2, a demo with no account."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.demo import run_demo

REPO = Path(__file__).resolve().parents[1]


def _run(args: list[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "VIZARD_", "REELBOT_", "REDIS_", "POLL_", "PORT"))
    }
    clean["PYTHONPATH"] = str(REPO)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=tmp_path,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
        check=False,
    )


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({}, "SLACK_BOT_TOKEN"),
        ({"SLACK_BOT_TOKEN": "xoxb-1-2-3"}, "SLACK_SIGNING_SECRET"),
        ({"SLACK_BOT_TOKEN": "not-a-bot-token-zz9"}, "SLACK_BOT_TOKEN"),
        ({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "bad-app-token-zz9"}, "SLACK_APP_TOKEN"),
        ({"PORT": "http"}, "PORT"),
        ({"POLL_TICK_SECONDS": "-5"}, "POLL_TICK_SECONDS"),
        ({"REDIS_URL": "mysql://db"}, "REDIS_URL"),
        ({"VIZARD_BASE_URL": "not-a-url-zz9"}, "VIZARD_BASE_URL"),
        ({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "  "}, "SLACK_SIGNING_SECRET"),
        (
            {
                "SLACK_BOT_TOKEN": "xoxb-1",
                "SLACK_SIGNING_SECRET": "s",
                "REDIS_URL": "redis://h:zz9",
            },
            "REDIS_URL",
        ),
        ({"VIZARD_API_KEY": "k\u00e9y-zz9"}, "VIZARD_API_KEY"),
        ({"SLACK_BOT_TOKEN": "xoxb-has space-zz9"}, "SLACK_BOT_TOKEN"),
        (
            {
                "SLACK_BOT_TOKEN": "xoxb-1",
                "SLACK_SIGNING_SECRET": "s",
                "REELBOT_DB": "/proc/no-such-dir/reelbot.db",
            },
            "REELBOT_DB",
        ),
    ],
)
def test_missing_or_invalid_setting_is_one_line_and_exit_2(
    tmp_path: Path, env: dict[str, str], named: str
) -> None:
    result = _run(["run"], tmp_path, **env)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"reelbot: {named}")
    assert "Traceback" not in result.stderr
    for value in env.values():
        if "zz9" in value:
            assert value not in result.stderr


def test_settings_come_from_a_dotenv_file(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("SLACK_BOT_TOKEN=xoxb-from-dotenv\n")
    result = _run(["run"], tmp_path)
    assert result.returncode == 2
    assert "SLACK_SIGNING_SECRET" in result.stderr


def test_check_names_what_it_cannot_reach_without_secrets(tmp_path: Path) -> None:
    # Nothing listens on port 9: Slack and Vizard cannot be asked (tests/e2e/test_check.py
    # runs the whole check against the sandbox and the simulators).
    result = _run(
        ["check"],
        tmp_path,
        SLACK_BOT_TOKEN="xoxb-secret-value-77",
        SLACK_SIGNING_SECRET="0123456789abcdef0123456789abcd77",
        SLACK_API_URL="http://127.0.0.1:9/api/",
        VIZARD_API_KEY="vz-key-77",
        VIZARD_BASE_URL="http://127.0.0.1:9/v1",
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    failed = [line.split("  ")[0] for line in result.stdout.splitlines() if "  FAIL  " in line]
    assert failed == ["Slack bot token", "Slack scopes", "Vizard key"], result.stdout
    assert "checks failed: Slack bot token, Slack scopes, Vizard key." in result.stdout
    for secret in ("xoxb-secret-value-77", "0123456789abcdef0123456789abcd77", "vz-key-77"):
        assert secret not in result.stdout + result.stderr


def test_plain_reelbot_without_slack_credentials_runs_the_demo(tmp_path: Path) -> None:
    result = _run([], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "#general" in result.stdout
    assert "Done: 3 clips in the thread" in result.stdout
    assert result.stdout.count("└") == 9, (
        "3 Vizard clips, 2 avatar videos, a description's preview and its file, 2 Cuttr clips"
    )
    assert "Only http:// and https:// links" in result.stdout
    assert "Queued → Submitted to Vizard → Vizard is making the clips → Done" in result.stdout
    # The demo shows every provider there is.
    assert "asked HeyGen for an avatar video" in result.stdout
    assert "asked AI Studios for an avatar video" in result.stdout
    assert "HeyGen is rendering the video (processing)" in result.stdout
    assert "AI Studios is rendering the video (" in result.stdout
    assert result.stdout.count("*Done: 1 video in the thread*") == 2
    assert "asked ViddyScribe for an audio description" in result.stdout
    assert "ViddyScribe is describing the video (processing)" in result.stdout
    assert "*The first descriptions*" in result.stdout
    assert "*Done: 1 file in the thread*" in result.stdout
    assert "[file: Audio description (WebVTT)]" in result.stdout
    assert "alice clicks Confirm (2 clips with Cuttr will cost $3.00" in result.stdout
    assert "asked Cuttr for clips" in result.stdout and "charged $3.00" in result.stdout


async def test_demo_can_run_on_redis_too(redis_url: str) -> None:
    out = io.StringIO()
    assert await run_demo(out, redis_url=redis_url) == 0
    assert "Done: 3 clips in the thread" in out.getvalue()
