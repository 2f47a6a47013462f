"""The poller against a Vizard simulator: polls per second per replica, and polls on time.

Two measurements, side by side in one run, all on loopback (Redis and the simulator each in a
process of their own, the bot's poller in this one):

  throughput  N jobs at Vizard, all due: polls per second of one replica, with the previous
              poller's loop (a claim of 8 at a time, at most 20 claims a 5 s tick) over a
              fixed window, and with the worker pool at several concurrencies until every
              job was polled once.
  on time     M jobs with a 1 s poll cap and a 5 s tick, for a fixed window: the median time
              between one job's polls, over the cap (1.00x: every poll when it is due).

Read the ratios: absolute rates depend on this shared machine. The script exits 1 when a
check fails: every job still rendering, no job polled more often than its cap allows, and
the polls counted in the store equal the polls made.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import multiprocessing
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection

import httpx
import redis.asyncio

from bot import blocks
from bot.creates import Timing
from bot.jobs import ROOT, Delivery, DeliveryState, Job, JobState
from bot.notify import Notifier
from bot.poller import Poller
from bot.runner import JobRunner
from bot.sandbox import SlackSandbox
from bot.sandbox.local_redis import redis_server
from bot.store.redis import RedisJobStore
from providers.base import JobKind, Provider, Status, dump_request
from providers.simulators.vizard import VizardSimulator
from providers.vizard import VizardProvider, VizardRequest

KEY = "bench-vizard-key"
CHANNEL = "C0BENCH"
LEASE_S = 120.0
OLD_BATCH, OLD_ROUNDS = 8, 20
HEADER = """\
== poller_throughput: one replica's poller against a Vizard simulator, same run ==
throughput: polls/s one replica makes with every job due: the previous loop (claims of 8, at
most 20 a 5 s tick) over a window, beside the worker pool at concurrency 8, 64 and 256 until
every job was polled once.
on time: median seconds between one job's polls over its 1 s cap, with a 5 s tick (1.00x: on
time). Redis and the simulator run in processes of their own; read the ratios."""


class TimedVizard(VizardProvider):
    """The real provider (real HTTP to the simulator), noting when each project is polled."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.polled: dict[str, list[float]] = {}

    async def poll(self, ref: str) -> Status:
        self.polled.setdefault(ref, []).append(time.monotonic())
        return await super().poll(ref)


# --- the simulator, in a process of its own --------------------------------------------------
def _serve_simulator(pipe: Connection) -> None:
    async def serve() -> None:
        simulator = VizardSimulator(
            KEY, render_seconds=10**9, per_minute=10**9, per_hour=10**9, minutes_left=10**9
        )
        await simulator.start()
        pipe.send(simulator.base_url)
        await asyncio.get_running_loop().run_in_executor(None, pipe.recv)
        await simulator.stop()

    asyncio.run(serve())


@contextlib.contextmanager
def simulator_process() -> Iterator[str]:
    parent, child = multiprocessing.get_context("spawn").Pipe()
    process = multiprocessing.get_context("spawn").Process(target=_serve_simulator, args=(child,))
    process.start()
    try:
        if not parent.poll(30):
            raise RuntimeError("the simulator did not start")
        yield str(parent.recv())
    finally:
        parent.send("stop")
        process.join(10)
        if process.is_alive():
            process.kill()


# --- the workload ------------------------------------------------------------------------------
async def make_projects(base_url: str, count: int) -> list[str]:
    """Real projects at the simulator (one create each), so every poll is a real answer."""
    body = {"videoUrl": "https://videos.example.com/a.mp4", "videoType": 1, "ext": "mp4",
            "lang": "en", "preferLength": [0]}  # fmt: skip
    gate = asyncio.Semaphore(32)
    async with httpx.AsyncClient(base_url=base_url, headers={"VIZARDAI_API_KEY": KEY}) as http:

        async def one() -> str:
            async with gate:
                answer = await http.post("/project/create", json=body)
                return str(answer.json()["projectId"])

        return list(await asyncio.gather(*(one() for _ in range(count))))


