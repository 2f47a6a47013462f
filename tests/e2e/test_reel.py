"""/reel over HTTP: jobs, status, cancel, providers and help, each for the person asking and
the workspace they ask from; spend and settings, which ask Slack who is an admin, ack first."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
import redis.exceptions

from bot.jobs import Job, JobState
from bot.sandbox import Ephemeral, SlackRequests
from tests.e2e.conftest import ALICE, BOB, CHANNEL, Stack, StackFactory
from tests.factories import make_job

ADMIN = "U0ADA"
# Another workspace of the same Enterprise Grid org: the same people, with the same user ids.
OTHER_TEAM = "T0OTHERWS"
PAID_CLIP = "provider=cuttr clips=2"


async def _reel(
    stack: Stack, text: str, user: str = ALICE, *, slack: SlackRequests | None = None
) -> str:
    answer = await (slack or stack.slack).slash_command(
        "/reel", text, user_id=user, channel_id=CHANNEL
    )
    assert answer.status_code == 200 and answer.json()["response_type"] == "ephemeral"
    return str(answer.json()["text"])


async def reel_reply(
    stack: Stack, text: str, user: str = ALICE, *, channel: str = CHANNEL
) -> Ephemeral:
    """`/reel text` where the answer needs Slack (users.info): acknowledged within Slack's 3 s,
    then answered through the command's response_url."""
    seen = {id(e) for e in stack.sandbox.ephemerals}
    started = time.monotonic()
    answer = await stack.slack.slash_command("/reel", text, user_id=user, channel_id=channel)
    took = time.monotonic() - started
    assert answer.status_code == 200, f"Bolt answered {answer.status_code} after {took:.1f} s"
    assert took < 3.0, f"/reel {text} acked after {took:.1f} s"

    def replies() -> list[Ephemeral]:
        return [
            e
            for e in stack.sandbox.ephemerals
            if id(e) not in seen and e.user == user and e.via == "response_url"
        ]

    await stack.wait_for(lambda: bool(replies()), 10)
    return replies()[0]


async def test_jobs_status_cancel_providers_and_help(make_stack: StackFactory) -> None:
    stack = await make_stack(cuttr=True)
    assert "no jobs yet" in await _reel(stack, "jobs")
    await stack.slack.slash_command(
        "/clip", "https://v.example.com/a.mp4 provider=cuttr clips=2", user_id=ALICE,
        channel_id=CHANNEL,
    )  # fmt: skip

    async def priced() -> bool:
        jobs = await stack.jobs()
        return bool(jobs) and jobs[0].root_ts is not None

    await stack.wait_for(priced)
    [job] = await stack.jobs()
    short = job.id[:8]
    listed = await _reel(stack, "jobs")
    assert f"`{short}` Cuttr clips" in listed and "awaiting confirmation" in listed
    status = await _reel(stack, f"status {short}")
    assert "Quoted $3.00" in status and "will cost $3.00" in status
    assert "None of your recent jobs" in await _reel(stack, f"status {short}", user=BOB)
    assert "Give the job's id" in await _reel(stack, "status not-an-id")
    assert f"Cancelled `{short}`" in await _reel(stack, f"cancel {short}")
    [cancelled] = await stack.wait_until_settled()
    assert cancelled.state is JobState.CANCELLED and cancelled.cancelled_by == ALICE
    assert "already cancelled" in await _reel(stack, f"cancel {job.id}")
    providers = await _reel(stack, "providers")
    assert "Vizard: `/clip` makes clips (3 per minute, 20 per hour)" in providers
    assert (
        "Cuttr: `/clip`" in providers and "Not set up here: HeyGen (`HEYGEN_API_KEY`)" in providers
    )
    for text in ("help", "", "dance"):
        shown = await _reel(stack, text)
        assert "`/reel jobs`" in shown and "`/clip` makes clips" in shown
        assert "/avatar" not in shown, "only the providers configured here"


async def test_spend_and_settings_ack_at_once_while_slack_rate_limits_users_info(
    stack: Stack,
) -> None:
    """users.info (the admin check) answering 429 with Retry-After 3 must not hold the ack
    past Slack's 3 s: the answer comes through the response_url once Slack says."""
    stack.sandbox.add_user(ADMIN, "ada", is_admin=True)
    stack.sandbox.fail_next("users.info", status=429, retry_after=3)
    spend = await reel_reply(stack, "spend", ADMIN)
    assert "*Spend on paid providers," in spend.text and "By person: nobody yet." in spend.text

    stack.sandbox.add_user(BOB, "bob")
    stack.sandbox.fail_next("users.info", status=429, retry_after=3)
    settings = await reel_reply(stack, "settings", BOB)
    assert "Only workspace admins can see Reelbot's settings" in settings.text


