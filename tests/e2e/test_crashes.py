"""Real `reelbot run` replicas stopped by real signals at the worst moments: every request
makes one provider job, every message appears once, and the job ends readable."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from bot.jobs import Job, JobState
from bot.sandbox import SlackRequests
from providers.base import ErrorKind
from tests.e2e.conftest import ALICE, CHANNEL
from tests.e2e.flaky_redis import FlakyRedis
from tests.e2e.processes import SIGNING_SECRET, BotProcess, Stage

# Short leases, so the survivor takes over within seconds of the crash.
FAST = {"JOB_LEASE_SECONDS": "3"}


async def _until(check: Callable[[], bool], seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {seconds} s")
        await asyncio.sleep(0.05)


async def _settled_job(stage: Stage, seconds: float = 40.0) -> Job:
    store = stage.store()
    try:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            jobs = await store.recent_for_user(ALICE, 5)
            if len(jobs) == 1 and jobs[0].settled:
                return jobs[0]
            await asyncio.sleep(0.2)
        raise AssertionError(f"not settled within {seconds} s: {jobs}")
    finally:
        await store.close()


async def _clip(bot: BotProcess, stage: Stage, frozen: asyncio.Event | None = None) -> None:
    """/clip to `bot`. When the test freezes the bot right away, the ack may never come."""
    slack = SlackRequests(bot.events_url, SIGNING_SECRET, stage.sandbox)
    try:
        answer = await slack.slash_command(
            "/clip", "https://v.example.com/a.mp4", user_id=ALICE, channel_id=CHANNEL
        )
        assert answer.status_code == 200
    except httpx.ReadTimeout:
        if frozen is None or not frozen.is_set():
            raise
    finally:
        await slack.aclose()


def _keys(messages: list[Any]) -> list[str]:
    return [str(((m.metadata or {}).get("event_payload") or {}).get("key")) for m in messages]


@dataclass
class Takeover:
    job: Job
    survivor_log: str


async def _freeze_then_take_over(
    stage: Stage, arm: Callable[[Callable[[], None]], None], **first_env: str
) -> Takeover:
    """A replica takes /clip; `arm` installs a hook that freezes it (SIGSTOP) at the moment
    under test. A second replica starts, the first is killed (SIGKILL), and the second takes
    the job over when its lease runs out. `first_env` adds to the first replica's settings."""
    first = await stage.start("first", **FAST, **first_env)
    frozen = asyncio.Event()

    def freeze() -> None:
        first.freeze()
        frozen.set()

    arm(freeze)
    second: BotProcess | None = None
    try:
        await _clip(first, stage, frozen)
        async with asyncio.timeout(20):
            await frozen.wait()
        second = await stage.start("second", **FAST)
        await first.kill()
        job = await _settled_job(stage)
    finally:
        await first.kill()
        if second is not None:
            await second.stop()
    assert second is not None
    return Takeover(job, second.log())


async def test_a_replica_killed_between_the_create_answer_and_the_save_makes_one_create(
    stage: Stage,
) -> None:
    def arm(freeze: Callable[[], None]) -> None:
        def made(_: dict[str, Any]) -> None:
            # Vizard has made the project; the replica never hears its id.
            stage.vizard.on_create = None
            freeze()

        stage.vizard.on_create = made

    job = (await _freeze_then_take_over(stage, arm)).job
    assert len(stage.vizard.creates) == 1, "the create in flight was not sent again"
    assert job.state is JobState.FAILED
    assert job.error_kind is ErrorKind.CREATE_LOST
    [root] = stage.sandbox.roots(CHANNEL)
    shown = json.dumps(root.blocks)
    assert "Failed" in shown and "did not send it again" in shown
    assert "check your Vizard projects" in shown
    # No results: one reply saying so, mentioning the requester.
    async with asyncio.timeout(20):
        await stage.sandbox.wait_for(lambda: bool(stage.sandbox.thread(CHANNEL, root.ts)))
    [reply] = stage.sandbox.thread(CHANNEL, root.ts)
    assert reply.text.startswith(f"<@{ALICE}> Failed: ") and "did not send it again" in reply.text


