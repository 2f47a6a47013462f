"""A replica that stalls past its lease and then comes back (a VM pause, a long GC, a SIGSTOP
followed by SIGCONT) must not undo or repeat what the job's new holder did.

Two holders, A and B, share one real Redis, the Slack sandbox and the Vizard simulator, all
over HTTP. A is "stalled" by holding back an answer it waits for (the simulator's delayed
answer, or the sandbox holding a post's answer) until its lease has run out and B has taken
the job over; then A hears back and carries on as a stalled replica would.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest_asyncio
from slack_sdk.web.async_client import AsyncWebClient

from bot import ids
from bot.creates import Timing
from bot.jobs import Job, JobState
from bot.notify import Notifier
from bot.runner import JobRunner
from bot.sandbox import Message, SlackSandbox
from bot.store import RedisJobStore
from providers.base import JobKind, dump_request
from providers.simulators.vizard import VizardSimulator
from providers.vizard import VizardProvider, VizardRequest

CHANNEL = "C0GENERAL"
ALICE = "U0ALICE"
LEASE = 0.6


@dataclass
class Holder:
    name: str
    store: RedisJobStore
    runner: JobRunner
    serial: int = 0

    async def turn(self, job_id: str) -> tuple[Job | None, str]:
        """Claim the job (None when someone holds it), for one turn under a fresh owner."""
        self.serial += 1
        owner = f"{self.name}:{self.serial}"
        return await self.store.claim(job_id, time.time(), LEASE, owner), owner


@dataclass
class World:
    sandbox: SlackSandbox
    vizard: VizardSimulator
    store: RedisJobStore
    a: Holder
    b: Holder

    async def new_job(self) -> Job:
        request = VizardRequest(
            video_url="https://v.example.com/a.mp4",
            video_type=1,
            ext="mp4",
            lang="en",
            prefer_length=[0],
        )
        now = time.time()
        job = Job(
            kind=JobKind.CLIPS,
            provider="vizard",
            channel_id=CHANNEL,
            user_id=ALICE,
            source=request.video_url,
            request=dump_request(request),
            next_run_at=now,
            created_at=now,
        )
        return await self.store.add(job)

    async def run(self, holder: Holder, job_id: str) -> None:
        job, owner = await holder.turn(job_id)
        assert job is not None, f"{holder.name} could not claim the job"
        await holder.runner.run(job, owner)

    def thread_keys(self, job: Job) -> list[str]:
        return sorted(_key(m) for m in self.sandbox.thread(CHANNEL, str(job.root_ts)))


def _key(message: Message) -> str:
    return str(((message.metadata or {}).get("event_payload") or {}).get("key"))


@pytest_asyncio.fixture
async def world(redis_url: str, redis_prefix: str) -> AsyncIterator[World]:
    sandbox = SlackSandbox()
    vizard = VizardSimulator(render_seconds=0.2, per_minute=10**6, per_hour=10**6)
    await sandbox.start()
    await vizard.start()
    store = RedisJobStore.from_url(redis_url, redis_prefix)
    providers: list[VizardProvider] = []

    def holder(name: str) -> Holder:
        provider = VizardProvider(vizard.api_key, vizard.base_url, timeout=10)
        providers.append(provider)
        client = AsyncWebClient(token=sandbox.bot_token, base_url=sandbox.api_url)
        notifier = Notifier(client, store, {"vizard": "Vizard"}, posts_per_second=100)
        timing = Timing(poll_min=0.05, poll_max=0.1, retry_min=0.05, retry_max=0.1, lease=LEASE)
        return Holder(name, store, JobRunner(store, {"vizard": provider}, notifier, timing=timing))

    yield World(sandbox, vizard, store, holder("A"), holder("B"))
    for provider in providers:
        await provider.aclose()
    await store.close()
    await vizard.stop()
    await sandbox.stop()


async def _until_due(world: World, job_id: str) -> None:
    """Until the job's next poll is due, and Vizard has finished rendering by then."""
    await asyncio.sleep(world.vizard.render_seconds)
    async with asyncio.timeout(10):
        while True:
            job = await world.store.get(job_id)
            if job is not None and (job.next_run_at or 0) <= time.time():
                return
            await asyncio.sleep(0.02)


