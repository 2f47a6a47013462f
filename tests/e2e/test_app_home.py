"""App Home over HTTP: views.publish on app_home_opened with each person's own jobs, the admin's
extra sections, Cancel from the Home, the Home republished when a job changes state, and
`/reel settings`."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from bot.jobs import Job, JobState
from tests.e2e.conftest import ALICE, BOB, CHANNEL, Stack, StackFactory
from tests.e2e.test_reel import reel_reply
from tests.factories import make_job

ADMIN = "U0ADA"
PAID_CLIP = "https://v.example.com/a.mp4 provider=cuttr clips=2"


def _text(view: dict[str, Any]) -> str:
    return json.dumps(view["blocks"], ensure_ascii=False)


def _buttons(view: dict[str, Any]) -> dict[str, list[str]]:
    """action_id -> the values of the buttons with it."""
    found: dict[str, list[str]] = {}
    for block in view["blocks"]:
        elements = list(block.get("elements") or [])
        if isinstance(block.get("accessory"), dict):
            elements.append(block["accessory"])
        for element in elements:
            if element.get("type") == "button":
                found.setdefault(element["action_id"], []).append(element["value"])
    return found


async def _open_home(stack: Stack, user: str) -> dict[str, Any]:
    """Open the Home tab; the view the bot published for `user` in answer."""
    before = len(stack.sandbox.calls_to("views.publish"))
    answer = await stack.slack.app_home_opened(user)
    assert answer.status_code == 200

    def published() -> bool:
        calls = stack.sandbox.calls_to("views.publish")[before:]
        return any(c.params.get("user_id") == user and c.error is None for c in calls)

    await stack.wait_for(published, 10)
    return stack.sandbox.home_views[user]


async def _home_showing(stack: Stack, user: str, *wanted: str) -> dict[str, Any]:
    """Until the bot has published a Home for `user` that shows every one of `wanted`."""

    def shows() -> bool:
        view = stack.sandbox.home_views.get(user)
        return view is not None and all(w in _text(view) for w in wanted)

    await stack.wait_for(shows, 20)
    return stack.sandbox.home_views[user]


async def _paid_clip(stack: Stack, user: str) -> Job:
    """A Cuttr request that waits for its requester's Confirm (so it stays unfinished)."""
    answer = await stack.slack.slash_command("/clip", PAID_CLIP, user_id=user, channel_id=CHANNEL)
    assert answer.status_code == 200

    async def posted() -> bool:
        jobs = await stack.jobs(user)
        return bool(jobs) and jobs[0].root_ts is not None

    await stack.wait_for(posted)
    return (await stack.jobs(user))[0]


async def test_each_person_sees_their_own_jobs_and_only_admins_see_more(
    make_stack: StackFactory,
) -> None:
    stack = await make_stack(cuttr=True, budget_monthly_cents=50_000)
    stack.sandbox.add_user(BOB, "bob")
    stack.sandbox.add_user(ADMIN, "ada", is_admin=True)
    alices = await _paid_clip(stack, ALICE)
    bobs = await _paid_clip(stack, BOB)

    alice_home = await _open_home(stack, ALICE)
    shown = _text(alice_home)
    assert f"`{alices.id[:8]}`" in shown and f"`{bobs.id[:8]}`" not in shown
    assert "waiting for your Confirm" in shown and f"<#{CHANNEL}>" in shown
    assert "Vizard: `/clip` makes clips (3 per minute, 20 per hour)" in shown
    assert "HeyGen" not in shown.split("Not set up here")[0], "only configured providers"
    assert _buttons(alice_home) == {"job_cancel": [alices.id]}
    for admin_only in ("unfinished jobs in this workspace", "Spend", "Workspace settings"):
        assert admin_only not in shown

    bob_home = _text(await _open_home(stack, BOB))
    assert f"`{bobs.id[:8]}`" in bob_home and f"`{alices.id[:8]}`" not in bob_home

    admin_home = await _open_home(stack, ADMIN)
    shown = _text(admin_home)
    assert "You have no jobs" not in shown and "No jobs yet" in shown
    assert "Everyone's unfinished jobs in this workspace* (2)" in shown
    assert f"<@{ALICE}> · Cuttr clips" in shown and f"<@{BOB}> · Cuttr clips" in shown
    assert "*Spend on paid providers," in shown and "of $500.00" in shown
    assert "Budget for paid providers: $500.00 for the workspace a month" in shown
    # loopback_settings turns RESULTS_AS_FILES off (bot/demo.py).
    assert "Results as files: off" in shown and "waits 15 minutes" in shown
    buttons = _buttons(admin_home)
    assert buttons["reel_channel_presets"] == ["home"]
    assert buttons["reel_provider_keys"] == ["home"]
    assert "job_cancel" not in buttons, "nobody cancels another person's job"