async def test_a_replica_killed_between_a_thread_post_and_its_save_posts_it_once(
    stage: Stage,
) -> None:
    # The first clip reply is stored by Slack; the replica is stopped before the answer.
    def arm(freeze: Callable[[], None]) -> None:
        stage.sandbox.on_call(
            "chat.postMessage", freeze, when=lambda params, _: bool(params.get("thread_ts"))
        )

    takeover = await _freeze_then_take_over(stage, arm)
    assert takeover.job.state is JobState.DONE
    [root] = stage.sandbox.roots(CHANNEL)
    replies = stage.sandbox.thread(CHANNEL, root.ts)
    assert sorted(_keys(replies)) == ["out:0", "out:1", "out:2"], "each clip once"
    assert len({r.text for r in replies}) == 3
    assert "Done: 3 clips" in json.dumps(root.blocks)
    assert stage.sandbox.calls_to("conversations.replies"), "the survivor read the thread back"
    assert "was posted before" in takeover.survivor_log


async def test_a_replica_killed_between_the_root_post_and_its_save_posts_one_root(
    stage: Stage,
) -> None:
    def arm(freeze: Callable[[], None]) -> None:
        stage.sandbox.on_call(
            "chat.postMessage", freeze, when=lambda params, _: not params.get("thread_ts")
        )

    job = (await _freeze_then_take_over(stage, arm)).job
    [root] = stage.sandbox.roots(CHANNEL)
    assert root.ts == job.root_ts
    assert job.state is JobState.DONE
    assert len(stage.vizard.creates) == 1
    assert "Done: 3 clips" in json.dumps(root.blocks)
    assert sorted(_keys(stage.sandbox.thread(CHANNEL, root.ts))) == ["out:0", "out:1", "out:2"]
    assert stage.sandbox.calls_to("conversations.history"), "the survivor read the channel back"


async def test_posts_slack_answered_500_for_appear_once_whether_or_not_it_stored_them(
    stage: Stage,
) -> None:
    bot = await stage.start("only", **FAST)
    # The root message: Slack stores it, then answers 500. The first clip: a 500, not stored.
    stage.sandbox.fail_next(
        "chat.postMessage", error="internal_error", status=500, retry_after=None, after_commit=True
    )
    stage.sandbox.fail_next(
        "chat.postMessage", error="internal_error", status=500, retry_after=None
    )
    try:
        await _clip(bot, stage)
        job = await _settled_job(stage)
    finally:
        await bot.stop()
    [root] = stage.sandbox.roots(CHANNEL)
    assert root.ts == job.root_ts
    assert sorted(_keys(stage.sandbox.thread(CHANNEL, root.ts))) == ["out:0", "out:1", "out:2"]
    errors = [c.error for c in stage.sandbox.calls_to("chat.postMessage")]
    assert errors.count("internal_error") == 2
    assert len(errors) == 5, "the stored root was not posted again; the lost clip was"


async def test_a_replica_killed_after_reserving_a_clip_and_before_posting_it_posts_it_once(
    stage: Stage,
) -> None:
    # The window the first release lost a reply in: the reservation is stored, the post
    # never leaves. The replica talks to Redis through a proxy that stops it right there.
    flaky = FlakyRedis(stage.redis_url)
    await flaky.start()
    try:
        takeover = await _freeze_then_take_over(
            stage,
            lambda freeze: flaky.on_command(b'"out:1":{"state":"reserved"', freeze),
            REDIS_URL=flaky.url,
        )
    finally:
        await flaky.stop()
    job = takeover.job
    assert job.state is JobState.DONE
    [root] = stage.sandbox.roots(CHANNEL)
    assert sorted(_keys(stage.sandbox.thread(CHANNEL, root.ts))) == ["out:0", "out:1", "out:2"]
    posts = [c for c in stage.sandbox.calls_to("chat.postMessage") if c.params.get("thread_ts")]
    assert len(posts) == 3, "clip 2 was never sent before the crash, and once after"


async def test_a_reply_slack_stored_but_answered_500_for_appears_once(stage: Stage) -> None:
    bot = await stage.start("only", **FAST)
    try:
        await _clip(bot, stage)
        await _until(lambda: bool(stage.sandbox.roots(CHANNEL)))
        # The next post is the first clip: Slack stores it, then answers 500.
        stage.sandbox.fail_next(
            "chat.postMessage",
            error="internal_error",
            status=500,
            retry_after=None,
            after_commit=True,
        )
        job = await _settled_job(stage)
    finally:
        await bot.stop()
    [root] = stage.sandbox.roots(CHANNEL)
    assert root.ts == job.root_ts
    replies = stage.sandbox.thread(CHANNEL, root.ts)
    assert sorted(_keys(replies)) == ["out:0", "out:1", "out:2"]
    stored_500 = [c for c in stage.sandbox.calls_to("chat.postMessage") if c.error]
    assert len(stored_500) == 1 and stored_500[0].committed and stored_500[0].params["thread_ts"]
