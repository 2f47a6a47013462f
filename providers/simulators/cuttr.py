"""A local Cuttr: the documented platform API on loopback — Create Clip (JSON or multipart),
Get Job Status, the team wallet, the key smoke test — with the wallet charged upfront, the
documented per-key rate limit, "permanent" clip downloads it serves itself, and every
documented error on demand.

Written from the documents (the seed's Create Clip page, shared/providers.md section 5),
never from the client: a client that drifted from them must make the tests fail. Where the
documents are silent the simulator picks a shape and says so ("assumed"): the clips' field
names (`CLIP_FIELDS`, read at answer time so a test can change them), every error body
({"error": message, "message": message}; the documents give the messages only), the failed
job's answer, 400/404 messages, and that the clip files need no key. A video_url (or file
name) with "fail-render" in it fails its job once processed, after it was charged.

This module is the server and its state; `cuttr_data` holds the tables and `cuttr_rules`
what a create must be, the rate limit and how refusals read.
"""

from __future__ import annotations

import json
import math
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from aiohttp import web

from providers.simulators.cuttr_data import (
    DEFAULT_RETRY_AFTER,
    ERRORS,
    FAIL_HINT,
    FAIL_MESSAGE,
    MP4_BYTES,
    PNG_BYTES,
)
from providers.simulators.cuttr_rules import (
    FilePart,
    Order,
    Refusal,
    answer,
    parse_form,
    parse_json,
    rate,
    read_form,
)
from providers.simulators.server import SimulatorServer, next_fault

__all__ = ["CLIP_FIELDS", "CuttrSimulator", "Endpoint", "Fault", "Job"]

API_KEY_HEADER = "X-API-Key"
PREFIX = "/api/platform"
MAX_BODY_BYTES = 200 * 1024**2  # assumed: no upload limit is documented

# Our name for each clip value -> the JSON name inside clips[] (assumed: the documents do not
# give them). Read on every answer; a name left out is left out of the clips.
CLIP_FIELDS: dict[str, str] = {
    "url": "url",
    "title": "title",
    "duration": "duration",
    "thumbnail": "thumbnail_url",
}

Endpoint = Literal["create", "status", "wallet", "test"]
Fault = Literal["error", "http500", "timeout", "malformed"]
JobStatus = Literal["processing", "completed", "failed"]


@dataclass
class _Injected:
    fault: Fault
    times: int
    code: str | None
    retry_after: int | None
    delay: float


@dataclass
class Job:
    """An accepted create. `status` follows the simulator's clock."""

    job_id: str
    num_clips: int
    cost_cents: int
    length: int | None
    source: str
    created: float  # simulator clock
    render_seconds: float
    clock: Callable[[], float] = field(repr=False)
    error: str | None = None  # set: the job fails with this once processed

    @property
    def status(self) -> JobStatus:
        if self.clock() - self.created < self.render_seconds:
            return "processing"
        return "failed" if self.error is not None else "completed"

    @property
    def completed(self) -> int:
        """Clips done: rising with the clock, all of them only once the job is done."""
        if self.status != "processing":
            return self.num_clips
        share = (self.clock() - self.created) / self.render_seconds
        return min(self.num_clips - 1, math.floor(share * self.num_clips))


