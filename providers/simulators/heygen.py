"""A local HeyGen: the documented v3 and v1/v2 APIs on loopback, with webhooks and faults.

Written from the documents (the seed, shared/providers.md section 3, heygen-cli's schemas),
never from the client: a client table that drifted from them must make the tests fail.
Where the documents are silent the simulator picks a shape and says so ("assumed").
Script hints steer a render: "fail-too-long" fails it as too long for the plan (40119) and
"fail-render" fails it with a code the documents do not list.

This module is the server and its state; `heygen_data` holds the tables (codes, looks, voices),
`heygen_rules` what a request must be, `heygen_answers` how answers are written and
`heygen_webhooks` how endpoints are registered and called.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import secrets
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal

import aiohttp
from aiohttp import web

from providers.simulators.heygen_answers import (
    Job,
    preview,
    refusal_response,
    stage_of,
    v2_avatars,
    video,
)
from providers.simulators.heygen_data import FAILURES, LOOKS, VOICES
from providers.simulators.heygen_rules import (
    Accepted,
    Refusal,
    Shape,
    admit,
    check_idempotency_key,
    page,
    parse_v2,
    parse_v3,
    read_object,
)
from providers.simulators.heygen_webhooks import Hook, deliver, register
from providers.simulators.server import SimulatorServer, next_fault

__all__ = ["LOOKS", "VOICES", "Endpoint", "Fault", "HeyGenSimulator", "Shape"]

API_KEY_HEADER = "X-Api-Key"

Endpoint = Literal["create", "status", "looks", "voices"]
Fault = Literal["http500", "timeout", "malformed", "drop_after_create", "error"]


@dataclass
class _Injected:
    fault: Fault
    times: int
    code: str | int | None
    delay: float


class HeyGenSimulator(SimulatorServer):
    def __init__(
        self,
        api_key: str = "sim-heygen-key",
        *,
        render_seconds: float = 0.6,
        stages: tuple[str, ...] = ("pending", "waiting", "processing"),
        credits: float = 1000,
        credit_per_video: float = 1,
        concurrency: int = 10,
        looks: tuple[dict[str, Any], ...] = LOOKS,
        voices: tuple[dict[str, Any], ...] = VOICES,
        page_size: int = 50,
        trial_daily_cap: int | None = None,
        test_daily_cap: int = 10,
        test_weekly_cap: int = 60,
        max_body_bytes: int = 1_000_000,
        create_seconds: float = 0.0,
    ) -> None:
        super().__init__()
        self.api_key = api_key
        self.render_seconds, self.stages = render_seconds, stages
        self.credits, self.credit_per_video = credits, credit_per_video
        self.concurrency, self.page_size = concurrency, page_size
        self.looks = [dict(look) for look in looks]
        self.voices = [dict(voice) for voice in voices]
        self.trial_daily_cap = trial_daily_cap
        self.test_daily_cap, self.test_weekly_cap = test_daily_cap, test_weekly_cap
        self.max_body_bytes = max_body_bytes
        # How long a create takes to handle: a duplicate arriving meanwhile gets a 409.
        self.create_seconds = create_seconds
        self.creates: list[dict[str, Any]] = []
        self.create_attempts = 0
        self.create_keys: list[str | None] = []  # the Idempotency-Key of each attempt
        self.status_calls = 0
        self.list_calls: Counter[str] = Counter()
        self.deliveries: list[tuple[str, dict[str, str], bytes]] = []
        self.last_retry_after: int | None = None
        self.on_create: Callable[[dict[str, Any]], None] | None = None
        self.jobs: dict[str, Job] = {}
        self.endpoints: dict[str, Hook] = {}
        self._keys: dict[str, tuple[str, str]] = {}  # Idempotency-Key -> (body hash, video id)
        self._handling: set[str] = set()
        self._faults: dict[Endpoint, deque[_Injected]] = {}
        self._made: deque[tuple[float, bool]] = deque()  # (when, test) per accepted create
        self._offset = 0.0
        self._moved = asyncio.Event()
        self._session: aiohttp.ClientSession | None = None

    # --- lifecycle --------------------------------------------------------------------------
    def _routes(self) -> list[web.RouteDef]:
        return [
            web.post("/v3/videos", partial(self._create, api="v3")),
            web.post("/v2/video/generate", partial(self._create, api="v2")),
            web.get("/v3/videos/{video_id}", partial(self._status, shape="v3")),
            web.get("/v1/video_status.get", partial(self._status, shape="v1")),
            web.get("/v3/avatars/looks", partial(self._list, kind="looks")),
            web.get("/v3/voices", partial(self._list, kind="voices")),
            web.get("/v2/avatars", partial(self._list, kind="v2_avatars")),
            web.get("/v2/voices", partial(self._list, kind="v2_voices")),
            web.get("/files/{video_id}/{name}", self._file),
            web.get("/previews/{name}", self._file),
        ]

    def _client_max_size(self) -> int:
        return max(self.max_body_bytes * 2, 1024**2)

    async def _open(self) -> None:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5))

    async def _close(self) -> None:
        if self._session is not None:
            await self._session.close()

    # --- test controls ----------------------------------------------------------------------
    def inject(
        self,
        endpoint: Endpoint,
        fault: Fault,
        *,
        times: int = 1,
        code: str | int | None = None,
        delay: float = 5.0,
    ) -> None:
        """Answer the next `times` calls to `endpoint` with `fault`.

        http500: a 500 page; timeout: wait `delay` s, then answer normally; malformed: a 200
        that is not JSON; error: the documented answer for `code`, in the endpoint's own
        shape; drop_after_create: make the job, then answer 500 (the answer is lost).
        """
        if fault == "error" and code is None:
            raise ValueError("the 'error' fault needs code=")
        self._faults.setdefault(endpoint, deque()).append(_Injected(fault, times, code, delay))

    def advance(self, seconds: float) -> None:
        """Move the simulator's clock on: renders progress as if `seconds` had passed."""
        self._offset += seconds
        self._moved.set()

    async def register_endpoint(self, url: str, events: list[str] | None = None) -> str:
        """Register an endpoint as POST /v3/webhooks/endpoints does: probe it, then its secret."""
        assert self._session is not None
        try:
            hook = await register(self._session, url, events)
        except Refusal as refusal:
            raise ValueError(refusal.message) from None
        self.endpoints[hook.endpoint_id] = hook
        return hook.secret

    # --- handlers ---------------------------------------------------------------------------
    async def _create(self, request: web.Request, api: Literal["v3", "v2"]) -> web.StreamResponse:
        self.create_attempts += 1
        injected = self._take("create")
        drop = injected is not None and injected.fault == "drop_after_create"
        if not drop and (faulted := await self._fault(injected, api)) is not None:
            return faulted
        key = request.headers.get("Idempotency-Key") if api == "v3" else None
        self.create_keys.append(key)
        try:
            self._auth(request, api)
            raw = await request.read()
            if len(raw) > self.max_body_bytes:
                raise Refusal("payload_too_large")
            body = read_object(raw, api)
            video_id = self._replay(key, raw) if key is not None else None
            if video_id is None:
                video_id = await self._make(body, api, key, raw)
        except Refusal as refusal:
            return self._refuse(refusal, api)
        if drop:
            return web.Response(status=500, text="Internal Server Error")
        data = {"video_id": video_id}
        if api == "v3":
            data |= {"status": "waiting", "output_format": "mp4"}
        return web.json_response({"error": None, "data": data})

    async def _make(
        self, body: dict[str, Any], api: Literal["v3", "v2"], key: str | None, raw: bytes
    ) -> str:
        if key is not None:
            self._handling.add(key)
        try:
            if self.create_seconds:
                await asyncio.sleep(self.create_seconds)
            parse = parse_v3 if api == "v3" else parse_v2
            job = self._job(body, parse(body, self.looks, self.voices))
            started = (j.created for j in self.jobs.values())
            admit(self, self._made, started, test=job.test, now=self._now())
        finally:
            if key is not None:
                self._handling.discard(key)
        self.jobs[job.video_id] = job
        if key is not None:
            self._keys[key] = (hashlib.sha256(raw).hexdigest(), job.video_id)
        self.creates.append(body)
        self._spawn(self._deliver(job))
        if self.on_create is not None:
            # After the job exists, before the answer leaves: a crash test stops the caller
            # here, so it never learns the video id.
            self.on_create(body)
        return job.video_id

    async def _status(self, request: web.Request, shape: Shape) -> web.StreamResponse:
        self.status_calls += 1
        if (faulted := await self._fault(self._take("status"), shape)) is not None:
            return faulted
        try:
            self._auth(request, shape)
            if shape == "v3":
                job = self.jobs.get(request.match_info["video_id"])
                if job is None:
                    raise Refusal("not_found", "Video not found.")
                return web.json_response({"data": self._video(job, "v3")})
            job = self.jobs.get(request.query.get("video_id", ""))
            if job is None:
                raise Refusal(40104)
            answer = {"code": 100, "data": self._video(job, "v1"), "message": "Success"}
            return web.json_response(answer)
        except Refusal as refusal:
            return self._refuse(refusal, shape)

    async def _list(self, request: web.Request, kind: str) -> web.StreamResponse:
        self.list_calls[kind] += 1
        shape: Shape = "v2" if kind.startswith("v2") else "v3"
        endpoint: Endpoint = "voices" if kind.endswith("voices") else "looks"
        if (faulted := await self._fault(self._take(endpoint), shape)) is not None:
            return faulted
        try:
            self._auth(request, shape)
            if kind == "v2_avatars":
                data = v2_avatars(self.looks, self._origin)
                return web.json_response({"error": None, "data": data})
            if kind == "v2_voices":
                voices = [{**v, "preview_audio": v["preview_audio_url"]} for v in self.voices]
                return web.json_response({"error": None, "data": {"voices": voices}})
            if kind == "looks":
                items = [{**a, "preview_image_url": preview(a, self._origin)} for a in self.looks]
                return web.json_response(page(items, request.query, 50, self.page_size))
            wanted = request.query.get("type", "public")
            items = [v for v in self.voices if v.get("type", "public") == wanted]
            return web.json_response(page(items, request.query, 100, self.page_size))
        except Refusal as refusal:
            return self._refuse(refusal, shape)

    async def _file(self, request: web.Request) -> web.StreamResponse:
        expires = request.query.get("Expires", "")
        if "video_id" in request.match_info and not (
            expires.isdigit() and int(expires) > time.time()
        ):
            raise web.HTTPForbidden(text="Request has expired")
        name = request.match_info["name"]
        kind = "video/mp4" if name.endswith(".mp4") else "image/jpeg"
        return web.Response(body=b"\x00\x00\x00\x18ftypmp42" + name.encode(), content_type=kind)

    # --- rules ------------------------------------------------------------------------------
    def _auth(self, request: web.Request, shape: Shape) -> None:
        if request.headers.get(API_KEY_HEADER) != self.api_key:
            raise Refusal("unauthorized" if shape == "v3" else 40009)

    def _replay(self, key: str, raw: bytes) -> str | None:
        check_idempotency_key(key)
        if key in self._handling:
            raise Refusal("request_in_progress", retry_after=1)
        known = self._keys.get(key)
        if known is None:
            return None
        if known[0] != hashlib.sha256(raw).hexdigest():
            raise Refusal("conflict")
        return known[1]

    def _job(self, body: dict[str, Any], accepted: Accepted) -> Job:
        callback = body.get("callback_url")
        script, test = accepted.script, accepted.test
        return Job(
            video_id=secrets.token_hex(16),
            script=script,
            title=str(body.get("title") or ""),
            test=test,
            watermarked=test or self.trial_daily_cap is not None,
            captions=accepted.captions,
            callback_id=body.get("callback_id"),
            callback_url=callback if isinstance(callback, str) and callback else None,
            created=self._now(),
            failure=next((h for h in FAILURES if h in script), None),
        )

    # --- answers ----------------------------------------------------------------------------
    def _refuse(self, refusal: Refusal, shape: Shape) -> web.Response:
        response, retry = refusal_response(refusal, shape)
        if retry is not None:
            self.last_retry_after = retry
        return response

    def _video(self, job: Job, shape: Shape) -> dict[str, Any]:
        stage = stage_of(job, self._now() - job.created, self.render_seconds, self.stages)
        return video(job, shape, stage, self._origin)

    # --- webhooks ---------------------------------------------------------------------------
    async def _deliver(self, job: Job) -> None:
        while (left := job.created + self.render_seconds - self._now()) > 0:
            self._moved.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._moved.wait(), left)
        hooks = list(self.endpoints.values())
        await deliver(self._session, job, hooks, self._origin, self.deliveries)

    # --- internals --------------------------------------------------------------------------
    def _now(self) -> float:
        return time.monotonic() + self._offset

    def _take(self, endpoint: Endpoint) -> _Injected | None:
        return next_fault(self._faults.get(endpoint))

    async def _fault(self, injected: _Injected | None, shape: Shape) -> web.StreamResponse | None:
        if injected is None:
            return None
        if injected.fault == "http500":
            return web.Response(status=500, text="Internal Server Error")
        if injected.fault == "malformed":
            return web.Response(
                status=200, text="<html>gateway hiccup</html>", content_type="text/html"
            )
        if injected.fault == "error" and injected.code is not None:
            return self._refuse(Refusal(injected.code), shape)
        return await self._hold(injected.delay)
