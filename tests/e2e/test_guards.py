"""What must never get through: bad input, forged requests, rate limits that would fail a job."""

from __future__ import annotations

import asyncio
import json
import time
from urllib.parse import urlencode

import pytest

from bot.jobs import JobState
from tests.bad_inputs import BAD_CLIP_TEXTS
from tests.e2e.conftest import ALICE, CHANNEL, Stack, StackFactory
from tests.e2e.flaky_redis import FlakyRedis


def test_the_catalogue_has_at_least_twenty_cases() -> None:
    assert len(BAD_CLIP_TEXTS) >= 20


@pytest.mark.parametrize(
    ("text", "words"), [(t, w) for _, t, w in BAD_CLIP_TEXTS], ids=[i for i, _, _ in BAD_CLIP_TEXTS]
)
async def test_bad_input_gets_an_ephemeral_message_and_nothing_else(
    stack: Stack, text: str, words: tuple[str, ...]
) -> None:
    answer = await stack.slack.slash_command("/clip", text, user_id=ALICE, channel_id=CHANNEL)
    assert answer.status_code == 200
    message = answer.json()["text"]
    for word in words:
        assert word.lower() in message.lower()
    assert "Traceback" not in message
    await stack.runtime.poller.tick()
    assert await stack.jobs() == []
    assert stack.vizard.create_attempts == 0
    assert stack.sandbox.calls_to("chat.postMessage") == []


def _command_body(text: str) -> bytes:
    return urlencode(
        {
            "command": "/clip",
            "text": text,
            "user_id": ALICE,
            "channel_id": CHANNEL,
            "team_id": "T0SANDBOX",
            "trigger_id": "1.2.3",
            "response_url": "http://127.0.0.1:9/none",
        }
    ).encode()


async def test_forged_signature_is_refused_and_nothing_happens(stack: Stack) -> None:
    body = _command_body("https://v.example.com/a.mp4")
    answer = await stack.slack.post(
        body, "application/x-www-form-urlencoded", signature="v0=" + "0" * 64
    )
    assert answer.status_code == 401
    await stack.runtime.poller.tick()
    assert await stack.jobs() == []
    assert stack.sandbox.calls_to("chat.postMessage") == []
    assert stack.vizard.create_attempts == 0


@pytest.mark.parametrize("skew", [-301, 301, -3600])
async def test_timestamp_more_than_five_minutes_off_is_refused(stack: Stack, skew: int) -> None:
    body = _command_body("https://v.example.com/a.mp4")
    answer = await stack.slack.post(
        body, "application/x-www-form-urlencoded", timestamp=int(time.time()) + skew
    )
    assert answer.status_code == 401
    assert await stack.jobs() == []
    assert stack.sandbox.calls_to("chat.postMessage") == []


async def test_over_the_client_side_window_the_job_waits_and_goes_later(
    make_stack: StackFactory,
) -> None:
    stack = await make_stack(vizard_per_minute=1)
    for name in ("first", "second"):
        await stack.slack.slash_command(
            "/clip", f"https://v.example.com/{name}.mp4", user_id=ALICE, channel_id=CHANNEL
        )
    await stack.wait_for(lambda: _has_notice(stack))
    assert len(stack.vizard.creates) == 1
    waiting = [j for j in await stack.jobs() if j.state is JobState.QUEUED]
    assert len(waiting) == 1
    root = stack.sandbox.message(str(waiting[0].root_channel), str(waiting[0].root_ts))
    await stack.wait_for(lambda: "Next in line for Vizard" in json.dumps(root.blocks))
    assert "Vizard accepts 1 new request a minute and 20 an hour" in json.dumps(root.blocks)

    stack.clock.advance(61)
    jobs = await stack.wait_until_settled()
    assert [j.state for j in jobs] == [JobState.DONE, JobState.DONE]
    assert len(stack.vizard.creates) == 2


