"""A provider that exists only in tests/ (tests/snip: its module and its simulator) runs
through /clip end to end with no change in bot/: its form, its price and confirmation, its
idempotent create, its in-flight limit."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest_asyncio

from bot import ids
from bot.jobs import Job, JobState
from bot.registry import PLUGINS
from bot.sandbox import Call
from bot.sandbox.transcript import render_blocks
from providers.base import ErrorKind
from tests.e2e.conftest import ALICE, BOB, CHANNEL, Stack, StackFactory
from tests.snip import provider as snip
from tests.snip.simulator import SnipSimulator


@pytest_asyncio.fixture
async def sim() -> AsyncIterator[SnipSimulator]:
    simulator = SnipSimulator(render_seconds=0.3)
    await simulator.start()
    yield simulator
    await simulator.stop()


async def _stack(make_stack: StackFactory, sim: SnipSimulator, **overrides: object) -> Stack:
    return await make_stack(
        plugins=(*PLUGINS, snip.PLUGIN),
        snip_api_key=sim.api_key,
        snip_base_url=sim.base_url,
        **overrides,
    )


async def _one_job(stack: Stack) -> Job:
    [job] = await stack.jobs()
    return job


async def _click(stack: Stack, action: str, job: Job, user: str = ALICE) -> None:
    answer = await stack.slack.block_action(
        action, job.id, user_id=user, channel_id=CHANNEL, message_ts=str(job.root_ts)
    )
    assert answer.status_code == 200


async def _awaiting_root(stack: Stack) -> Job:
    async def posted() -> bool:
        jobs = await stack.jobs()
        return bool(jobs) and jobs[0].root_ts is not None

    await stack.wait_for(posted)
    return await _one_job(stack)


async def test_a_provider_from_tests_runs_through_clip_with_its_price_confirmed_once(
    make_stack: StackFactory, sim: SnipSimulator
) -> None:
    stack = await _stack(make_stack, sim)
    answer = await stack.slack.slash_command(
        "/clip",
        "https://v.example.com/demo.mp4 provider=snip count=2 style=calm",
        user_id=ALICE,
        channel_id=CHANNEL,
    )
    assert answer.status_code == 200
    job = await _awaiting_root(stack)
    assert job.state is JobState.AWAITING_CONFIRMATION
    shown = render_blocks(stack.sandbox.message(CHANNEL, str(job.root_ts)).blocks)
    assert any("2 clips with Snip will cost $2.50." in line for line in shown)
    assert "[Confirm] [Cancel]" in shown
    await stack.runtime.poller.tick()
    assert sim.create_calls == [], "nothing is sent before the requester confirms"

    await _click(stack, ids.CONFIRM_ACTION, job, user=BOB)
    await stack.wait_for(lambda: any(e.user == BOB for e in stack.sandbox.ephemerals))
    assert f"Only <@{ALICE}>" in stack.sandbox.ephemerals[-1].text
    assert (await _one_job(stack)).state is JobState.AWAITING_CONFIRMATION

    # A double (or twentyfold) click confirms once.
    await asyncio.gather(*(_click(stack, ids.CONFIRM_ACTION, job) for _ in range(20)))
    [done] = await stack.wait_until_settled()
    assert done.state is JobState.DONE
    assert sim.create_calls == [
        {"video_url": "https://v.example.com/demo.mp4", "count": 2, "style": "calm"}
    ]
    assert (done.quoted_cents, done.charged_cents, sim.charged_cents) == (250, 250, 250)
    root = stack.sandbox.message(CHANNEL, str(done.root_ts))
    assert "Done: 2 clips" in json.dumps(root.blocks)
    assert "charged $2.50" in json.dumps(root.blocks)
    replies = stack.sandbox.thread(CHANNEL, root.ts)
    assert [r.text for r in replies] == [
        "Clip 1 of 2: Snip 1",
        f"<@{ALICE}> Clip 2 of 2: Snip 2 (both clips are ready)",
    ]


async def test_the_default_provider_is_a_setting(
    make_stack: StackFactory, sim: SnipSimulator
) -> None:
    stack = await _stack(make_stack, sim, clip_default_provider="snip")
    await stack.slack.slash_command(
        "/clip", "https://v.example.com/a.mp4", user_id=ALICE, channel_id=CHANNEL
    )
    job = await _awaiting_root(stack)
    assert job.provider == "snip"
    help_text = (
        await stack.slack.slash_command("/clip", "help", user_id=ALICE, channel_id=CHANNEL)
    ).json()["text"]
    assert "`provider=`" in help_text and "count=" in help_text and "lang=" in help_text


async def test_a_create_whose_answer_was_lost_is_sent_again_with_the_same_key(
    make_stack: StackFactory, sim: SnipSimulator
) -> None:
    stack = await _stack(make_stack, sim, clip_default_provider="snip", snip_timeout_seconds=0.5)
    # Snip makes the job; its answer comes too late, three times (the client's own retries).
    sim.hold_next_answers = [3.0, 3.0, 3.0]
    await stack.slack.slash_command(
        "/clip", "https://v.example.com/a.mp4 count=1", user_id=ALICE, channel_id=CHANNEL
    )
    job = await _awaiting_root(stack)
    await _click(stack, ids.CONFIRM_ACTION, job)

    async def retrying() -> bool:
        current = await _one_job(stack)
        return current.state is JobState.SUBMITTING and current.provider_retries > 0

    await stack.wait_for(retrying)
    stack.clock.advance(30)
    [done] = await stack.wait_until_settled()
    assert done.state is JobState.DONE
    assert len(sim.create_calls) == 4, "sent four times, always with the job's key..."
    assert len(sim.jobs) == 1 and sim.charged_cents == 125, "...made and charged once"
    assert len(stack.sandbox.thread(CHANNEL, str(done.root_ts))) == 1


async def test_beyond_the_in_flight_limit_a_job_waits_its_turn(
    make_stack: StackFactory, sim: SnipSimulator
) -> None:
    sim.render_seconds = 1.5
    stack = await _stack(make_stack, sim, clip_default_provider="snip", snip_in_flight=1)
    for name in ("first", "second"):
        await stack.slack.slash_command(
            "/clip", f"https://v.example.com/{name}.mp4 count=1", user_id=ALICE, channel_id=CHANNEL
        )

    async def both_posted() -> bool:
        jobs = await stack.jobs()
        return len(jobs) == 2 and all(j.root_ts for j in jobs)

    await stack.wait_for(both_posted)
    for job in await stack.jobs():
        await _click(stack, ids.CONFIRM_ACTION, job)

    async def one_waits() -> bool:
        return any("at a time" in (j.notice or "") for j in await stack.jobs())

    await stack.wait_for(one_waits)
    assert len(sim.jobs) == 1
    jobs = await stack.wait_until_settled(seconds=30)
    assert [j.state for j in jobs] == [JobState.DONE, JobState.DONE]
    assert len(sim.jobs) == 2


async def test_an_unconfirmed_request_expires_and_spends_nothing(
    make_stack: StackFactory, sim: SnipSimulator
) -> None:
    stack = await _stack(make_stack, sim, clip_default_provider="snip", confirm_expiry_minutes=15)
    await stack.slack.slash_command(
        "/clip", "https://v.example.com/a.mp4", user_id=ALICE, channel_id=CHANNEL
    )
    job = await _awaiting_root(stack)
    stack.clock.advance(15 * 60 + 1)
    [expired] = await stack.wait_until_settled()
    assert expired.state is JobState.FAILED
    assert expired.error_kind is ErrorKind.EXPIRED
    root = stack.sandbox.message(CHANNEL, str(job.root_ts))
    assert "Nobody confirmed this request within 15 minutes" in json.dumps(root.blocks)
    assert ids.CONFIRM_ACTION not in json.dumps(root.blocks)
    await _click(stack, ids.CONFIRM_ACTION, job)
    await stack.wait_for(lambda: bool(stack.sandbox.ephemerals))
    assert "nothing left to confirm" in stack.sandbox.ephemerals[-1].text
    assert sim.create_calls == []


async def test_cancel_instead_of_confirm_sends_nothing(
    make_stack: StackFactory, sim: SnipSimulator
) -> None:
    stack = await _stack(make_stack, sim, clip_default_provider="snip")
    await stack.slack.slash_command(
        "/clip", "https://v.example.com/a.mp4", user_id=ALICE, channel_id=CHANNEL
    )
    job = await _awaiting_root(stack)
    await _click(stack, ids.CANCEL_ACTION, job)
    [cancelled] = await stack.wait_until_settled()
    assert cancelled.state is JobState.CANCELLED
    await stack.wait_for(
        lambda: "Cancelled" in json.dumps(stack.sandbox.message(CHANNEL, str(job.root_ts)).blocks)
    )
    assert sim.create_calls == []


async def test_the_modal_switches_its_fields_with_the_provider(
    make_stack: StackFactory, sim: SnipSimulator
) -> None:
    stack = await _stack(make_stack, sim)
    await stack.slack.slash_command("/clip", "", user_id=ALICE, channel_id=CHANNEL)
    await stack.wait_for(lambda: bool(stack.sandbox.views_opened))
    view = stack.sandbox.views_opened[-1]
    assert [b["block_id"] for b in view["blocks"]][:2] == [ids.PROVIDER_BLOCK, "url"]
    assert "lang" in [b["block_id"] for b in view["blocks"]]

    await stack.slack.view_select(view, ids.PROVIDER_BLOCK, ids.PROVIDER_ACTION, "snip")
    [update] = await _updates(stack)
    switched = update.params["view"]
    assert [b["block_id"] for b in switched["blocks"]] == [
        ids.PROVIDER_BLOCK,
        "url",
        "count",
        "style",
    ]
    values: dict[str, dict[str, dict[str, Any]]] = {
        ids.PROVIDER_BLOCK: {
            ids.PROVIDER_ACTION: {"type": "static_select", "selected_option": {"value": "snip"}}
        },
        "url": {"url": {"type": "plain_text_input", "value": "https://v.example.com/m.mp4"}},
        "count": {"count": {"type": "number_input", "value": "3"}},
        "style": {"style": {"type": "static_select", "selected_option": {"value": "fun"}}},
    }
    stored = stack.sandbox.views_opened[-1] | {
        "private_metadata": switched["private_metadata"],
        "blocks": switched["blocks"],
    }
    answer = await stack.slack.view_submission(stored, values, user_id=ALICE)
    assert answer.status_code == 200 and not answer.content
    job = await _awaiting_root(stack)
    assert (job.provider, job.quoted_cents) == ("snip", 375)


async def _updates(stack: Stack) -> list[Call]:
    await stack.wait_for(lambda: bool(stack.sandbox.calls_to("views.update")))
    return stack.sandbox.calls_to("views.update")


async def test_a_create_that_is_never_confirmed_is_given_up_with_a_sentence(
    make_stack: StackFactory, sim: SnipSimulator
) -> None:
    stack = await _stack(make_stack, sim, clip_default_provider="snip", snip_timeout_seconds=0.3)
    sim.hold_next_answers = [2.0] * 100  # every answer comes too late
    await stack.slack.slash_command(
        "/clip", "https://v.example.com/a.mp4 count=1", user_id=ALICE, channel_id=CHANNEL
    )
    job = await _awaiting_root(stack)
    await _click(stack, ids.CONFIRM_ACTION, job)

    async def retrying() -> bool:
        return (await _one_job(stack)).provider_retries > 0

    await stack.wait_for(retrying)
    stack.clock.advance(6 * 3600 + 60)
    [failed] = await stack.wait_until_settled(seconds=30)
    assert failed.state is JobState.FAILED
    assert failed.error_kind is ErrorKind.UNAVAILABLE
    assert "did not confirm this request for 6 hours" in (failed.error or "")
    assert failed.create_attempts <= 3
    assert len(sim.jobs) == 1, "every attempt carried the same key"
