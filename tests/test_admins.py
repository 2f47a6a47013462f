"""The admin check against the Slack sandbox: one answer per workspace and person, kept a
minute; the quick check says "don't know" at once on a 429 and within its timeout when Slack is
slow, where the patient one waits out Retry-After."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest_asyncio
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot.admins import Admins
from bot.sandbox import SlackSandbox

ADA = "U0ADA"
TEAM_A, TEAM_B = "T0AAAAAAA", "T0BBBBBBB"


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


@pytest_asyncio.fixture
async def sandbox() -> AsyncIterator[SlackSandbox]:
    box = SlackSandbox()
    box.add_user(ADA, "ada", is_admin=True)
    await box.start()
    yield box
    await box.stop()


def _client(sandbox: SlackSandbox) -> AsyncWebClient:
    """As the app builds it: a 429 is waited out."""
    return AsyncWebClient(
        token=sandbox.bot_token,
        base_url=sandbox.api_url,
        retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=2)],
    )


def _asked(sandbox: SlackSandbox) -> int:
    return len(sandbox.calls_to("users.info"))


async def test_one_answer_per_workspace_and_person_is_kept_a_minute(sandbox: SlackSandbox) -> None:
    clock = Clock()
    admins, client = Admins(clock=clock), _client(sandbox)
    assert await admins.is_admin(client, TEAM_A, ADA) is True
    sandbox.add_user(ADA, "ada", is_admin=False)  # no longer an admin
    assert await admins.quick(client, TEAM_A, ADA) is True, "kept"
    assert _asked(sandbox) == 1
    # Enterprise Grid: the same user id in another workspace is asked about afresh.
    assert await admins.quick(client, TEAM_B, ADA) is False
    assert _asked(sandbox) == 2
    clock.now += 61
    assert await admins.is_admin(client, TEAM_A, ADA) is False
    assert await admins.quick(client, TEAM_A, "U0NOBODY") is False, "user_not_found"


async def test_quick_does_not_wait_out_a_429_and_the_patient_check_does(
    sandbox: SlackSandbox,
) -> None:
    admins, client = Admins(), _client(sandbox)
    sandbox.fail_next("users.info", status=429, retry_after=2)
    started = time.monotonic()
    assert await admins.quick(client, TEAM_A, ADA) is None
    assert time.monotonic() - started < 0.5 and _asked(sandbox) == 1, "one call, no retry"

    sandbox.fail_next("users.info", status=429, retry_after=1)
    started = time.monotonic()
    assert await admins.is_admin(client, TEAM_A, ADA) is True
    assert time.monotonic() - started >= 1.0


async def test_quick_gives_up_after_its_timeout_and_keeps_no_answer(
    sandbox: SlackSandbox,
) -> None:
    admins, client = Admins(quick_seconds=0.3), _client(sandbox)
    sandbox.on_call("users.info", lambda: asyncio.sleep(1.5))
    started = time.monotonic()
    assert await admins.quick(client, TEAM_A, ADA) is None
    assert time.monotonic() - started < 1.0
    sandbox.fail_next("users.info", status=500, error="internal_error", retry_after=None)
    assert await admins.quick(client, TEAM_A, ADA) is None, "Slack failing is not a 'no'"
    assert await admins.quick(client, TEAM_A, ADA) is True