class CuttrSimulator(SimulatorServer):
    def __init__(
        self,
        api_key: str = "cuttr_sim_3f9a1c7e5b2d8f40",
        *,
        wallet_cents: int = 10_000,
        price_cents_per_clip: int = 150,
        render_seconds: float = 1.0,
        per_minute: int = 60,
        team_id: str = "team_sim",
    ) -> None:
        super().__init__(path=PREFIX)
        self.api_key = api_key
        self.wallet_cents = wallet_cents
        self.price_cents_per_clip = price_cents_per_clip
        self.render_seconds = render_seconds
        self.per_minute = per_minute
        self.team_id = team_id
        self.charged_cents = 0
        self.billing_active = True  # False: creates get 403 "API billing not active"
        self.key_expired = False  # True: every call gets 401 "API key expired"
        self.creates: list[dict[str, Any]] = []
        self.create_attempts = 0
        self.status_calls = 0
        self.downloads = 0
        self.jobs: dict[str, Job] = {}
        self._fail_next: str | None = None
        self._faults: dict[Endpoint | Literal["any"], deque[_Injected]] = {}
        self._calls: deque[float] = deque()
        self._offset = 0.0

    def _routes(self) -> list[web.RouteDef]:
        return [
            web.post(f"{PREFIX}/v1/clip", self._create),
            web.get(f"{PREFIX}/v1/clip/{{job_id}}", self._status),
            web.get(f"{PREFIX}/teams/{{team_id}}/wallet", self._wallet),
            web.get(f"{PREFIX}/v1/test", self._test),
            web.get("/media/{job_id}/{name}", self._download),
        ]

    def _client_max_size(self) -> int:
        return MAX_BODY_BYTES

    # --- test controls ----------------------------------------------------------------------
    def inject(
        self,
        endpoint: Endpoint | Literal["any"],
        fault: Fault,
        *,
        times: int = 1,
        code: str | None = None,
        retry_after: int | None = None,
        delay: float = 5.0,
    ) -> None:
        """Answer the next `times` calls to `endpoint` with `fault` ("any": the next calls to
        any API endpoint, whichever comes; an endpoint's own faults play first).

        error: the answer for `code` (a key of `cuttr_data.ERRORS`: missing_key, invalid_key,
        expired_key, insufficient_balance, billing_inactive, rate_limited, bad_request, ...),
        with Retry-After = `retry_after` (rate_limited: 30 if not given); http500: a 500;
        malformed: a 200 that is not JSON; timeout: wait `delay` s, then answer normally —
        the work is done first, so a create is accepted and charged even if the answer is
        never read.
        """
        if fault == "error" and code not in ERRORS:
            raise ValueError(f"the 'error' fault needs code= one of {', '.join(ERRORS)}")
        injected = _Injected(fault, times, code, retry_after, delay)
        self._faults.setdefault(endpoint, deque()).append(injected)

    def advance(self, seconds: float) -> None:
        """Move the simulator's clock on: renders and the rate window move with it."""
        self._offset += seconds

    def fail_next_job(self, message: str = FAIL_MESSAGE) -> None:
        """The next accepted job is charged, then fails with `message` once processed."""
        self._fail_next = message

    # --- handlers ---------------------------------------------------------------------------
    async def _create(self, request: web.Request) -> web.StreamResponse:
        self.create_attempts += 1
        return await self._serve("create", request, self._make)

    async def _make(self, request: web.Request) -> web.StreamResponse:
        self._admit(request)
        if not self.billing_active:
            raise Refusal("billing_inactive")
        video: FilePart | None = None
        music: FilePart | None = None
        if request.content_type == "application/json":
            try:
                fields: dict[str, Any] = json.loads(await request.read())
            except ValueError:
                raise Refusal("bad_request", "The request body is not valid JSON") from None
            order = parse_json(fields)
            mode: Literal["json", "multipart"] = "json"
        elif request.content_type == "multipart/form-data":
            form, video, music = await read_form(request, MAX_BODY_BYTES)
            order, fields, mode = parse_form(form, video), dict(form), "multipart"
        else:
            raise Refusal(
                "bad_request", "Content-Type must be application/json or multipart/form-data"
            )
        cost = order.num_clips * self.price_cents_per_clip
        if self.wallet_cents < cost:
            raise Refusal("insufficient_balance")
        self.wallet_cents -= cost
        self.charged_cents += cost
        job = self._job(order, cost)
        self.creates.append(
            {
                "mode": mode,
                "fields": fields,
                "file": video.shown() if video else None,
                "music": music.shown() if music else None,
                "job_id": job.job_id,
                "cost_cents": cost,
            }
        )
        return web.json_response(
            {
                "job_id": job.job_id,
                "num_clips": job.num_clips,
                "cost_cents": cost,
                "status": "processing",
            }
        )

    async def _status(self, request: web.Request) -> web.StreamResponse:
        self.status_calls += 1
        return await self._serve("status", request, self._job_answer)

    async def _job_answer(self, request: web.Request) -> web.StreamResponse:
        self._admit(request)
        job = self.jobs.get(request.match_info["job_id"])
        if job is None:
            raise Refusal("not_found")
        status = job.status
        body: dict[str, Any] = {"job_id": job.job_id, "status": status}
        if status == "processing":
            body["progress"] = {"completed": job.completed, "total": job.num_clips}
        elif status == "failed":
            body["error"] = job.error  # assumed: no failed answer is documented
        else:
            body["clips"] = [self._clip(job, n) for n in range(job.num_clips)]
        return web.json_response(body)

    async def _wallet(self, request: web.Request) -> web.StreamResponse:
        return await self._serve("wallet", request, self._wallet_answer)

    async def _wallet_answer(self, request: web.Request) -> web.StreamResponse:
        self._admit(request)
        if request.match_info["team_id"] != self.team_id:
            raise Refusal("team_not_found")  # assumed
        return web.json_response(
            {
                "balance_cents": self.wallet_cents,
                "total_spent_cents": self.charged_cents,
                # assumed: what the wallet holds was topped up, so balance + spent.
                "total_topped_up_cents": self.wallet_cents + self.charged_cents,
                "active": self.billing_active,
            }
        )

    async def _test(self, request: web.Request) -> web.StreamResponse:
        return await self._serve("test", request, self._test_answer)

    async def _test_answer(self, request: web.Request) -> web.StreamResponse:
        self._admit(request)
        return web.json_response({"ok": True})  # assumed: the documents show no body

    async def _download(self, request: web.Request) -> web.StreamResponse:
        """A clip or its thumbnail: permanent, and (assumed) no key needed."""
        self.downloads += 1
        job = self.jobs.get(request.match_info["job_id"])
        name = request.match_info["name"]
        stem, _, ext = name.partition(".")
        number = stem.removeprefix("clip-")
        if (
            job is None
            or job.status != "completed"
            or not number.isdigit()
            or not 1 <= int(number) <= job.num_clips
            or ext not in ("mp4", "png")
        ):
            raise web.HTTPNotFound(text="Not found")
        if ext == "png":
            return web.Response(body=PNG_BYTES, content_type="image/png")
        body = MP4_BYTES + f"{job.job_id}/{number}".encode()
        return web.Response(body=body, content_type="video/mp4")

    # --- rules ------------------------------------------------------------------------------
    def _admit(self, request: web.Request) -> None:
        """The key, then the rate limit: only calls with the right key count (assumed)."""
        key = request.headers.get(API_KEY_HEADER)
        if not key:
            raise Refusal("missing_key")
        if key != self.api_key:
            raise Refusal("invalid_key")
        if self.key_expired:
            raise Refusal("expired_key")
        rate(self._calls, self.per_minute, self._now())

    def _job(self, order: Order, cost: int) -> Job:
        error, self._fail_next = self._fail_next, None
        if error is None and FAIL_HINT in order.source:
            error = FAIL_MESSAGE
        job = Job(
            job_id=str(uuid.uuid4()),
            num_clips=order.num_clips,
            cost_cents=cost,
            length=order.length,
            source=order.source,
            created=self._now(),
            render_seconds=self.render_seconds,
            clock=self._now,
            error=error,
        )
        self.jobs[job.job_id] = job
        return job

    def _clip(self, job: Job, n: int) -> dict[str, Any]:
        # Near the asked length (a little under, like cuts at sentence ends), else 30-60 s.
        duration = job.length - 0.4 * (n % 3) if job.length else 30.0 + 7.5 * (n % 5)
        values: dict[str, Any] = {
            "url": f"{self._origin}/media/{job.job_id}/clip-{n + 1}.mp4",
            "title": f"Clip {n + 1}",
            "duration": round(duration, 1),
            "thumbnail": f"{self._origin}/media/{job.job_id}/clip-{n + 1}.png",
        }
        return {wire: values[ours] for ours, wire in CLIP_FIELDS.items() if ours in values}

    # --- faults -----------------------------------------------------------------------------
    async def _serve(
        self,
        endpoint: Endpoint,
        request: web.Request,
        handle: Callable[[web.Request], Awaitable[web.StreamResponse]],
    ) -> web.StreamResponse:
        injected = next_fault(self._faults.get(endpoint)) or next_fault(self._faults.get("any"))
        if injected is not None and injected.fault == "http500":
            return answer(Refusal("internal_error"))
        if injected is not None and injected.fault == "malformed":
            return web.Response(text="<html>gateway hiccup</html>", content_type="text/html")
        if injected is not None and injected.fault == "error":
            assert injected.code is not None
            retry = injected.retry_after
            if retry is None and injected.code == "rate_limited":
                retry = DEFAULT_RETRY_AFTER
            return answer(Refusal(injected.code, retry_after=retry))
        try:
            response = await handle(request)
        except Refusal as refusal:
            response = answer(refusal)
        if injected is not None:  # a timeout: the work is done, the answer comes late
            held = await self._hold(injected.delay)
            if held is not None:
                return held
        return response

    def _now(self) -> float:
        return time.time() + self._offset
