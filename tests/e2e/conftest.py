"""A whole stack on loopback: Slack sandbox, Vizard simulator, real Redis, the bot over HTTP."""

from __future__ import annotations

import asyncio
import inspect
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest_asyncio

from bot.demo import loopback_settings
from bot.jobs import Job
from bot.runtime import Runtime
from bot.sandbox import SlackRequests, SlackSandbox
from providers.simulators.aistudios import AIStudiosSimulator
from providers.simulators.cuttr import CuttrSimulator
from providers.simulators.heygen import HeyGenSimulator
from providers.simulators.viddyscribe import ViddyScribeSimulator
from providers.simulators.vizard import VizardSimulator
from tests.e2e.processes import BOT_TOKEN, VIZARD_KEY, Stage

CHANNEL = "C0GENERAL"
ALICE = "U0ALICE"
BOB = "U0BOB"


class Clock:
    """Real time plus an offset the test can advance, for rate windows and backoff."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


@dataclass
class Stack:
    sandbox: SlackSandbox
    vizard: VizardSimulator
    runtime: Runtime
    slack: SlackRequests
    signing_secret: str
    clock: Clock
    heygen: HeyGenSimulator | None = None
    aistudios: AIStudiosSimulator | None = None
    viddyscribe: ViddyScribeSimulator | None = None
    cuttr: CuttrSimulator | None = None

    async def jobs(self, user: str = ALICE) -> list[Job]:
        return await self.runtime.store.recent_for_user(user, 50)

    async def wait_for(
        self, check: Callable[[], Awaitable[bool] | bool], seconds: float = 20.0
    ) -> None:
        """Until `check` (a plain or an async predicate) holds."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            answer = check()
            if await answer if inspect.isawaitable(answer) else answer:
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"condition not met within {seconds} s")

    async def wait_until_delivered(self, user: str = ALICE, seconds: float = 30.0) -> list[Job]:
        """Until every job is settled and Slack owes nothing more (result files too)."""

        async def delivered() -> bool:
            jobs = await self.jobs(user)
            notifier = self.runtime.notifier
            return bool(jobs) and all(j.settled and not notifier.needs_slack(j) for j in jobs)

        await self.wait_for(delivered, seconds)
        return await self.jobs(user)

    async def wait_until_settled(self, user: str = ALICE, seconds: float = 20.0) -> list[Job]:
        async def settled() -> bool:
            jobs = await self.jobs(user)
            return bool(jobs) and all(j.settled for j in jobs)

        await self.wait_for(settled, seconds)
        return await self.jobs(user)


StackFactory = Callable[..., Awaitable[Stack]]


@pytest_asyncio.fixture
async def make_stack(redis_url: str, redis_prefix: str) -> AsyncIterator[StackFactory]:
    """Builds stacks; keyword arguments override settings (e.g. vizard_per_minute=1)."""
    cleanups: list[Callable[[], Awaitable[None]]] = []

    async def build(
        *,
        heygen: bool = False,
        aistudios: bool = False,
        viddyscribe: bool = False,
        cuttr: bool = False,
        vizard_fetches: bool = False,
        **overrides: Any,
    ) -> Stack:
        """`heygen`, `aistudios` and `viddyscribe` add those simulators (and configure the
        providers)."""
        sandbox = SlackSandbox()
        vizard = VizardSimulator(
            clips_per_job=3, render_seconds=0.3, per_minute=1000, per_hour=10000,
            fetch_videos=vizard_fetches,
        )  # fmt: skip
        await sandbox.start()
        cleanups.append(sandbox.stop)
        await vizard.start()
        cleanups.append(vizard.stop)
        hey = HeyGenSimulator(render_seconds=0.6) if heygen else None
        studio = AIStudiosSimulator(render_seconds=0.8) if aistudios else None
        scribe = ViddyScribeSimulator(render_seconds=0.6) if viddyscribe else None
        cut = CuttrSimulator(render_seconds=0.6) if cuttr else None
        for simulator in (hey, studio, scribe, cut):
            if simulator is not None:
                await simulator.start()
                cleanups.append(simulator.stop)
        secret = secrets.token_hex(16)
        clock = Clock()
        fast = {"poll_tick_seconds": 0.2, "poll_min_seconds": 0.2, "poll_max_seconds": 0.5}
        settings = loopback_settings(
            sandbox,
            vizard,
            secret,
            heygen=hey,
            aistudios=studio,
            viddyscribe=scribe,
            cuttr=cut,
            **{"redis_url": redis_url, "key_prefix": redis_prefix, **fast, **overrides},
        )
        runtime = Runtime(settings, clock=clock)
        port = await runtime.start("127.0.0.1", settings.port if "port" in overrides else 0)
        cleanups.append(runtime.stop)
        slack = SlackRequests(f"http://127.0.0.1:{port}/slack/events", secret, sandbox)
        return Stack(sandbox, vizard, runtime, slack, secret, clock, hey, studio, scribe, cut)

    yield build
    for cleanup in reversed(cleanups):
        await cleanup()


@pytest_asyncio.fixture
async def stack(make_stack: StackFactory) -> Stack:
    return await make_stack()


@pytest_asyncio.fixture
async def stage(redis_url: str, redis_prefix: str, tmp_path: Path) -> AsyncIterator[Stage]:
    """A sandbox and a simulator here, for `reelbot run` processes on one Redis."""
    sandbox = SlackSandbox(bot_token=BOT_TOKEN)
    vizard = VizardSimulator(
        VIZARD_KEY, clips_per_job=3, render_seconds=0.4, per_minute=100_000, per_hour=1_000_000
    )
    await sandbox.start()
    await vizard.start()
    yield Stage(sandbox, vizard, redis_url, redis_prefix, tmp_path)
    await vizard.stop()
    await sandbox.stop()
