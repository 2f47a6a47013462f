"""Whole processes: secrets never reach a log line; many replicas post every clip exactly once."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Callable

import pytest

from bot.jobs import Job, JobState
from bot.sandbox import Message, SlackRequests, SlackSandbox
from bot.store import RedisJobStore
from providers.base import ErrorKind
from tests.e2e.conftest import ALICE, CHANNEL
from tests.e2e.processes import BOT_TOKEN, SIGNING_SECRET, VIZARD_KEY, Stage, start_bot


async def _settled(sandbox: SlackSandbox, roots: int, clips_each: int, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = sandbox.roots(CHANNEL)
        if (
            len(found) >= roots
            and all(
                "Done" in json.dumps(r.blocks) or "Failed" in json.dumps(r.blocks) for r in found
            )
            and sum(len(sandbox.thread(CHANNEL, r.ts)) for r in found) >= roots * clips_each
        ):
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"not settled within {seconds} s: {len(sandbox.roots(CHANNEL))} roots")


async def test_known_secrets_never_appear_in_any_log_line_or_slack_post(stage: Stage) -> None:
    sandbox, vizard = stage.sandbox, stage.vizard
    bot = await start_bot(stage.env(LOG_LEVEL="DEBUG"), stage.logs / "bot.log")
    try:
        slack = SlackRequests(bot.events_url, SIGNING_SECRET, sandbox)
        await slack.slash_command(
            "/clip", "https://v.example.com/talk.mp4", user_id=ALICE, channel_id=CHANNEL
        )
        await slack.slash_command(
            "/clip", "ftp://v.example.com/talk.mp4", user_id=ALICE, channel_id=CHANNEL
        )
        forged = await slack.post(
            b"command=/clip&text=x", "application/x-www-form-urlencoded", signature="v0=" + "1" * 64
        )
        assert forged.status_code == 401
        vizard.inject("query", "http500", times=2)
        await _settled(sandbox, roots=1, clips_each=3, seconds=30)
        vizard.inject("create", "code", code=4001)
        await slack.slash_command(
            "/clip", "https://v.example.com/other.mp4", user_id=ALICE, channel_id=CHANNEL
        )
        await _settled(sandbox, roots=2, clips_each=0, seconds=30)
    finally:
        await bot.stop()
    log = bot.log()
    assert "DEBUG" in log, "the bot logged at DEBUG, so the check saw everything"
    posted = json.dumps([(m.text, m.blocks) for m in sandbox.messages(CHANNEL)])
    posted += json.dumps([(e.text, e.blocks) for e in sandbox.ephemerals])
    for secret in (BOT_TOKEN, SIGNING_SECRET, VIZARD_KEY):
        assert secret not in log
        assert secret not in posted


@pytest.mark.slow
async def test_json_logs_are_one_object_a_line_about_the_job_and_never_a_secret(
    stage: Stage,
) -> None:
    bot = await start_bot(stage.env(LOG_FORMAT="json"), stage.logs / "bot.log")
    try:
        slack = SlackRequests(bot.events_url, SIGNING_SECRET, stage.sandbox)
        await slack.slash_command(
            "/clip", "https://v.example.com/talk.mp4", user_id=ALICE, channel_id=CHANNEL
        )
        await _settled(stage.sandbox, roots=1, clips_each=3, seconds=30)
    finally:
        await bot.stop()
    log = bot.log()
    lines = [json.loads(line) for line in log.splitlines() if line.strip()]
    assert lines and all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    about = [line for line in lines if "job" in line]
    assert any(line["state"] == "done" and line["provider"] == "vizard" for line in about), lines
    assert len({line["job"] for line in about}) == 1 and all(line["team"] for line in about)
    for secret in (BOT_TOKEN, SIGNING_SECRET, VIZARD_KEY):
        assert secret not in log


async def test_two_replicas_one_killed_halfway_post_every_result_exactly_once(
    stage: Stage,
) -> None:
    sandbox, vizard = stage.sandbox, stage.vizard
    # Slack's per-channel limit, on: the replicas pace their posts to it across both.
    sandbox.post_rate_per_channel = 25.0
    sandbox.post_burst = 5
    env = {"JOB_LEASE_SECONDS": "4", "SLACK_CHANNEL_POSTS_PER_SECOND": "25"}
    bots = [await stage.start(f"bot{n}", **env) for n in (1, 2)]
    jobs = 200
    store = stage.store()
    try:
        senders = [SlackRequests(b.events_url, SIGNING_SECRET, sandbox) for b in bots]
        gate = asyncio.Semaphore(16)

        async def send(n: int) -> int:
            async with gate:
                answer = await senders[n % 2].slash_command(
                    "/clip",
                    f"https://v.example.com/talk-{n}.mp4 name=job-{n}",
                    user_id=f"U{n:05d}",
                    channel_id=CHANNEL,
                )
                return answer.status_code

        statuses = await asyncio.gather(*(send(n) for n in range(jobs)))
        assert Counter(statuses) == {200: jobs}
        # Halfway through the posts (a root and three clips a job), one replica dies.
        await _until(lambda: len(sandbox.messages(CHANNEL)) >= jobs * 4 // 2, 120)
        await bots[0].kill()
        found = await _all_settled(store, [f"U{n:05d}" for n in range(jobs)], seconds=240)
    finally:
        for bot in bots:
            await bot.stop()
        await store.close()

    roots = Counter(_post_of(m)[0] for m in sandbox.roots(CHANNEL))
    assert roots == Counter({job.id: 1 for job in found}), "one root message per job"
    creates = Counter(c["projectName"] for c in vizard.creates)
    assert set(creates.values()) == {1}, "never two Vizard projects for one request"
    lost = [j for j in found if j.state is JobState.FAILED]
    assert all(j.error_kind is ErrorKind.CREATE_LOST for j in lost), [j.error for j in lost]
    assert len(lost) < 20, "only creates in flight at the kill are given up"
    assert len(creates) >= jobs - len(lost)
    for job in found:
        replies = sandbox.thread(CHANNEL, str(job.root_ts))
        keys = Counter(_post_of(r) for r in replies)
        if job.state is JobState.DONE:
            assert keys == Counter({(job.id, f"out:{n}"): 1 for n in range(3)}), job.id
            assert "Done: 3 clips" in json.dumps(sandbox.message(CHANNEL, str(job.root_ts)).blocks)
        else:
            assert keys == Counter(), job.id
    limited = [c for c in sandbox.calls_to("chat.postMessage") if c.error == "ratelimited"]
    print(
        f"{jobs} jobs: {jobs - len(lost)} done, {len(lost)} given up as create-in-flight, "
        f"{len(vizard.creates)} creates, {len(limited)} posts answered 429"
    )
    killed, survivor = (b.log() for b in bots)
    assert "submitted to vizard" in killed, "the killed replica had taken its share"
    assert "submitted to vizard" in survivor


def _post_of(message: Message) -> tuple[str, str]:
    payload = (message.metadata or {}).get("event_payload") or {}
    return str(payload.get("job")), str(payload.get("key"))


async def _all_settled(store: RedisJobStore, users: list[str], seconds: float) -> list[Job]:
    deadline = time.monotonic() + seconds
    while True:
        found = [job for user in users for job in await store.recent_for_user(user, 5)]
        if len(found) == len(users) and all(j.settled for j in found):
            return found
        if time.monotonic() > deadline:
            waiting = [j.id for j in found if not j.settled]
            raise AssertionError(f"{len(found)} jobs, not settled: {waiting[:5]}")
        await asyncio.sleep(0.5)


async def test_sigterm_lets_the_clip_posts_in_flight_finish(stage: Stage) -> None:
    sandbox = stage.sandbox
    bot = await start_bot(stage.env(), stage.logs / "bot.log")
    try:
        slack = SlackRequests(bot.events_url, SIGNING_SECRET, sandbox)
        await slack.slash_command(
            "/clip", "https://v.example.com/talk.mp4", user_id=ALICE, channel_id=CHANNEL
        )
        await _until(lambda: bool(sandbox.roots(CHANNEL)))
        sandbox.fail_next("chat.postMessage", error="ratelimited", status=429, retry_after=2)
        await _until(lambda: any(c.error for c in sandbox.calls_to("chat.postMessage")))
        bot.process.terminate()
        assert await asyncio.wait_for(bot.process.wait(), 30) == 0
    finally:
        await bot.stop()
    [root] = sandbox.roots(CHANNEL)
    assert len(sandbox.thread(CHANNEL, root.ts)) == 3
    assert "Done: 3 clips" in json.dumps(root.blocks)


async def _until(check: Callable[[], bool], seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {seconds} s")
        await asyncio.sleep(0.05)