async def test_vizard_4003_keeps_the_job_queued_never_failed(stack: Stack) -> None:
    stack.vizard.inject("create", "code", code=4003)
    await stack.slack.slash_command(
        "/clip", "https://v.example.com/a.mp4", user_id=ALICE, channel_id=CHANNEL
    )
    await stack.wait_for(lambda: _has_notice(stack))
    [job] = await stack.jobs()
    assert job.state is JobState.QUEUED
    assert "slow down" in (job.notice or "")
    stack.clock.advance(61)
    [job] = await stack.wait_until_settled()
    assert job.state is JobState.DONE


@pytest.mark.parametrize(
    ("code", "words"),
    [(4001, ("admin", "VIZARD_API_KEY")), (4007, ("admin", "minutes")), (4008, ("download",))],
)
async def test_vizard_refusal_is_one_sentence_in_the_root_message(
    stack: Stack, code: int, words: tuple[str, ...]
) -> None:
    stack.vizard.inject("create", "code", code=code)
    await stack.slack.slash_command(
        "/clip", "https://v.example.com/a.mp4", user_id=ALICE, channel_id=CHANNEL
    )
    [job] = await stack.wait_until_settled()
    assert job.state is JobState.FAILED
    text = json.dumps(stack.sandbox.roots(CHANNEL)[0].blocks)
    assert "Failed" in text
    for word in words:
        assert word.lower() in text.lower()
    assert stack.vizard.api_key not in text


async def test_clipping_failure_reported_while_polling(stack: Stack) -> None:
    await stack.slack.slash_command(
        "/clip", "https://v.example.com/fail-clipping.mp4", user_id=ALICE, channel_id=CHANNEL
    )
    [job] = await stack.wait_until_delivered()
    assert job.state is JobState.FAILED
    assert job.error_kind == "failed"
    # No results, one reply saying why, that notifies the requester.
    [reply] = stack.sandbox.thread(CHANNEL, stack.sandbox.roots(CHANNEL)[0].ts)
    assert reply.text.startswith(f"<@{ALICE}> Failed: ")
    assert reply.text.removeprefix(f"<@{ALICE}> Failed: ") == job.error
    await stack.runtime.poller.tick()
    assert len(stack.sandbox.thread(CHANNEL, str(job.root_ts))) == 1, "once"


async def test_unconfigured_vizard_is_explained_and_nothing_is_stored(
    make_stack: StackFactory,
) -> None:
    stack = await make_stack(vizard_api_key=None)
    answer = await stack.slack.slash_command(
        "/clip", "https://v.example.com/a.mp4", user_id=ALICE, channel_id=CHANNEL
    )
    assert "VIZARD_API_KEY" in answer.json()["text"]
    assert await stack.jobs() == []


async def test_bot_not_in_channel_falls_back_to_a_dm(stack: Stack) -> None:
    stack.sandbox.add_channel("C0SECRET", "secret", member=False, private=True)
    await stack.slack.slash_command(
        "/clip", "https://v.example.com/a.mp4", user_id=ALICE, channel_id="C0SECRET"
    )
    [job] = await stack.wait_until_settled()
    assert job.state is JobState.DONE
    assert job.root_channel is not None and job.root_channel.startswith("D")
    dm = stack.sandbox.messages(job.root_channel)
    assert any("/invite @Reelbot" in m.text for m in dm)
    assert len(stack.sandbox.thread(job.root_channel, str(job.root_ts))) == 3


async def _has_notice(stack: Stack) -> bool:
    return any(j.notice for j in await stack.jobs())


@pytest.mark.parametrize("fault", ["timeout", "http500", "malformed"])
async def test_an_unconfirmed_create_is_never_sent_twice(
    make_stack: StackFactory, fault: str
) -> None:
    stack = await make_stack(vizard_timeout_seconds=0.5)
    stack.vizard.inject("create", fault, delay=2.0)  # type: ignore[arg-type]
    await stack.slack.slash_command(
        "/clip", "https://v.example.com/a.mp4", user_id=ALICE, channel_id=CHANNEL
    )
    [job] = await stack.wait_until_settled()
    assert job.state is JobState.FAILED
    assert "not charged twice" in (job.error or "")
    stack.clock.advance(3600)
    await stack.runtime.poller.tick()
    assert stack.vizard.create_attempts == 1


