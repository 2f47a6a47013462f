"""Workspace provider keys over HTTP: an admin of workspace A sets A's own Vizard key in the
keys modal (App Home's button: signed block_actions, then view_submission); A's jobs reach
the Vizard simulator with A's key, B's with the app's, and A's key is never on B's requests,
in Redis, in a log line or in anything sent to Slack."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
import pytest_asyncio
import redis.asyncio
from cryptography.fernet import Fernet

from bot import ids
from bot.jobs import Job, JobState
from bot.sandbox import SlackRequests
from providers.vizard.api import API_KEY_HEADER
from tests.e2e import test_oauth as oauth
from tests.e2e.conftest import ALICE, CHANNEL, Stack, StackFactory

TEAM_A, TEAM_B = "T0AAAAAAA", "T0BBBBBBB"
ADMIN_A, MEMBER_A, MEMBER_B = "U0ADA", "U0AMY", "U0BEN"
KEY_A = "vz-workspace-a-0f9c27d4e1"
KEY_FIELD = "key:vizard:api_key"


Workspaces = Callable[[Stack, str], SlackRequests]


@pytest_asyncio.fixture
async def workspace() -> AsyncIterator[Workspaces]:
    """Signed Slack requests from a given workspace (team id) of a stack."""
    made: list[SlackRequests] = []

    def make(stack: Stack, team: str) -> SlackRequests:
        slack = SlackRequests(
            stack.slack.events_url, stack.signing_secret, stack.sandbox, team_id=team
        )
        made.append(slack)
        return slack

    yield make
    for slack in made:
        await slack.aclose()


def _people(stack: Stack) -> None:
    stack.sandbox.add_user(ADMIN_A, "ada", is_admin=True)
    stack.sandbox.add_user(MEMBER_A, "amy")
    stack.sandbox.add_user(MEMBER_B, "ben")


async def _open_keys_modal(slack: SlackRequests, user: str) -> dict[str, Any]:
    """The person opens App Home and clicks its Provider keys button (an admin's Home has it;
    anyone else's click is sent as Slack would send it anyway)."""
    await slack.app_home_opened(user)
    for _ in range(100):
        if user in slack.sandbox.home_views:
            break
        await asyncio.sleep(0.05)
    shown = json.dumps(slack.sandbox.home_views[user]["blocks"])
    is_admin = slack.sandbox.users[user].is_admin
    assert ("reel_provider_keys" in shown) == is_admin
    opened = len(slack.sandbox.views_opened)
    answer = await slack.home_action("reel_provider_keys", "home", user_id=user)
    assert answer.status_code == 200
    for _ in range(100):
        if len(slack.sandbox.views_opened) > opened:
            return slack.sandbox.views_opened[-1]
        await asyncio.sleep(0.05)
    raise AssertionError("no modal opened")


def _texts(view: dict[str, Any]) -> str:
    return json.dumps(view["blocks"])


def _typed(block: str, value: str) -> dict[str, dict[str, Any]]:
    return {block: {"value": {"type": "plain_text_input", "value": value}}}


def _removed(provider: str) -> dict[str, dict[str, Any]]:
    return {
        f"remove:{provider}": {
            "value": {"type": "checkboxes", "selected_options": [{"value": "remove"}]}
        }
    }


async def _clip(stack: Stack, slack: SlackRequests, user: str, video: str) -> Job:
    answer = await slack.slash_command(
        "/clip", f"https://videos.example.com/{video}.mp4", user_id=user, channel_id=CHANNEL
    )
    assert answer.status_code == 200, answer.text
    [job, *_] = await stack.wait_until_settled(user)
    assert job.source.endswith(f"{video}.mp4")
    return job


def _poll_keys(stack: Stack, job: Job) -> set[str | None]:
    """The Vizard key on every poll of a job's project, as the simulator received it."""
    polls = [s for s in stack.vizard.seen if s.path.endswith(f"/project/query/{job.provider_ref}")]
    assert polls
    return {s.header(API_KEY_HEADER) for s in polls}


def _create_keys(stack: Stack, video: str) -> list[str | None]:
    """The key on each create sent for this video, as the simulator received it."""
    return [
        s.header(API_KEY_HEADER)
        for s in stack.vizard.seen
        if s.path.endswith("/project/create") and f"/{video}.mp4".encode() in s.body
    ]


async def test_workspace_a_key_is_used_for_a_only_and_never_seen_elsewhere(
    make_stack: StackFactory,
    workspace: Workspaces,
    redis_url: str,
    redis_prefix: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    secret_key = Fernet.generate_key().decode()
    stack = await make_stack(reelbot_secret_key=secret_key)
    _people(stack)
    stack.vizard.api_keys.add(KEY_A)
    a, b = workspace(stack, TEAM_A), workspace(stack, TEAM_B)
    env_key = stack.vizard.api_key

    modal = await _open_keys_modal(a, ADMIN_A)
    shown = _texts(modal)
    assert "*Vizard*: using the app's key" in shown
    for label in ("Vizard API key", "AI Studios app ID", "AI Studios user key"):
        assert label in shown
    bad = await a.view_submission(modal, _typed(KEY_FIELD, "has a space"), user_id=ADMIN_A)
    assert bad.json()["response_action"] == "errors"
    assert "printable ASCII with no spaces" in bad.json()["errors"][KEY_FIELD]

    saved = await a.view_submission(modal, _typed(KEY_FIELD, KEY_A), user_id=ADMIN_A)
    assert saved.status_code == 200 and not saved.text, "the modal closes"
    dm = stack.sandbox.dm_channel(ADMIN_A)

    def confirmed() -> bool:
        return any("Vizard: this workspace's own key" in m.text for m in stack.sandbox.messages(dm))

    await stack.wait_for(confirmed)

    # Stored sealed: Redis holds a Fernet token of it, never the key itself.
    raw = redis.asyncio.Redis.from_url(redis_url)
    try:
        stored = await raw.hgetall(f"{redis_prefix}config:{TEAM_A}")
    finally:
        await raw.aclose()
    [(field, token)] = stored.items()
    assert field == b"provider_keys:vizard"
    assert KEY_A.encode() not in token
    assert json.loads(Fernet(secret_key.encode()).decrypt(token)) == {"api_key": KEY_A}

    job_a = await _clip(stack, a, MEMBER_A, "alpha")
    job_b = await _clip(stack, b, MEMBER_B, "bravo")
    assert job_a.state is JobState.DONE and job_a.team_id == TEAM_A
    assert job_b.state is JobState.DONE and job_b.team_id == TEAM_B
    assert _create_keys(stack, "alpha") == [KEY_A]
    assert _create_keys(stack, "bravo") == [env_key]
    assert _poll_keys(stack, job_b) == {env_key}, "A's key never on B's job"

    # A Fresh link in A asks Vizard again with A's key (another account sees no project).
    root = next(r for r in stack.sandbox.roots(CHANNEL) if "alpha" in r.text)
    first = stack.sandbox.thread(CHANNEL, root.ts)[0]
    polls_before = len(stack.vizard.seen)
    await a.block_action(
        ids.FRESH_LINK_ACTION, f"{job_a.id}:0", user_id=MEMBER_A, channel_id=CHANNEL,
        message_ts=first.ts,
    )  # fmt: skip
    await stack.wait_for(lambda: any(e.user == MEMBER_A for e in stack.sandbox.ephemerals))
    [fresh] = [e for e in stack.sandbox.ephemerals if e.user == MEMBER_A]
    assert "fresh link" in fresh.text.lower()
    assert len(stack.vizard.seen) > polls_before
    assert _poll_keys(stack, job_a) == {KEY_A}

    # The modal shows that the workspace has its own key, never the key.
    modal = await _open_keys_modal(a, ADMIN_A)
    assert "*Vizard*: set for this workspace" in _texts(modal)
    assert KEY_A not in _texts(modal) and KEY_A[-4:] not in _texts(modal)
    removed = await a.view_submission(modal, _removed("vizard"), user_id=ADMIN_A)
    assert removed.status_code == 200 and not removed.text
    job_a2 = await _clip(stack, a, MEMBER_A, "charlie")
    assert job_a2.state is JobState.DONE
    assert _create_keys(stack, "charlie") == [env_key], "removed: back to the app's key"

    everything_sent = json.dumps([c.params for c in stack.sandbox.calls], default=str)
    assert KEY_A not in everything_sent
    assert KEY_A not in caplog.text
    assert "using its own Vizard key" in caplog.text


async def test_provider_with_only_a_workspace_key_is_offered_there_only(
    make_stack: StackFactory, workspace: Workspaces
) -> None:
    stack = await make_stack(reelbot_secret_key=Fernet.generate_key().decode(), vizard_api_key="")
    _people(stack)
    stack.vizard.api_keys = {KEY_A}
    a, b = workspace(stack, TEAM_A), workspace(stack, TEAM_B)

    async def reel(slack: SlackRequests, text: str, user: str) -> str:
        answer = await slack.slash_command("/reel", text, user_id=user, channel_id=CHANNEL)
        return str(answer.json()["text"])

    assert "Not set up here: Vizard" in await reel(a, "providers", MEMBER_A)
    modal = await _open_keys_modal(a, ADMIN_A)
    assert "*Vizard*: not set" in _texts(modal)
    await a.view_submission(modal, _typed(KEY_FIELD, KEY_A), user_id=ADMIN_A)

    assert "Vizard: `/clip` makes clips" in await reel(a, "providers", MEMBER_A)
    assert "`/clip` makes clips" in await reel(a, "help", MEMBER_A)
    providers_b = await reel(b, "providers", MEMBER_B)
    assert "Not set up here: Vizard" in providers_b and "Vizard: `/clip`" not in providers_b
    assert "`/clip` makes clips" not in await reel(b, "help", MEMBER_B)
    refused = await b.slash_command(
        "/clip", "https://videos.example.com/b.mp4", user_id=MEMBER_B, channel_id=CHANNEL
    )
    assert "not set up in this workspace" in refused.json()["text"]
    assert not await stack.jobs(MEMBER_B)

    job = await _clip(stack, a, MEMBER_A, "delta")
    assert job.state is JobState.DONE and len(job.outputs) == 3
    assert _create_keys(stack, "delta") == [KEY_A]


async def test_non_admins_can_neither_open_nor_submit_the_keys_modal(
    make_stack: StackFactory, workspace: Workspaces, redis_url: str, redis_prefix: str
) -> None:
    stack = await make_stack(reelbot_secret_key=Fernet.generate_key().decode())
    _people(stack)
    a = workspace(stack, TEAM_A)

    notice = await _open_keys_modal(a, MEMBER_A)
    assert "Only a workspace admin or owner" in _texts(notice)
    assert not notice.get("submit") and notice.get("callback_id") != "provider_keys_modal"
    answer = await a.slash_command("/reel", "keys", user_id=MEMBER_A, channel_id=CHANNEL)
    assert answer.status_code == 200

    def told() -> bool:
        return any("Only a workspace admin" in e.text for e in stack.sandbox.ephemerals)

    await stack.wait_for(told)

    # A member who got hold of the admin's modal cannot submit it.
    modal = await _open_keys_modal(a, ADMIN_A)
    forged = await a.view_submission(modal, _typed(KEY_FIELD, KEY_A), user_id=MEMBER_A)
    assert forged.json()["response_action"] == "update"
    assert "Only a workspace admin" in json.dumps(forged.json()["view"])
    raw = redis.asyncio.Redis.from_url(redis_url)
    try:
        assert await raw.hgetall(f"{redis_prefix}config:{TEAM_A}") == {}
    finally:
        await raw.aclose()

    # /reel keys opens the same modal for an admin.
    opened = len(stack.sandbox.views_opened)
    await a.slash_command("/reel", "keys", user_id=ADMIN_A, channel_id=CHANNEL)
    await stack.wait_for(lambda: len(stack.sandbox.views_opened) > opened)
    assert stack.sandbox.views_opened[-1]["callback_id"] == "provider_keys_modal"


async def test_without_a_secret_key_workspace_keys_are_off(
    make_stack: StackFactory, workspace: Workspaces
) -> None:
    stack = await make_stack()
    _people(stack)
    a = workspace(stack, TEAM_A)
    notice = await _open_keys_modal(a, ADMIN_A)
    assert "REELBOT_SECRET_KEY" in _texts(notice)


async def test_a_key_the_provider_refuses_is_not_saved(
    make_stack: StackFactory, workspace: Workspaces, redis_url: str, redis_prefix: str
) -> None:
    stack = await make_stack(reelbot_secret_key=Fernet.generate_key().decode())
    _people(stack)
    a = workspace(stack, TEAM_A)
    modal = await _open_keys_modal(a, ADMIN_A)
    typed = _typed(KEY_FIELD, "vz-nobody-has-this")
    refused = await a.view_submission(modal, typed, user_id=ADMIN_A)
    assert refused.json()["response_action"] == "errors"
    assert "Vizard did not accept this key" in refused.json()["errors"][KEY_FIELD]
    checks = [s for s in stack.vizard.seen if s.header(API_KEY_HEADER) == "vz-nobody-has-this"]
    assert [s.path.rsplit("/", 2)[-2] for s in checks] == ["query"], "one free call, no create"
    raw = redis.asyncio.Redis.from_url(redis_url)
    try:
        assert await raw.hgetall(f"{redis_prefix}config:{TEAM_A}") == {}
    finally:
        await raw.aclose()


async def test_with_oauth_each_installed_workspace_keeps_its_own_key_until_uninstalled(
    make_stack: StackFactory, workspace: Workspaces, redis_url: str, redis_prefix: str
) -> None:
    """Many workspaces for real (Bolt's OAuth, a bot token per workspace): Beta's admin sets
    Beta's key; Alpha's job never carries it; uninstalling Beta drops the key with the rest."""
    stack = await oauth.two_workspaces(
        make_stack, betty_is_admin=True, reelbot_secret_key=Fernet.generate_key().decode()
    )
    sandbox = stack.sandbox
    stack.vizard.api_keys.add(KEY_A)
    await oauth.install_both(stack)
    alpha, beta = workspace(stack, oauth.ALPHA), workspace(stack, oauth.BETA)

    # `/reel keys` (App Home's button opens the same modal: tested above in one workspace).
    opened = len(sandbox.views_opened)
    await beta.slash_command("/reel", "keys", user_id=oauth.BETTY, channel_id=oauth.BETA_CHANNEL)
    await stack.wait_for(lambda: len(sandbox.views_opened) > opened)
    modal = sandbox.views_opened[-1]
    saved = await beta.view_submission(modal, _typed(KEY_FIELD, KEY_A), user_id=oauth.BETTY)
    assert saved.status_code == 200 and not saved.text
    dm = sandbox.dm_channel(oauth.BETTY)
    await stack.wait_for(
        lambda: any("Vizard: this workspace" in m.text for m in sandbox.messages(dm))
    )

    async def clip(slack: SlackRequests, user: str, channel: str, video: str) -> Job:
        answer = await slack.slash_command(
            "/clip", f"https://videos.example.com/{video}.mp4", user_id=user, channel_id=channel
        )
        assert answer.status_code == 200, answer.text
        [job, *_] = await stack.wait_until_settled(user)
        assert job.state is JobState.DONE and job.source.endswith(f"{video}.mp4")
        return job

    beta_job = await clip(beta, oauth.BETTY, oauth.BETA_CHANNEL, "beta-1")
    alpha_job = await clip(alpha, ALICE, CHANNEL, "alpha-1")
    assert _create_keys(stack, "beta-1") == [KEY_A] and _poll_keys(stack, beta_job) == {KEY_A}
    env_key = stack.vizard.api_key
    assert _create_keys(stack, "alpha-1") == [env_key]
    assert _poll_keys(stack, alpha_job) == {env_key}

    sandbox.uninstall(oauth.BETA)
    event = await beta.event({"type": "app_uninstalled", "event_ts": "1700000000.000100"})
    assert event.status_code == 200
    raw = redis.asyncio.Redis.from_url(redis_url)
    try:

        async def dropped() -> bool:
            return await raw.hgetall(f"{redis_prefix}config:{oauth.BETA}") == {}

        await stack.wait_for(dropped)
    finally:
        await raw.aclose()
    async with httpx.AsyncClient(timeout=10.0) as http:
        await oauth._install(http, stack, oauth.BETA, oauth.BETTY)
    again = await beta.slash_command(
        "/clip", "https://videos.example.com/beta-2.mp4", user_id=oauth.BETTY,
        channel_id=oauth.BETA_CHANNEL,
    )  # fmt: skip
    assert again.status_code == 200
    await stack.wait_for(lambda: bool(_create_keys(stack, "beta-2")))
    assert _create_keys(stack, "beta-2") == [env_key], "reinstalled: the app's key again"


async def _timed_save(
    slack: SlackRequests, modal: dict[str, Any], user: str
) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    answer = await slack.view_submission(modal, _typed(KEY_FIELD, KEY_A), user_id=user)
    return answer, time.monotonic() - started


async def _saved_keys(stack: Stack, team: str) -> list[str]:
    return [k for k in await stack.runtime.store.config_all(team) if k.startswith("provider_keys")]


async def test_keys_form_says_in_time_that_slack_is_busy_when_users_info_is_rate_limited(
    make_stack: StackFactory, workspace: Workspaces
) -> None:
    """users.info answering 429 with Retry-After 2 must neither hold the form's answer past
    Slack's 3 s nor save the key while the admin is shown a failure: the form says Slack is
    busy, and the next Save goes through."""
    stack = await make_stack(reelbot_secret_key=Fernet.generate_key().decode())
    _people(stack)
    stack.vizard.api_keys.add(KEY_A)
    a = workspace(stack, TEAM_A)
    modal = await _open_keys_modal(a, ADMIN_A)
    stack.clock.advance(120)  # what opening the form learnt of the admin has expired
    stack.sandbox.fail_next("users.info", status=429, retry_after=2)
    stack.vizard.inject("query", "timeout", delay=1.2)  # the trial answers within its 1.5 s
    busy, took = await _timed_save(a, modal, ADMIN_A)
    assert busy.status_code == 200 and took < 3.0, f"HTTP {busy.status_code} after {took:.1f} s"
    assert busy.json()["response_action"] == "errors"
    [said] = busy.json()["errors"].values()
    assert "Slack is busy" in said and "try again in a moment" in said.lower()
    await asyncio.sleep(0.5)
    assert await _saved_keys(stack, TEAM_A) == []
    dm = stack.sandbox.dm_channel(ADMIN_A)
    assert not stack.sandbox.messages(dm), "nothing told of a save that did not happen"

    saved, took = await _timed_save(a, modal, ADMIN_A)
    assert saved.status_code == 200 and not saved.text and took < 3.0
    assert await _saved_keys(stack, TEAM_A) == ["provider_keys:vizard"]

    def confirmed() -> bool:
        return any("Vizard: this workspace's own key" in m.text for m in stack.sandbox.messages(dm))

    await stack.wait_for(confirmed)
    assert "could not check" not in stack.sandbox.messages(dm)[-1].text


async def test_the_keys_trial_gets_only_what_the_admin_check_left_of_slacks_3s(
    make_stack: StackFactory, workspace: Workspaces
) -> None:
    """users.info taking 0.9 s leaves the provider's trial less than its usual 1.5 s: Vizard
    answering in 1.45 s is then not waited for, and the key is saved unchecked, in time."""
    stack = await make_stack(reelbot_secret_key=Fernet.generate_key().decode())
    _people(stack)
    stack.vizard.api_keys.add(KEY_A)
    a = workspace(stack, TEAM_A)
    modal = await _open_keys_modal(a, ADMIN_A)
    stack.clock.advance(120)
    stack.sandbox.on_call("users.info", lambda: asyncio.sleep(0.9))
    stack.vizard.inject("query", "timeout", delay=1.45)
    saved, took = await _timed_save(a, modal, ADMIN_A)
    assert saved.status_code == 200 and not saved.text and took < 3.0, f"after {took:.1f} s"
    assert await _saved_keys(stack, TEAM_A) == ["provider_keys:vizard"]
    dm = stack.sandbox.dm_channel(ADMIN_A)

    def unchecked() -> bool:
        messages = stack.sandbox.messages(dm)
        return any("Vizard could not check it just now" in m.text for m in messages)

    await stack.wait_for(unchecked)
