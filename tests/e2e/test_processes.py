"""Whole processes: secrets never reach a log line; many replicas post every clip exactly once."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio

from bot.sandbox import SlackRequests, SlackSandbox
from providers.simulators.vizard import VizardSimulator
from tests.e2e.conftest import ALICE, CHANNEL
from tests.e2e.processes import bot_env, start_bot

BOT_TOKEN = "xoxb-1111111111-2222222222-KnownBotTokenValue42"
SIGNING_SECRET = "known-signing-secret-5f2a9c0d7e"
VIZARD_KEY = "known-vizard-key-8c1b7e93aa"


@dataclass
class Stage:
    """A Slack sandbox and a Vizard simulator in this process, and the environment that points
    `reelbot run` processes at them and at one Redis."""

    sandbox: SlackSandbox
    vizard: VizardSimulator
    redis_url: str
    prefix: str
    logs: Path

    def env(self, **extra: str) -> dict[str, str]:
        return bot_env(
            SLACK_BOT_TOKEN=BOT_TOKEN,
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            SLACK_API_URL=self.sandbox.api_url,
            VIZARD_API_KEY=VIZARD_KEY,
            VIZARD_BASE_URL=self.vizard.base_url,
            REDIS_URL=self.redis_url,
            REELBOT_KEY_PREFIX=self.prefix,
            POLL_TICK_SECONDS="0.2",
            POLL_MIN_SECONDS="0.3",
            POLL_MAX_SECONDS="1",
            VIZARD_PER_MINUTE="100000",
            VIZARD_PER_HOUR="1000000",
            **extra,
        )


@pytest_asyncio.fixture
async def stage(redis_url: str, redis_prefix: str, tmp_path: Path) -> AsyncIterator[Stage]:
    sandbox = SlackSandbox(bot_token=BOT_TOKEN)
    vizard = VizardSimulator(
        VIZARD_KEY, clips_per_job=3, render_seconds=0.4, per_minute=100_000, per_hour=1_000_000
    )
    await sandbox.start()
    await vizard.start()
    yield Stage(sandbox, vizard, redis_url, redis_prefix, tmp_path)
    await vizard.stop()
    await sandbox.stop()


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
async def test_two_pollers_on_one_redis_post_every_clip_exactly_once(stage: Stage) -> None:
    sandbox, vizard = stage.sandbox, stage.vizard
    bots = [await start_bot(stage.env(), stage.logs / f"bot{n}.log") for n in (1, 2)]
    jobs = 200
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
        await _settled(sandbox, roots=jobs, clips_each=3, seconds=240)
    finally:
        for bot in bots:
            await bot.stop()
    roots = sandbox.roots(CHANNEL)
    assert len(roots) == jobs
    assert len(vizard.creates) == jobs, "exactly one Vizard create per command"
    posted: Counter[tuple[str, str]] = Counter()
    for root in roots:
        replies = sandbox.thread(CHANNEL, root.ts)
        assert len(replies) == 3
        for reply in replies:
            posted[(root.ts, reply.text)] += 1
    assert len(posted) == jobs * 3
    assert set(posted.values()) == {1}
    assert all("Done: 3 clips" in json.dumps(r.blocks) for r in roots)
    both = [b.log() for b in bots]
    assert all("submitted to vizard" in log for log in both), "both replicas did work"


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