async def test_cancel_from_the_home_is_for_the_requester_and_refreshes_the_home(
    make_stack: StackFactory,
) -> None:
    stack = await make_stack(cuttr=True)
    stack.sandbox.add_user(BOB, "bob")
    job = await _paid_clip(stack, ALICE)
    await _open_home(stack, ALICE)

    answer = await stack.slack.home_action("job_cancel", job.id, user_id=BOB)
    assert answer.status_code == 200
    bob_dm = stack.sandbox.dm_channel(BOB)
    await stack.wait_for(lambda: bool(stack.sandbox.messages(bob_dm)))
    assert f"Only <@{ALICE}>" in stack.sandbox.messages(bob_dm)[0].text
    assert (await stack.jobs())[0].state is JobState.AWAITING_CONFIRMATION

    answer = await stack.slack.home_action("job_cancel", job.id, user_id=ALICE)
    assert answer.status_code == 200
    [cancelled] = await stack.wait_until_settled()
    assert cancelled.state is JobState.CANCELLED and cancelled.cancelled_by == ALICE
    home = await _home_showing(stack, ALICE, ":no_entry_sign: cancelled")
    assert "job_cancel" not in _buttons(home)


async def test_the_home_is_republished_when_a_job_is_done(stack: Stack) -> None:
    first = await _open_home(stack, ALICE)
    assert "No jobs yet" in _text(first)
    answer = await stack.slack.slash_command(
        "/clip", "https://v.example.com/talk.mp4", user_id=ALICE, channel_id=CHANNEL
    )
    assert answer.status_code == 200
    [done] = await stack.wait_until_settled()
    assert done.state is JobState.DONE
    home = await _home_showing(
        stack, ALICE, f"`{done.id[:8]}`", ":white_check_mark: done", "3 clips in the thread"
    )
    assert "job_cancel" not in _buttons(home)
    publishes = [
        c for c in stack.sandbox.calls_to("views.publish") if c.params.get("user_id") == ALICE
    ]
    # Opened once, then refreshed as the job moved: coalesced, never one per save.
    assert 2 <= len(publishes) <= 6


async def test_opening_the_messages_tab_publishes_nothing(stack: Stack) -> None:
    event = {
        "type": "app_home_opened",
        "user": ALICE,
        "channel": stack.sandbox.dm_channel(ALICE),
        "tab": "messages",
        "event_ts": "1.0",
    }
    assert (await stack.slack.event(event)).status_code == 200
    await _open_home(stack, BOB)  # events are handled in order: Alice's came first
    assert [c.params.get("user_id") for c in stack.sandbox.calls_to("views.publish")] == [BOB]


async def test_a_home_with_many_jobs_stays_within_slacks_limits(stack: Stack) -> None:
    stack.sandbox.add_user(ALICE, "alice", is_admin=True)
    team = stack.slack.team_id
    store = stack.runtime.store
    for n in range(60):
        # Not due: the poller leaves them be.
        await store.add(make_job(user_id=ALICE, team_id=team, created_at=1_000.0 + n))
        await store.add(make_job(user_id=f"U0P{n:03d}", team_id=team, created_at=2_000.0 + n))
    home = await _open_home(stack, ALICE)  # the sandbox refuses a view Slack would refuse
    assert len(home["blocks"]) <= 100
    shown = _text(home)
    assert "…and 35 more older jobs" in shown, "the store keeps a person's 50 newest"
    assert "Everyone's unfinished jobs in this workspace* (120)" in shown
    assert "…and 90 more unfinished jobs" in shown
    assert len(_buttons(home)["job_cancel"]) == 15


async def test_reel_settings_for_an_admin_and_for_a_member(stack: Stack) -> None:
    stack.sandbox.add_user(ADMIN, "ada", is_admin=True)
    settings = await reel_reply(stack, "settings", ADMIN)
    assert "*Workspace settings*" in settings.text and "`/clip` Vizard" in settings.text
    buttons = {e["action_id"]: e["value"] for e in settings.blocks[1]["elements"]}
    assert buttons == {"reel_channel_presets": "reel", "reel_provider_keys": "reel"}

    member = await reel_reply(stack, "settings", ALICE)
    assert "Only workspace admins can see Reelbot's settings" in member.text
    assert not member.blocks
    shown = (await stack.slack.slash_command("/reel", "help", user_id=ALICE)).json()["text"]
    assert "`/reel settings`" in shown


async def test_fifty_state_changes_at_once_publish_the_home_once(stack: Stack) -> None:
    home = stack.runtime.home
    for _ in range(50):
        job = make_job(user_id=ALICE, team_id=stack.slack.team_id, state=JobState.QUEUED)
        home.job_turned(job)
        home.job_turned(job)  # the same state again: no refresh of its own
        home.job_turned(job.moved(JobState.CANCELLED, cancelled_by=ALICE))
    home.job_turned(make_job(user_id=BOB, state=JobState.QUEUED))

    def publishes(user: str) -> int:
        calls = stack.sandbox.calls_to("views.publish")
        return len([c for c in calls if c.params.get("user_id") == user])

    await stack.wait_for(lambda: publishes(ALICE) >= 1 and publishes(BOB) >= 1, 5)
    await asyncio.sleep(1.0)  # anything more would have come by now (0.5 s settle)
    assert publishes(ALICE) == 1 and publishes(BOB) == 1