def rendering_job(ref: str, now: float) -> Job:
    request = VizardRequest(
        video_url="https://videos.example.com/a.mp4", video_type=1, ext="mp4", lang="en",
        prefer_length=[0],
    )  # fmt: skip
    root = Delivery(state=DeliveryState.POSTED, channel=CHANNEL, reserved_at=now, ts=f"{now:.6f}")
    job = Job(
        kind=JobKind.CLIPS,
        provider="vizard",
        state=JobState.RENDERING,
        channel_id=CHANNEL,
        user_id="U0BENCH",
        source=request.video_url,
        request=dump_request(request),
        provider_ref=ref,
        submitted_at=now,
        next_run_at=now,
        deliveries={ROOT: root},
    )
    # Already shown as rendering: a poll that finds it still rendering needs no Slack call.
    text, body = blocks.root_message(job, "Vizard")
    return job.changed(rendered=blocks.render_key(text, body))


@dataclass
class Rig:
    store: RedisJobStore
    runner: JobRunner
    providers: dict[str, Provider]
    client: redis.asyncio.Redis
    prefix: str

    async def reset(self, refs: list[str], now: float) -> list[str]:
        ids: list[str] = []
        for start in range(0, len(refs), 200):
            chunk = [rendering_job(ref, now) for ref in refs[start : start + 200]]
            ids += [job.id for job in await asyncio.gather(*map(self.store.add, chunk))]
        return ids

    async def polls(self, ids: list[str]) -> list[int]:
        jobs = await asyncio.gather(*map(self.store.get, ids))
        return [j.polls if j is not None and j.state is JobState.RENDERING else -1 for j in jobs]

    async def clear(self) -> None:
        """Delete this run's keys (never anything else: REDIS_URL may be shared)."""
        keys = [k async for k in self.client.scan_iter(match=f"{self.prefix}*", count=1000)]
        for start in range(0, len(keys), 500):
            await self.client.delete(*keys[start : start + 500])

    def poller(self, concurrency: int, tick: float) -> Poller:
        return Poller(
            self.store,
            self.runner,
            providers=["vizard"],
            tick_seconds=tick,
            concurrency=concurrency,
            lease_seconds=LEASE_S,
        )


