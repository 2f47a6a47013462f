"""How fast Slack gets its ack for a quick /clip, with and without the channel's preset.

A whole stack on loopback: the Slack sandbox, the Vizard simulator and the bot over HTTP on
SQLite. Cases, interleaved request by request so the machine's noise falls on all alike:

- baseline: `/reel help`, an ack with no store I/O beyond the request itself;
- /clip, no preset: a quick command in a channel with no preset (one preset read, the job
  stored);
- /clip, preset: the same in a channel whose preset sets Vizard's language and clip lengths
  (the preset read, merged into the request, the job stored);
- /reel jobs: one store read of the person's jobs.

Reported: milliseconds (median and worst) and each case's ratio to the baseline. Exit 1 if an
ack is not HTTP 200, or a job in the preset's channel did not get the preset's language while
one elsewhere did: correctness only, never time.
"""

from __future__ import annotations

import asyncio
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx

from bot.demo import loopback_settings
from bot.presets import KindPreset, save_preset
from bot.runtime import Runtime
from bot.sandbox import SlackRequests, SlackSandbox
from providers.base import JobKind
from providers.simulators.vizard import VizardSimulator

ROUNDS = 40
USER = "U0BENCH"
PRESET_CHANNEL = "C0PRESET"
PLAIN_CHANNEL = "C0PLAIN"
VIDEO = "https://videos.example.com/talk.mp4"


async def _timed(call: Awaitable[httpx.Response]) -> tuple[float, httpx.Response]:
    started = time.perf_counter()
    answer = await call
    return (time.perf_counter() - started) * 1000, answer


async def main() -> int:
    failures: list[str] = []
    times: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as workdir:
        sandbox = SlackSandbox()
        vizard = VizardSimulator()
        for each in (sandbox, vizard):
            await each.start()
        sandbox.add_user(USER, "bench")
        sandbox.add_channel(PRESET_CHANNEL, "with-preset")
        sandbox.add_channel(PLAIN_CHANNEL, "plain")
        secret = secrets.token_hex(16)
        settings = loopback_settings(
            sandbox, vizard, secret, reelbot_db=str(Path(workdir) / "b.db")
        )
        runtime = Runtime(settings)
        port = await runtime.start("127.0.0.1", 0)
        slack = SlackRequests(f"http://127.0.0.1:{port}/slack/events", secret, sandbox)
        preset = KindPreset("vizard", {"lang": "fr", "length": ["2"]})
        await save_preset(runtime.store, sandbox.team_id, PRESET_CHANNEL, JobKind.CLIPS, preset)

        def clip(channel: str, n: int) -> Callable[[], Awaitable[httpx.Response]]:
            return lambda: slack.slash_command(
                "/clip", f"{VIDEO}?n={n}", user_id=USER, channel_id=channel
            )

        try:
            for n in range(ROUNDS):
                cases: dict[str, Callable[[], Awaitable[httpx.Response]]] = {
                    "baseline /reel help": lambda: slack.slash_command(
                        "/reel", "help", user_id=USER
                    ),
                    "/clip, no preset": clip(PLAIN_CHANNEL, n),
                    "/clip, preset": clip(PRESET_CHANNEL, n),
                    "/reel jobs": lambda: slack.slash_command("/reel", "jobs", user_id=USER),
                }
                for name, call in cases.items():
                    ms, answer = await _timed(call())
                    if answer.status_code != 200:
                        failures.append(f"{name}: HTTP {answer.status_code}")
                    times.setdefault(name, []).append(ms)
            jobs = await runtime.store.recent_for_user(USER, 50)
            langs = {c: {str(j.request.get("lang")) for j in jobs if j.channel_id == c}
                     for c in (PRESET_CHANNEL, PLAIN_CHANNEL)}  # fmt: skip
            if langs != {PRESET_CHANNEL: {"fr"}, PLAIN_CHANNEL: {"auto"}}:
                failures.append(f"languages by channel were {langs}")
        finally:
            await slack.aclose()
            await runtime.stop()
            for each in (vizard, sandbox):
                await each.stop()
    base = statistics.median(times["baseline /reel help"])
    print("== ack_latency: how fast Slack gets its ack, ms, same run (SQLite store) ==")
    print(f"{ROUNDS} rounds, the cases interleaved; the poller runs the jobs meanwhile")
    print(f"{'case':22} {'median':>8} {'worst':>8}  x baseline")
    for name, found in times.items():
        median = statistics.median(found)
        print(f"{name:22} {median:8.1f} {max(found):8.1f}  {median / base:6.2f}x")
    print("Slack allows 3,000 ms")
    for failure in failures:
        print(f"FAILED: {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
