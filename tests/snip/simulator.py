"""A local Snip, written from the API described in tests/snip/provider.py's docstring (its own
checks, never the client's tables): a wallet that really goes down, jobs that advance over
time, idempotency keys, and faults on demand."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

KEY_HEADER = "X-Snip-Key"
STYLES = ("fun", "calm")
MAX_CLIPS = 5


@dataclass
class SimJob:
    id: str
    body: dict[str, Any]
    created: float
    cost_cents: int


class SnipSimulator:
    def __init__(
        self,
        api_key: str = "sim-snip-key",
        *,
        price_cents: int = 125,
        wallet_cents: int = 10_000,
        render_seconds: float = 0.4,
    ) -> None:
        self.api_key = api_key
        self.price_cents = price_cents
        self.wallet_cents = wallet_cents
        self.render_seconds = render_seconds
        self.jobs: dict[str, SimJob] = {}
        self.create_calls: list[dict[str, Any]] = []
        self.keys: dict[str, str] = {}
        # Seconds to hold the next create's answer (after the job exists): a lost answer.
        self.hold_next_answers: list[float] = []
        self.on_create: Callable[[SimJob], None] | None = None
        self._runner: web.AppRunner | None = None
        self._origin = ""

    @property
    def base_url(self) -> str:
        return self._origin

    @property
    def charged_cents(self) -> int:
        return sum(j.cost_cents for j in self.jobs.values())

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/v1/clips", self._create)
        app.router.add_get("/v1/clips/{id}", self._status)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        host, port = self._runner.addresses[0][:2]
        self._origin = f"http://{host}:{port}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _create(self, request: web.Request) -> web.StreamResponse:
        if request.headers.get(KEY_HEADER) != self.api_key:
            return web.json_response({"error": "bad_key"}, status=401)
        try:
            body = json.loads(await request.read())
        except ValueError:
            return web.json_response({"error": "invalid", "field": "body"}, status=422)
        self.create_calls.append(body)
        key = request.headers.get("Idempotency-Key")
        if key is not None and not 1 <= len(key) <= 64:
            return web.json_response({"error": "invalid", "field": "Idempotency-Key"}, status=422)
        if key is not None and key in self.keys:
            job = self.jobs[self.keys[key]]
            return await self._answer(job, status=200)
        problem = _invalid(body)
        if problem is not None:
            return web.json_response({"error": "invalid", "field": problem}, status=422)
        cost = int(body["count"]) * self.price_cents
        if cost > self.wallet_cents:
            return web.json_response({"error": "no_funds"}, status=402)
        self.wallet_cents -= cost
        job = SimJob(f"snip-{len(self.jobs) + 1:04d}", body, time.monotonic(), cost)
        self.jobs[job.id] = job
        if key is not None:
            self.keys[key] = job.id
        if self.on_create is not None:
            self.on_create(job)
        return await self._answer(job, status=201)

    async def _answer(self, job: SimJob, *, status: int) -> web.Response:
        if self.hold_next_answers:
            await asyncio.sleep(self.hold_next_answers.pop(0))
        return web.json_response(
            {"id": job.id, "status": "queued", "cost_cents": job.cost_cents}, status=status
        )

    async def _status(self, request: web.Request) -> web.StreamResponse:
        if request.headers.get(KEY_HEADER) != self.api_key:
            return web.json_response({"error": "bad_key"}, status=401)
        job = self.jobs.get(request.match_info["id"])
        if job is None:
            return web.json_response({"error": "not_found"}, status=404)
        age = time.monotonic() - job.created
        if age < self.render_seconds:
            progress = round(100 * age / self.render_seconds)
            return web.json_response({"id": job.id, "status": "working", "progress": progress})
        clips = [
            {
                "url": f"{self._origin}/files/{job.id}/{n}.mp4",
                "title": f"Snip {n + 1}",
                "seconds": 20 + n,
            }
            for n in range(int(job.body["count"]))
        ]
        return web.json_response({"id": job.id, "status": "done", "progress": 100, "clips": clips})


def _invalid(body: Any) -> str | None:
    if not isinstance(body, dict):
        return "body"
    url = body.get("video_url")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        return "video_url"
    count = body.get("count")
    if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= MAX_CLIPS:
        return "count"
    if body.get("style") not in STYLES:
        return "style"
    return None