async def old_loop(rig: Rig, seconds: float, tick: float) -> None:
    """The previous poller: every tick, up to 20 claims of 8, each batch run to the end."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        started = time.monotonic()
        for _ in range(OLD_ROUNDS):
            owner = uuid.uuid4().hex
            jobs = await rig.store.claim_due("vizard", time.time(), OLD_BATCH, LEASE_S, owner)
            await asyncio.gather(*(rig.runner.run(job, owner) for job in jobs))
            if len(jobs) < OLD_BATCH or time.monotonic() > deadline:
                break
        await asyncio.sleep(max(0.0, min(deadline, started + tick) - time.monotonic()))


async def pool_loop(
    rig: Rig, seconds: float, concurrency: int, tick: float, *, until_drained: bool = False
) -> None:
    """The worker pool for `seconds`, or (`until_drained`) until no job is due any more."""
    poller = rig.poller(concurrency, tick)
    poller.start()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        await asyncio.sleep(0.02)
        if until_drained:
            due = await rig.store.next_due(["vizard"])
            if due is None or due > time.time() + 60:
                break
    await poller.stop()


async def measure(
    rig: Rig, refs: list[str], run: Callable[[], Awaitable[None]], seconds: float
) -> tuple[float, list[int]]:
    ids = await rig.reset(refs, time.time())
    started = time.monotonic()
    await run()
    elapsed = time.monotonic() - started
    polls = await rig.polls(ids)
    await rig.clear()
    return elapsed, polls


async def main_async(jobs: int, window: float, on_time_jobs: int) -> int:
    print(HEADER)
    problems: list[str] = []
    with redis_server() as (url, where), simulator_process() as base_url:
        print(f"redis: {where}; simulator: {base_url}\n")
        sandbox = SlackSandbox()
        await sandbox.start()
        prefix = f"reelbot-bench:{uuid.uuid4().hex[:8]}:"
        store = RedisJobStore.from_url(url, prefix)
        vizard = TimedVizard(KEY, str(base_url), timeout=30)
        providers: dict[str, Provider] = {"vizard": vizard}
        from slack_sdk.web.async_client import AsyncWebClient

        client = AsyncWebClient(token=sandbox.bot_token, base_url=sandbox.api_url)
        notifier = Notifier(client, store, {"vizard": "Vizard"}, posts_per_second=50)
        slow = Timing(poll_min=600, poll_max=600, lease=LEASE_S)
        rig = Rig(
            store,
            JobRunner(store, providers, notifier, timing=slow),
            providers,
            redis.asyncio.Redis.from_url(url),
            prefix,
        )
        try:
            refs = await make_projects(str(base_url), jobs)
            rows: list[tuple[str, float]] = []
            cases: list[tuple[str, Callable[[], Awaitable[None]]]] = [
                ("previous loop (8 a claim, 5 s tick)", lambda: old_loop(rig, window, 5.0)),
                *[(f"worker pool, concurrency {c}", _pool(rig, window, c)) for c in (8, 64, 256)],
            ]
            for name, run in cases:
                elapsed, polls = await measure(rig, refs, run, window)
                made = sum(len(times) for times in vizard.polled.values())
                vizard.polled.clear()
                if sum(polls) != made:
                    problems.append(f"{name}: {made} polls made, {sum(polls)} counted in the store")
                if min(polls) < 0:
                    problems.append(f"{name}: a job left the rendering state")
                if max(polls) > 1:
                    problems.append(f"{name}: a job was polled twice within its 600 s cap")
                rows.append((name, sum(polls) / elapsed))
            base = rows[0][1]
            print(
                f"{'throughput, ' + str(jobs) + ' jobs due':40} {'polls/s':>10} {'x previous':>11}"
            )
            for name, rate in rows:
                print(f"{name:40} {rate:10,.0f} {rate / base:10.2f}x")

            rig.runner = JobRunner(
                store, providers, notifier, timing=Timing(1.0, 1.0, lease=LEASE_S)
            )
            on_time: list[tuple[str, float]] = []
            for name, run in (
                ("previous loop, 5 s tick", lambda: old_loop(rig, window, 5.0)),
                ("worker pool, 5 s tick", _pool(rig, window, 64)),
            ):
                _, polls = await measure(rig, refs[:on_time_jobs], run, window)
                gaps = [
                    later - earlier
                    for times in vizard.polled.values()
                    for earlier, later in itertools.pairwise(times)
                ]
                vizard.polled.clear()
                if not gaps or min(polls) < 1:
                    problems.append(f"{name}: no job was polled twice within {window:g} s")
                    continue
                if min(gaps) < 0.5:
                    problems.append(f"{name}: polled {min(gaps):.2f} s apart with a 1 s cap")
                on_time.append((name, statistics.median(gaps)))
            title = f"on time, {on_time_jobs} jobs, 1 s cap"
            print(f"\n{title:40} {'s/poll':>10} {'x cap':>11}")
            for name, gap in on_time:
                print(f"{name:40} {gap:10.2f} {gap / 1.0:10.2f}x")
        finally:
            await vizard.aclose()
            await rig.client.aclose()
            await store.close()
            await sandbox.stop()
    if problems:
        for problem in problems:
            print(f"FAILED: {problem}")
        return 1
    print("\nverify: OK (every job still rendering, none polled before its cap)")
    return 0


def _pool(
    rig: Rig, window: float, concurrency: int, *, until_drained: bool = False
) -> Callable[[], Awaitable[None]]:
    return lambda: pool_loop(rig, window, concurrency, 5.0, until_drained=until_drained)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=4000)
    parser.add_argument("--window", type=float, default=5.5)
    parser.add_argument("--on-time-jobs", type=int, default=40)
    args = parser.parse_args()
    started = time.perf_counter()
    code = asyncio.run(main_async(args.jobs, args.window, args.on_time_jobs))
    print(f"poller_throughput took {time.perf_counter() - started:.1f} s")
    return code


if __name__ == "__main__":
    sys.exit(main())
