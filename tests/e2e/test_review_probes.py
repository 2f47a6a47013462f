"""Reviewer's probes for issue 16 (fresh-eyes review). Each test states a property the issue or
SLACK.md asks for; a failing one demonstrates a defect (see the review report)."""

from __future__ import annotations

import time

from tests.e2e.conftest import CHANNEL, Stack

ADMIN = "U0ADA"


async def _timed_reel(stack: Stack, text: str, user: str) -> tuple[float, str]:
    started = time.monotonic()
    answer = await stack.slack.slash_command("/reel", text, user_id=user, channel_id=CHANNEL)
    took = time.monotonic() - started
    assert answer.status_code == 200, f"Bolt answered {answer.status_code} after {took:.1f} s"
    return took, str(answer.json().get("text") or "")


async def test_probe_reel_spend_acks_within_3s_when_users_info_is_rate_limited(
    stack: Stack,
) -> None:
    """`/reel spend` asks users.info (is_admin) before it acks; a 429 with Retry-After 3 on
    users.info (Tier 4, easy to hit when many Homes open) makes the retry handler sleep, and
    the ack misses Slack's 3 s: the person sees "operation_timeout"."""
    stack.sandbox.add_user(ADMIN, "ada", is_admin=True)
    stack.sandbox.fail_next("users.info", status=429, retry_after=3)
    took, text = await _timed_reel(stack, "spend", ADMIN)
    assert "Spend" in text
    assert took < 3.0, f"/reel spend acked after {took:.1f} s"


async def test_probe_reel_settings_acks_within_3s_when_users_info_is_rate_limited(
    stack: Stack,
) -> None:
    stack.sandbox.add_user(ADMIN, "ada", is_admin=True)
    stack.sandbox.fail_next("users.info", status=429, retry_after=3)
    took, _ = await _timed_reel(stack, "settings", ADMIN)
    assert took < 3.0, f"/reel settings acked after {took:.1f} s"
