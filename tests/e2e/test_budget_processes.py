"""A monthly budget held by two `reelbot run` processes on one Redis: twelve priced Cuttr
requests confirmed at once across both, and the total charged never passes the limit."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest_asyncio

from bot import ids
from bot.jobs import Job, JobState
from bot.sandbox import SlackRequests
from providers.base import ErrorKind
from providers.simulators.cuttr import CuttrSimulator
from tests.e2e.conftest import CHANNEL
from tests.e2e.processes import SIGNING_SECRET, Stage

KEY = "cuttr_live_budget_91ac"
BUDGET = 1500  # five requests of two clips at $1.50


@pytest_asyncio.fixture
async def cuttr() -> AsyncIterator[CuttrSimulator]:
    simulator = CuttrSimulator(KEY, wallet_cents=100_000, render_seconds=0.3, per_minute=10_000)
    await simulator.start()
    yield simulator
    await simulator.stop()


async def _jobs(stage: Stage, users: list[str], want: int, seconds: float) -> list[Job]:
    store = stage.store()
    try:
        deadline = time.monotonic() + seconds
        while True:
            found = [j for u in users for j in await store.recent_for_user(u, 5)]
            if len(found) == want and all(j.root_ts for j in found):
                return found
            assert time.monotonic() < deadline, f"{len(found)} of {want} jobs posted"
            await asyncio.sleep(0.2)
    finally:
        await store.close()


async def test_two_processes_never_spend_past_the_monthly_budget(
    stage: Stage, cuttr: CuttrSimulator
) -> None:
    env = {
        "CUTTR_API_KEY": KEY,
        "CUTTR_BASE_URL": cuttr.base_url,
        "CUTTR_PER_MINUTE": "10000",
        "BUDGET_MONTHLY_CENTS": str(BUDGET),
        "CLIP_DEFAULT_PROVIDER": "cuttr",
        # Two jobs at a time per process, so that both processes take a share.
        "POLL_PER_PROVIDER": "2",
    }
    bots = [await stage.start(f"bot{n}", **env) for n in (1, 2)]
    users = [f"U{n:05d}" for n in range(12)]
    try:
        senders = [SlackRequests(b.events_url, SIGNING_SECRET, stage.sandbox) for b in bots]
        await asyncio.gather(
            *(
                senders[n % 2].slash_command(
                    "/clip", f"https://v.example.com/{n}.mp4 clips=2", user_id=user,
                    channel_id=CHANNEL,
                )
                for n, user in enumerate(users)
            )
        )  # fmt: skip
        waiting = await _jobs(stage, users, 12, seconds=60)
        # Each create takes half a second, so that one process (two turns at a time) cannot
        # take every job before the other looks: both race for the budget.
        cuttr.inject("create", "timeout", delay=0.5, times=12)
        assert all(j.state is JobState.AWAITING_CONFIRMATION for j in waiting)
        # Every requester confirms at once, half through each process, twice each.
        await asyncio.gather(
            *(
                senders[(n + twice) % 2].block_action(
                    ids.CONFIRM_ACTION, job.id, user_id=job.user_id, channel_id=CHANNEL,
                    message_ts=str(job.root_ts),
                )
                for n, job in enumerate(waiting)
                for twice in (0, 1)
            )
        )  # fmt: skip
        deadline = time.monotonic() + 90
        while True:
            found = await _jobs(stage, users, 12, seconds=10)
            if all(j.settled for j in found):
                break
            assert time.monotonic() < deadline, [j.state for j in found]
            await asyncio.sleep(0.3)
    finally:
        for bot in bots:
            await bot.stop()

    done = [j for j in found if j.state is JobState.DONE]
    refused = [j for j in found if j.error_kind is ErrorKind.OVER_BUDGET]
    served = [b.log().count("submitted to cuttr") + b.log().count("over budget") for b in bots]
    print(
        f"12 requests: {len(done)} done, {len(refused)} over budget, {cuttr.charged_cents} c "
        f"charged; reserved by process: {served}"
    )
    assert cuttr.charged_cents <= BUDGET, "never past the budget"
    assert cuttr.charged_cents == len(cuttr.creates) * 300 == len(done) * 300
    assert len(done) == 5 and len(refused) == 7, "the budget is used, not left idle"
    assert all("left of its $15.00 monthly budget" in str(j.error) for j in refused)
    assert all(served), f"both processes reserved: {served}"