async def test_a_stalled_poll_that_comes_back_never_turns_the_root_message_back(
    world: World,
) -> None:
    job = await world.new_job()
    await world.run(world.a, job.id)  # root message and the create
    await _until_due(world, job.id)
    # A's next poll is answered late (A stalls), long past its lease.
    world.vizard.inject("query", "timeout", delay=2.0)
    claimed, owner = await world.a.turn(job.id)
    assert claimed is not None
    stalled = asyncio.create_task(world.a.runner.run(claimed, owner))
    await asyncio.sleep(LEASE + 0.3)
    # B takes over; its own poll is slow too, so A hears back first, while B holds the job
    # and has not written anything yet: only the lease fences A off.
    world.vizard.inject("query", "timeout", delay=1.5)
    b_turn = asyncio.create_task(world.run(world.b, job.id))
    assert await stalled is None, "A gave up its turn"
    untouched = await world.store.get(job.id)
    assert untouched is not None and untouched.state is claimed.state, "A wrote nothing"
    assert world.sandbox.calls_to("chat.postMessage")[1:] == [], "A posted nothing"
    await b_turn
    done = await world.store.get(job.id)
    assert done is not None and done.state is JobState.DONE and done.settled
    updates = len(world.sandbox.calls_to("chat.update"))
    posts = len(world.sandbox.calls_to("chat.postMessage"))
    root = world.sandbox.message(CHANNEL, str(done.root_ts))
    assert "Done: 3 clips" in json.dumps(root.blocks)
    assert ids.CANCEL_ACTION not in json.dumps(root.blocks)
    assert len(world.sandbox.calls_to("chat.update")) == updates, "A sent no update"
    assert len(world.sandbox.calls_to("chat.postMessage")) == posts, "A posted nothing"
    assert await world.store.get(job.id) == done


async def test_a_post_whose_answer_came_after_the_takeover_appears_once(world: World) -> None:
    job = await world.new_job()
    await world.run(world.a, job.id)
    await _until_due(world, job.id)
    resume = asyncio.Event()
    # Slack stores A's first clip; A hears back only once B has taken the job over.
    world.sandbox.on_call(
        "chat.postMessage", resume.wait, when=lambda params, _: bool(params.get("thread_ts"))
    )
    claimed, owner = await world.a.turn(job.id)
    assert claimed is not None
    stalled = asyncio.create_task(world.a.runner.run(claimed, owner))
    await asyncio.sleep(LEASE + 0.3)
    await world.run(world.b, job.id)
    resume.set()
    assert await stalled is None
    done = await world.store.get(job.id)
    assert done is not None and done.settled
    assert world.thread_keys(done) == ["out:0", "out:1", "out:2"]
    assert world.sandbox.deleted == [], "B adopted A's post: nothing to withdraw"


async def test_a_stalled_holder_whose_post_lands_after_the_new_holders_withdraws_it(
    world: World,
) -> None:
    job = await world.new_job()
    await world.run(world.a, job.id)
    await _until_due(world, job.id)
    resume = asyncio.Event()
    # A's first clip is still on its way to Slack when B takes over, finds no such post and
    # posts its own; A's copy lands afterwards.
    world.sandbox.hold_before(
        "chat.postMessage", resume, when=lambda params: bool(params.get("thread_ts"))
    )
    claimed, owner = await world.a.turn(job.id)
    assert claimed is not None
    stalled = asyncio.create_task(world.a.runner.run(claimed, owner))
    await asyncio.sleep(LEASE + 0.3)
    await world.run(world.b, job.id)
    resume.set()
    assert await stalled is None
    done = await world.store.get(job.id)
    assert done is not None and done.settled
    assert world.thread_keys(done) == ["out:0", "out:1", "out:2"], "one copy of each"
    assert [_key(m) for m in world.sandbox.deleted] == ["out:0"], "A withdrew its late copy"
