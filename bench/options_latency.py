"""How fast the /avatar modal's searchable avatar list answers Slack's options requests.

A whole stack on loopback: the Slack sandbox, a HeyGen simulator with 2,000 looks whose list
answers 50 a page, each page held back 70 ms (40 pages, about 3 s for the whole list: more
than Slack's 3 s), and the bot over HTTP on SQLite. Three cases, side by side in one run:

- cold: an options request with nothing cached and nothing warming (the bot answers within
  its budget with a "still loading" note and keeps fetching);
- cached: options requests once the list is in the store (after the modal opened and warmed
  it), each with a different query;
- baseline: `/avatar help`, an ack with no I/O beyond the request itself.

Reported: milliseconds (median and worst) and the cached/baseline ratio. Exit 1 if an answer
breaks Slack's limits, a cached answer misses the look searched for, or the cold answer is
not the loading note: correctness only, never time.
"""

from __future__ import annotations

import asyncio
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bot import ids
from bot.demo import loopback_settings
from bot.runtime import Runtime
from bot.sandbox import SlackRequests, SlackSandbox
from bot.sandbox.validation import options_response_problems
from providers.simulators.heygen import HeyGenSimulator
from providers.simulators.vizard import VizardSimulator

LOOKS = 2000
PAGE_DELAY_S = 0.07
PAGE = 50
CACHED_REQUESTS = 40


def _looks() -> tuple[dict[str, Any], ...]:
    return tuple(
        {
            "id": f"look_{n:04d}",
            "name": f"Presenter {n:04d}",
            "gender": "female" if n % 2 else "male",
            "avatar_type": "studio_avatar",
            "default_voice_id": None,
        }
        for n in range(LOOKS)
    )


def _texts(answer: dict[str, Any]) -> list[str]:
    groups = answer.get("option_groups")
    options = [o for g in groups for o in g["options"]] if groups else answer["options"]
    return [str(o["text"]["text"]) for o in options]


async def _timed(call: Any) -> tuple[float, Any]:
    started = time.perf_counter()
    answer = await call
    return (time.perf_counter() - started) * 1000, answer


async def main() -> int:
    failures: list[str] = []
    with tempfile.TemporaryDirectory() as workdir:
        sandbox = SlackSandbox()
        vizard = VizardSimulator()
        heygen = HeyGenSimulator(looks=_looks(), page_size=PAGE)
        for each in (sandbox, vizard, heygen):
            await each.start()
        # Every list page is held back, as a slow provider would.
        heygen.inject("looks", "timeout", times=10_000, delay=PAGE_DELAY_S)
        secret = secrets.token_hex(16)
        settings = loopback_settings(
            sandbox, vizard, secret, heygen=heygen, reelbot_db=str(Path(workdir) / "b.db")
        )
        runtime = Runtime(settings)
        port = await runtime.start("127.0.0.1", 0)
        slack = SlackRequests(f"http://127.0.0.1:{port}/slack/events", secret, sandbox)
        try:
            view = {
                "id": "V0BENCH",
                "type": "modal",
                "private_metadata": '{"kind": "avatar", "provider": "heygen", "channel_id": "C1"}',
                "callback_id": ids.REQUEST_MODAL,
                "blocks": [],
            }
            cold_ms, cold = await _timed(slack.options_request(view, "avatar", "presenter 1999"))
            cold_body = cold.json()
            if _texts(cold_body) != ["Loading HeyGen's list; type again in a moment"]:
                failures.append(f"cold answer was {_texts(cold_body)[:3]}")
            started = time.perf_counter()
            await runtime.reelbot.catalogs.idle()  # the cold request's fetch goes on
            fetch_s = time.perf_counter() - started + cold_ms / 1000
            cached: list[float] = []
            baseline: list[float] = []
            for n in range(CACHED_REQUESTS):
                wanted = f"Presenter {(n * 49) % LOOKS:04d}"
                ms, answer = await _timed(slack.options_request(view, "avatar", wanted.lower()))
                body = answer.json()
                problems = options_response_problems(body)
                if problems or _texts(body) != [wanted]:
                    failures.append(f"{wanted}: {problems or _texts(body)[:3]}")
                cached.append(ms)
                ms, _ = await _timed(slack.slash_command("/avatar", "help"))
                baseline.append(ms)
            wide_ms, wide = await _timed(slack.options_request(view, "avatar", ""))
            if len(_texts(wide.json())) != 100 or options_response_problems(wide.json()):
                failures.append("an empty query did not answer the first 100 looks")
        finally:
            await slack.aclose()
            await runtime.stop()
            for each in (heygen, vizard, sandbox):
                await each.stop()
    med_cached, med_base = statistics.median(cached), statistics.median(baseline)
    print("== options_latency: the avatar list's options requests, ms, same run ==")
    print(f"HeyGen simulator: {LOOKS} looks, {PAGE} a page, {PAGE_DELAY_S * 1000:.0f} ms a page")
    print(f"whole list fetched in the background:  {fetch_s:6.2f} s ({LOOKS // PAGE} pages)")
    print(f"cold, nothing cached (loading note):   {cold_ms:7.1f} ms")
    print(
        f"cached, {CACHED_REQUESTS} searches:  median {med_cached:7.1f} ms, "
        f"worst {max(cached):7.1f} ms; all 2,000 looks: {wide_ms:.1f} ms"
    )
    print(f"baseline /avatar help:     median {med_base:7.1f} ms, worst {max(baseline):7.1f} ms")
    print(f"cached / baseline: {med_cached / med_base:.2f}x (Slack allows 3,000 ms)")
    for failure in failures:
        print(f"FAILED: {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
