"""Reviewer's probe: a workspace with its own Vizard key has its own Vizard account, with its
own rate window, yet Reelbot's line and rate slots are kept per provider name
(bot/queue_gate.py take_slot_in_line(name, ..., f"submit:{name}")), shared by every workspace
and account. Workspace A (own key) waits behind workspace B's jobs on the app's key, and is
told "Vizard accepts 3 new requests a minute ... for this workspace", which is not so."""

from __future__ import annotations

import asyncio

from cryptography.fernet import Fernet

from bot.jobs import JobState
from bot.sandbox import SlackRequests
from tests.e2e.conftest import CHANNEL, Stack, StackFactory
from tests.e2e.test_workspace_keys import (  # noqa: F401 - the fixture
    ADMIN_A,
    KEY_A,
    KEY_FIELD,
    MEMBER_A,
    MEMBER_B,
    TEAM_A,
    TEAM_B,
    Workspaces,
    _create_keys,
    _open_keys_modal,
    _people,
    _typed,
    workspace,
)


async def _sent_or_waiting(stack: Stack, user: str, source: str) -> None:
    async def shown() -> bool:
        jobs = [j for j in await stack.jobs(user) if j.source == source]
        if not jobs or jobs[0].root_ts is None:
            return False
        if jobs[0].state is not JobState.QUEUED:
            return True
        return "in line" in stack.sandbox.message(CHANNEL, jobs[0].root_ts).text

    await stack.wait_for(shown)


async def _clip(stack: Stack, slack: SlackRequests, user: str, video: str) -> str:
    source = f"https://videos.example.com/{video}.mp4"
    answer = await slack.slash_command("/clip", source, user_id=user, channel_id=CHANNEL)
    assert answer.status_code == 200, answer.text
    await _sent_or_waiting(stack, user, source)
    return source


async def test_probe_a_workspace_with_its_own_key_does_not_wait_for_other_accounts(
    make_stack: StackFactory,
    workspace: Workspaces,  # noqa: F811
) -> None:
    stack = await make_stack(reelbot_secret_key=Fernet.generate_key().decode())
    _people(stack)
    stack.vizard.api_keys.add(KEY_A)
    a, b = workspace(stack, TEAM_A), workspace(stack, TEAM_B)
    modal = await _open_keys_modal(a, ADMIN_A)
    saved = await a.view_submission(modal, _typed(KEY_FIELD, KEY_A), user_id=ADMIN_A)
    assert saved.status_code == 200 and not saved.text

    for n in range(3):  # B fills the app account's 3-a-minute window
        await _clip(stack, b, MEMBER_B, f"bravo-{n}")
    assert len(stack.vizard.creates) == 3

    source = await _clip(stack, a, MEMBER_A, "alpha")
    [job] = [j for j in await stack.jobs(MEMBER_A) if j.source == source]
    shown = stack.sandbox.message(CHANNEL, str(job.root_ts)).text
    assert "in line" not in shown, shown
    assert _create_keys(stack, "alpha") == [KEY_A]


async def test_probe_keys_form_acks_in_time_when_users_info_is_rate_limited(
    make_stack: StackFactory,
    workspace: Workspaces,  # noqa: F811
) -> None:
    """The keys form's submission asks users.info, reads the store and tries the key (up to
    1.5 s) before its ack; users.info answering 429 with Retry-After 2 pushes the ack past
    Slack's 3 s (Vizard answering the trial in 1.2 s, within its own budget). The admin
    then sees Slack's error while the key was saved all the same."""
    import time

    stack = await make_stack(reelbot_secret_key=Fernet.generate_key().decode())
    _people(stack)
    stack.vizard.api_keys.add(KEY_A)
    a = workspace(stack, TEAM_A)
    modal = await _open_keys_modal(a, ADMIN_A)
    stack.sandbox.fail_next("users.info", status=429, retry_after=2)
    stack.vizard.inject("query", "timeout", delay=1.2)  # the trial answers within its 1.5 s
    started = time.monotonic()
    saved = await a.view_submission(modal, _typed(KEY_FIELD, KEY_A), user_id=ADMIN_A)
    took = time.monotonic() - started
    dm = stack.sandbox.dm_channel(ADMIN_A)
    await asyncio.sleep(1.0)
    saved_anyway = any("own key" in m.text for m in stack.sandbox.messages(dm))
    assert saved.status_code == 200 and took < 3.0, (
        f"HTTP {saved.status_code} after {took:.1f} s; key saved anyway: {saved_anyway}"
    )