async def _paid_clip(stack: Stack, slack: SlackRequests, video: str) -> Job:
    """A Cuttr request from `slack`'s workspace that waits for ALICE's Confirm."""
    source = f"https://v.example.com/{video}.mp4"
    answer = await slack.slash_command(
        "/clip", f"{source} {PAID_CLIP}", user_id=ALICE, channel_id=CHANNEL
    )
    assert answer.status_code == 200

    async def posted() -> list[Job]:
        return [j for j in await stack.jobs() if j.source == source and j.root_ts is not None]

    async def shown() -> bool:
        return bool(await posted())

    await stack.wait_for(shown)
    [job] = await posted()
    assert job.team_id == slack.team_id
    return job


async def test_a_person_in_two_workspaces_of_an_org_sees_and_cancels_each_ones_jobs_there(
    make_stack: StackFactory,
) -> None:
    stack = await make_stack(cuttr=True)
    async with SlackRequests(
        stack.slack.events_url, stack.signing_secret, stack.sandbox, team_id=OTHER_TEAM
    ) as other:
        here = await _paid_clip(stack, stack.slack, "here")
        there = await _paid_clip(stack, other, "there")
        # Before workspaces were recorded (one token, one workspace): shown in every one.
        legacy = make_job(user_id=ALICE, team_id=None, state=JobState.DONE)
        await stack.runtime.store.add(legacy)

        listed = await _reel(stack, "jobs")
        assert f"`{here.id[:8]}`" in listed and f"`{legacy.id[:8]}`" in listed
        assert f"`{there.id[:8]}`" not in listed
        listed = await _reel(stack, "jobs", slack=other)
        assert f"`{there.id[:8]}`" in listed and f"`{legacy.id[:8]}`" in listed
        assert f"`{here.id[:8]}`" not in listed

        for word in ("status", "cancel"):
            refused = await _reel(stack, f"{word} {there.id[:8]}")
            assert "None of your recent jobs has the id" in refused
        assert "Quoted $3.00" in await _reel(stack, f"status {here.id[:8]}")
        [kept] = [j for j in await stack.jobs() if j.id == there.id]
        assert kept.state is JobState.AWAITING_CONFIRMATION, "not cancelled from elsewhere"
        assert "Cancelled" in await _reel(stack, f"cancel {there.id[:8]}", slack=other)

        # The sandbox keeps one Home a person: let the Home refreshes that earlier state
        # changes scheduled (0.5 s later) go by first.
        await asyncio.sleep(1.0)
        before = len(stack.sandbox.calls_to("views.publish"))
        assert (await other.app_home_opened(ALICE)).status_code == 200

        def published() -> bool:
            calls = stack.sandbox.calls_to("views.publish")[before:]
            return any(c.params.get("user_id") == ALICE and c.error is None for c in calls)

        await stack.wait_for(published, 10)
        home = json.dumps(stack.sandbox.home_views[ALICE]["blocks"])
        assert f"`{there.id[:8]}`" in home and f"`{legacy.id[:8]}`" in home
        assert f"`{here.id[:8]}`" not in home


async def test_reel_says_so_when_the_store_does_not_answer(
    make_stack: StackFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`/reel jobs`, `status`, `cancel` and `providers` read the store before their ack; a
    store that refuses (Redis down: a ConnectionError at once) must still get the person a
    plain sentence, as /clip's STORE_UNSURE does, not Slack's own failure notice."""
    stack = await make_stack()

    async def refused(*_: object, **__: object) -> object:
        raise redis.exceptions.ConnectionError("Connection refused")

    monkeypatch.setattr(stack.runtime.store, "recent_for_user", refused)
    answer = await stack.slack.slash_command("/reel", "jobs", user_id=ALICE, channel_id=CHANNEL)
    assert answer.status_code == 200, (answer.status_code, answer.text)
    assert "store" in answer.text.lower() or "try again" in answer.text.lower(), answer.text