async def test_two_holders_of_one_job_make_one_create(stack: Stack) -> None:
    stack.vizard.render_seconds = 60
    await stack.slack.slash_command(
        "/clip", "https://v.example.com/a.mp4", user_id=ALICE, channel_id=CHANNEL
    )
    await stack.wait_for(lambda: _created(stack))
    [created] = await stack.jobs()
    store = stack.runtime.store
    # A queued job held twice (a holder frozen past its lease, and the next one): both try
    # to submit it. The create in flight is recorded by compare-and-set before it is sent.
    queued = await store.add(
        created.model_copy(
            update={
                "id": "f" * 32,
                "state": JobState.QUEUED,
                "version": 0,
                "provider_ref": None,
                "deliveries": {},
                # Due later than the pool looks, so only this test's two holders take it.
                "next_run_at": stack.clock() + 3600,
            }
        )
    )
    first = await store.claim(queued.id, stack.clock() + 3600, 120, "holder-1")
    second = await store.claim(queued.id, stack.clock() + 3721, 120, "holder-2")
    assert first is not None and second is not None
    await asyncio.gather(
        stack.runtime.runner.run(first, "holder-1"), stack.runtime.runner.run(second, "holder-2")
    )
    assert len(stack.vizard.creates) == 2, "one for the original job, one for the copy"


async def test_slack_escaped_query_string_reaches_vizard_unescaped(stack: Stack) -> None:
    await stack.slack.slash_command(
        "/clip",
        "<https://cdn.example.com/a.mp4?sig=1&amp;exp=2>",
        user_id=ALICE,
        channel_id=CHANNEL,
    )
    [job] = await stack.wait_until_settled()
    assert stack.vizard.creates[0]["videoUrl"] == "https://cdn.example.com/a.mp4?sig=1&exp=2"
    assert job.state is JobState.DONE


async def _created(stack: Stack) -> bool:
    return len(stack.vizard.creates) == 1


async def test_a_store_answer_lost_after_the_write_stores_the_job_once_and_says_nothing_wrong(
    make_stack: StackFactory, redis_url: str
) -> None:
    flaky = FlakyRedis(redis_url)
    await flaky.start()
    try:
        stack = await make_stack(redis_url=flaky.url)
        # The job's first write reaches Redis; its answer is lost with the connection.
        flaky.lose_reply_to(f"user:{ALICE}".encode())
        answer = await stack.slack.slash_command(
            "/clip", "https://v.example.com/a.mp4", user_id=ALICE, channel_id=CHANNEL
        )
        assert answer.status_code == 200
        assert flaky.dropped == 1
        assert not answer.content, "a plain ack: nothing went wrong as far as the person knows"
        [job] = await stack.wait_until_settled()
        assert job.state is JobState.DONE
        assert len(stack.vizard.creates) == 1
        assert len(stack.sandbox.roots(CHANNEL)) == 1
    finally:
        await flaky.stop()


async def test_a_link_that_spells_a_channel_mention_notifies_nobody(stack: Stack) -> None:
    await stack.slack.slash_command(
        "/clip",
        "https://v.example.com/&lt;!channel&gt;.mp4 name=&lt;!here&gt;",
        user_id=ALICE,
        channel_id=CHANNEL,
    )
    [job] = await stack.wait_until_settled()
    assert job.source == "https://v.example.com/<!channel>.mp4"
    for call in stack.sandbox.calls_to("chat.postMessage") + stack.sandbox.calls_to("chat.update"):
        shown = json.dumps([call.params.get("text"), call.params.get("blocks")])
        assert "<!channel>" not in shown and "<!here>" not in shown, shown
