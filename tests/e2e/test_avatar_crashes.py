"""Real `reelbot run` processes with the avatar providers: a replica frozen (SIGSTOP) and
killed (SIGKILL) after HeyGen accepted its create and before it saved the answer (the next
replica sends the same Idempotency-Key and the job ends with one video), and no avatar
secret in any log line or Slack post."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest_asyncio

from bot.jobs import Job, JobState
from bot.sandbox import SlackRequests
from providers.simulators.aistudios import AIStudiosSimulator
from providers.simulators.heygen import HeyGenSimulator
from providers.simulators.viddyscribe import ViddyScribeSimulator
from tests.conftest import free_port
from tests.e2e.conftest import ALICE, CHANNEL
from tests.e2e.processes import SIGNING_SECRET, BotProcess, Stage

TYLER = "Tyler-incasualsuit-20220721"
HEYGEN_KEY = "known-heygen-key-3e7f1a"


@pytest_asyncio.fixture
async def heygen() -> AsyncIterator[HeyGenSimulator]:
    simulator = HeyGenSimulator(HEYGEN_KEY, render_seconds=0.5)
    await simulator.start()
    yield simulator
    await simulator.stop()


async def _settled(stage: Stage, seconds: float = 40.0) -> Job:
    store = stage.store()
    try:
        deadline = time.monotonic() + seconds
        jobs: list[Job] = []
        while time.monotonic() < deadline:
            jobs = await store.recent_for_user(ALICE, 5)
            if len(jobs) == 1 and jobs[0].settled:
                return jobs[0]
            await asyncio.sleep(0.2)
        raise AssertionError(f"not settled within {seconds} s: {jobs}")
    finally:
        await store.close()


async def _avatar(bot: BotProcess, stage: Stage, frozen: asyncio.Event) -> None:
    slack = SlackRequests(bot.events_url, SIGNING_SECRET, stage.sandbox)
    try:
        answer = await slack.slash_command(
            "/avatar", "Welcome to the launch.", user_id=ALICE, channel_id=CHANNEL
        )
        assert answer.status_code == 200
    except httpx.ReadTimeout:
        if not frozen.is_set():
            raise
    finally:
        await slack.aclose()


async def test_a_replica_killed_after_heygen_accepted_the_create_ends_with_one_video(
    stage: Stage, heygen: HeyGenSimulator
) -> None:
    env = {
        "JOB_LEASE_SECONDS": "3",
        "HEYGEN_API_KEY": HEYGEN_KEY,
        "HEYGEN_BASE_URL": heygen.base_url,
        "HEYGEN_DEFAULT_AVATAR_ID": TYLER,
    }
    first = await stage.start("first", **env)
    frozen = asyncio.Event()

    def made(_: dict[str, Any]) -> None:
        # HeyGen has made the video; the replica never hears its id.
        heygen.on_create = None
        first.freeze()
        frozen.set()

    heygen.on_create = made
    second: BotProcess | None = None
    try:
        await _avatar(first, stage, frozen)
        async with asyncio.timeout(20):
            await frozen.wait()
        second = await stage.start("second", **env)
        await first.kill()
        job = await _settled(stage)
    finally:
        await first.kill()
        if second is not None:
            await second.stop()
    assert job.state is JobState.DONE, job.error
    assert len(heygen.creates) == 1, "one HeyGen video for one request"
    assert heygen.create_attempts == 2, "the survivor sent the create again"
    assert heygen.create_keys == [job.id, job.id], "with the same Idempotency-Key"
    assert job.provider_ref in heygen.jobs
    [root] = stage.sandbox.roots(CHANNEL)
    assert "Done: 1 video" in json.dumps(root.blocks)
    assert len(stage.sandbox.thread(CHANNEL, root.ts)) == 1, "the video, once"


async def test_avatar_secrets_never_appear_in_any_log_line_or_slack_post(
    stage: Stage, heygen: HeyGenSimulator
) -> None:
    studio = AIStudiosSimulator("known-app-id", "known-aistudios-user-key-77", render_seconds=0.5)
    await studio.start()
    scribe = ViddyScribeSimulator("vsk_known-viddyscribe-key-31", render_seconds=0.5)
    await scribe.start()
    webhook_secret = "whsec_known-heygen-webhook-secret"
    port = free_port()
    env = {
        "LOG_LEVEL": "DEBUG",
        # Creates carry the jobs' own callback URLs, and the simulators call them.
        "PORT": str(port),
        "REELBOT_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "HEYGEN_API_KEY": HEYGEN_KEY,
        "HEYGEN_BASE_URL": heygen.base_url,
        "HEYGEN_DEFAULT_AVATAR_ID": TYLER,
        "HEYGEN_WEBHOOK_SECRET": webhook_secret,
        "AISTUDIOS_APP_ID": studio.app_id,
        "AISTUDIOS_USER_KEY": studio.user_key,
        "AISTUDIOS_BASE_URL": studio.base_url,
        "AISTUDIOS_DEFAULT_MODEL_ID": "M000045058",
        "AISTUDIOS_DEFAULT_CLOTHES_ID": "BG00002320",
        "VIDDYSCRIBE_API_KEY": scribe.api_key,
        "VIDDYSCRIBE_BASE_URL": scribe.base_url,
    }
    bot = await stage.start("secrets", **env)
    try:
        slack = SlackRequests(bot.events_url, SIGNING_SECRET, stage.sandbox)
        for text in ("Hello from HeyGen.", "provider=aistudios Hello from AI Studios."):
            await slack.slash_command("/avatar", text, user_id=ALICE, channel_id=CHANNEL)
        await slack.slash_command(
            "/describe", "https://v.example.com/talk.mp4", user_id=ALICE, channel_id=CHANNEL
        )
        heygen.inject("create", "error", code="unauthorized")
        await slack.slash_command("/avatar", "Refused.", user_id=ALICE, channel_id=CHANNEL)
        await slack.aclose()
        store = stage.store()
        try:
            deadline = time.monotonic() + 40
            while time.monotonic() < deadline:
                jobs = await store.recent_for_user(ALICE, 5)
                if len(jobs) == 4 and all(j.settled for j in jobs):
                    break
                await asyncio.sleep(0.2)
        finally:
            await store.close()
    finally:
        await bot.stop()
        await studio.stop()
        await scribe.stop()
    assert sorted(j.state.value for j in jobs) == ["done", "done", "done", "failed"]
    log = bot.log()
    assert "DEBUG" in log
    posted = json.dumps([(m.text, m.blocks) for m in stage.sandbox.messages(CHANNEL)])
    posted += json.dumps([(e.text, e.blocks) for e in stage.sandbox.ephemerals])
    assert studio.tokens, "an AI Studios token was issued"
    assert studio.webhooks and heygen.deliveries, "both called the jobs' callback URLs"
    known = [HEYGEN_KEY, webhook_secret, studio.user_key, *studio.tokens, scribe.api_key]
    known += [j.webhook_token for j in jobs]
    for secret in known:
        assert secret not in log
        assert secret not in posted
