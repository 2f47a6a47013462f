"""The poller's hot path against each JobStore, Redis and SQLite side by side in one run.

Per round and per store, on fresh data (a key prefix of its own, a new SQLite file):

  ping         store.ping() from 4 concurrent tasks: the cheapest call, each store's floor
  add          N new jobs, all due now, written by 4 concurrent tasks (--workers)
  claim+save   4 concurrent pollers drain Vizard's due set with claim_due(vizard, now, 8, 120,
               owner) and, for every job they get, one compare-and-set save of
               job.changed(next_run_at=None) that releases the owner's lease
  rate taken   take_rate_slot with the Vizard windows (3/min, 20/h), one caller, the clock
               stepping 200 s a call so every call takes a slot (delete, count, insert)
  rate refused take_rate_slot at one instant from 4 concurrent tasks: exactly 3 may win

The stores swap order every round. Absolute rates depend on a shared, noisy machine, so
read the Redis/SQLite ratio: it is the median of the per-round ratios, each measured
back to back. Every round also checks that each job was claimed exactly once, that no
save lost its compare-and-set, that no job was left due, and that the rate limit held; the
script exits 1 when any check fails.

Redis: its own redis-server on a free loopback port (no persistence), unless REDIS_URL is
set; then a unique key prefix, deleted afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import redis

from bot.jobs import ROOT, Delivery, DeliveryState, Job
from bot.sandbox.local_redis import redis_server
from bot.store.base import JobStore
from bot.store.redis import RedisJobStore
from bot.store.sqlite import SqliteJobStore
from providers.base import JobKind, dump_request
from providers.vizard import RATE_WINDOWS, VizardRequest

PROVIDER = "vizard"
BATCH = 8  # what bot/poller.py claims at once (its concurrency)
LEASE_S = 120.0
RATE_STEP_S = 200.0  # with 3/min and 20/h, a call every 200 s is always allowed
METRICS = ("ping (floor)", "add", "claim+save", "rate taken", "rate refused")
HEADER = """\
== store_throughput: the poller's hot path per JobStore, Redis vs SQLite, same run ==
Rates are calls (or jobs) per second. ping: store.ping() from 4 tasks, each store's per-call
floor. add: jobs written by 4 tasks. claim+save: jobs drained by 4 pollers, claim_due(vizard,
now, 8, 120, owner) then one compare-and-set save releasing the lease each. rate taken /
refused: take_rate_slot when a slot is free (1 caller) / when the window is full (4 tasks at
one instant). Read the Redis/SQLite column: the median of per-round ratios (stores swap order
each round); absolute rates depend on this shared machine. Exit 1 if any job is claimed twice
or missed, or a check fails."""


def _delete_prefix(url: str, prefix: str) -> None:
    """Remove what a round wrote, when the Redis is shared (bounded: SCAN with a count)."""
    client = redis.Redis.from_url(url)
    try:
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        for start in range(0, len(keys), 500):
            client.delete(*keys[start : start + 500])
    finally:
        client.close()


# --- the workload ----------------------------------------------------------------------------
def make_jobs(count: int, now: float) -> list[Job]:
    """Queued /clip jobs as the listener adds them, oldest due first, 50 users."""
    jobs: list[Job] = []
    for n in range(count):
        url = f"https://videos.example.com/talks/{n:05d}/all-hands.mp4"
        request = VizardRequest(
            video_url=url,
            video_type=1,
            ext="mp4",
            lang="en",
            prefer_length=[1, 2],
            project_name=f"All-hands {n}",
        )
        jobs.append(
            Job(
                kind=JobKind.CLIPS,
                provider=PROVIDER,
                team_id="T0BENCH",
                channel_id="C0BENCH",
                user_id=f"U{n % 50:04d}",
                deliveries={
                    ROOT: Delivery(
                        state=DeliveryState.POSTED,
                        channel="C0BENCH",
                        reserved_at=now - 5.0,
                        ts=f"{now:.6f}",
                    )
                },
                source=url,
                request=dump_request(request),
                created_at=now - 5.0,
                updated_at=now - 5.0,
                next_run_at=now - (count - n) * 0.001,
            )
        )
    return jobs


@dataclass
class Checks:
    failures: list[str] = field(default_factory=list)

    def expect(self, ok: bool, what: str) -> None:
        if not ok:
            self.failures.append(what)


@dataclass
class Round:
    rates: dict[str, float]
    claimed: int
    duplicates: int
    lost_saves: int
    left_due: int
    rate_refused_when_free: int
    rate_won: int


async def _in_parallel(workers: int, work: Callable[[int], Awaitable[None]]) -> None:
    await asyncio.gather(*(work(w) for w in range(workers)))


async def run_store(
    store: JobStore, jobs: list[Job], now: float, workers: int, rate_calls: int
) -> Round:
    rates: dict[str, float] = {}

    # ping: the cheapest call each store has, the per-call floor (round trip or thread hop).
    per_worker = max(1, rate_calls // workers)

    async def ping(worker: int) -> None:
        for _ in range(per_worker):
            await store.ping()

    started = time.perf_counter()
    await _in_parallel(workers, ping)
    rates["ping (floor)"] = per_worker * workers / (time.perf_counter() - started)

    # add: N jobs, split over the workers.
    async def add(worker: int) -> None:
        for job in jobs[worker::workers]:
            await store.add(job)

    started = time.perf_counter()
    await _in_parallel(workers, add)
    rates["add"] = len(jobs) / (time.perf_counter() - started)

    # claim+save: each poller claims a batch, then saves every job it got.
    claimed: list[str] = []
    lost: list[str] = []
    max_rounds = len(jobs) // BATCH + 2 * workers + 2  # every loop is bounded

    async def drain(worker: int) -> None:
        for _ in range(max_rounds):
            owner = uuid.uuid4().hex  # one owner token per claim (bot/store/base.py)
            batch = await store.claim_due(PROVIDER, now, BATCH, LEASE_S, owner)
            if not batch:
                return
            for job in batch:
                claimed.append(job.id)
                saved = await store.save(
                    job.changed(next_run_at=None), now=now, owner=owner, release=True
                )
                if saved is None:
                    lost.append(job.id)

    started = time.perf_counter()
    await _in_parallel(workers, drain)
    rates["claim+save"] = len(claimed) / (time.perf_counter() - started)
    # Long after every lease would have run out, nothing may come back: the releasing saves
    # took them out.
    left_due = len(
        await store.claim_due(PROVIDER, now + 10 * LEASE_S, len(jobs) + 1, LEASE_S, "verify")
    )

    # rate taken: one caller, the clock moving on so each call fits in both windows.
    key = f"submit:bench-{uuid.uuid4().hex[:8]}"
    taken = 0
    started = time.perf_counter()
    for n in range(rate_calls):
        if await store.take_rate_slot(key, RATE_WINDOWS, now + n * RATE_STEP_S) == 0.0:
            taken += 1
    rates["rate taken"] = rate_calls / (time.perf_counter() - started)

    # rate refused: everybody at once on a fresh key; the 3/min window lets 3 through.
    key = f"submit:bench-{uuid.uuid4().hex[:8]}"
    won: list[float] = []

    async def crowd(worker: int) -> None:
        for _ in range(per_worker):
            wait = await store.take_rate_slot(key, RATE_WINDOWS, now)
            if wait == 0.0:
                won.append(wait)

    started = time.perf_counter()
    await _in_parallel(workers, crowd)
    rates["rate refused"] = per_worker * workers / (time.perf_counter() - started)

    return Round(
        rates=rates,
        claimed=len(claimed),
        duplicates=len(claimed) - len(set(claimed)),
        lost_saves=len(lost),
        left_due=left_due,
        rate_refused_when_free=rate_calls - taken,
        rate_won=len(won),
    )


async def one_round(
    store_name: str, url: str, jobs: list[Job], now: float, workers: int, rate_calls: int
) -> Round:
    store: JobStore
    if store_name == "redis":
        prefix = f"reelbot-bench:{uuid.uuid4().hex[:12]}:"
        store = RedisJobStore.from_url(url, prefix)
        try:
            return await run_store(store, jobs, now, workers, rate_calls)
        finally:
            await store.close()
            if os.environ.get("REDIS_URL"):
                _delete_prefix(url, prefix)
    with tempfile.TemporaryDirectory(prefix="reelbot-bench-sqlite-") as tmp:
        store = SqliteJobStore(str(Path(tmp) / "jobs.sqlite3"))
        try:
            return await run_store(store, jobs, now, workers, rate_calls)
        finally:
            await store.close()


def _fmt_rate(value: float) -> str:
    return f"{value:>10,.0f}/s"


async def main_async(args: argparse.Namespace) -> int:
    now = time.time()
    jobs = make_jobs(args.jobs, now)
    windows_limit = min(w.limit for w in RATE_WINDOWS)
    checks = Checks()
    results: dict[str, list[Round]] = {"redis": [], "sqlite": []}
    with redis_server() as (url, how):
        print(f"redis: {how}; sqlite: a new WAL file per round in {tempfile.gettempdir()}")
        for r in range(args.rounds):
            order = ("redis", "sqlite") if r % 2 == 0 else ("sqlite", "redis")
            for name in order:
                result = await one_round(name, url, jobs, now, args.workers, args.rate_calls)
                results[name].append(result)
                tag = f"round {r + 1} {name}"
                checks.expect(result.claimed == len(jobs), f"{tag}: claimed {result.claimed}")
                checks.expect(result.duplicates == 0, f"{tag}: {result.duplicates} duplicates")
                checks.expect(result.lost_saves == 0, f"{tag}: {result.lost_saves} lost saves")
                checks.expect(result.left_due == 0, f"{tag}: {result.left_due} left due")
                checks.expect(
                    result.rate_refused_when_free == 0,
                    f"{tag}: {result.rate_refused_when_free} rate slots refused with room",
                )
                checks.expect(
                    result.rate_won == windows_limit,
                    f"{tag}: {result.rate_won} rate slots won at one instant, "
                    f"limit {windows_limit}",
                )

    print()
    print(f"{'':14}{'Redis':>12}{'SQLite':>12}   Redis/SQLite (median; min-max over rounds)")
    for metric in METRICS:
        redis_rate = statistics.median(r.rates[metric] for r in results["redis"])
        sqlite_rate = statistics.median(r.rates[metric] for r in results["sqlite"])
        ratios = [
            a.rates[metric] / b.rates[metric]
            for a, b in zip(results["redis"], results["sqlite"], strict=True)
        ]
        print(
            f"{metric:<14}{_fmt_rate(redis_rate)}{_fmt_rate(sqlite_rate)}"
            f"   {statistics.median(ratios):5.2f}x  ({min(ratios):.2f}-{max(ratios):.2f})"
        )
    print()
    for name, rounds in results.items():
        claimed = [r.claimed for r in rounds]
        print(
            f"verify {name:<6}: jobs={len(jobs)} per round, claimed={claimed}, "
            f"duplicates={sum(r.duplicates for r in rounds)}, "
            f"lost saves={sum(r.lost_saves for r in rounds)}, "
            f"left due={sum(r.left_due for r in rounds)}, "
            f"rate slots won at one instant={[r.rate_won for r in rounds]} "
            f"(limit {windows_limit})"
        )
    if checks.failures:
        print("FAILED: " + "; ".join(checks.failures))
        return 1
    print("verify: OK, every job claimed exactly once in every round")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--jobs", type=int, default=2000, help="jobs per round (2000)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds per store (5)")
    parser.add_argument("--workers", type=int, default=4, help="concurrent tasks (4)")
    parser.add_argument("--rate-calls", type=int, default=1000, help="per rate phase (1000)")
    args = parser.parse_args()
    if args.jobs < 1 or args.rounds < 1 or args.workers < 1 or args.rate_calls < 1:
        parser.error("--jobs, --rounds, --workers and --rate-calls must be at least 1")
    print(HEADER)
    print(
        f"\nsettings: jobs={args.jobs} rounds={args.rounds} workers={args.workers} "
        f"rate calls={args.rate_calls} batch={BATCH} lease={LEASE_S:g}s"
    )
    started = time.perf_counter()
    code = asyncio.run(main_async(args))
    print(f"store_throughput took {time.perf_counter() - started:.1f} s")
    return code


if __name__ == "__main__":
    sys.exit(main())
