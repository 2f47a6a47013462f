"""A local ViddyScribe: the documented Enterprise API on loopback, with uploads (a link, a
multipart file, the signed flow with a storage PUT on itself), the three generate endpoints,
get_results, signed links that really expire, and every documented error on demand.

Written from the documents (the seed, docs.viddyscribe.com, shared/providers.md section 4),
never from the client: a client table that drifted from them must make the tests fail. Where
the documents are silent the simulator picks a shape and says so ("assumed"). Link hints
steer a job: "fail-no-video" fails it as having no video stream once processed, "fail-render"
with a code the documents do not list; "long-video" is over the plan's length and
"audio-only" has no video stream, both refused at once.

This module is the server; `viddyscribe_data` holds the tables, `viddyscribe_rules` what a
request must be and how refusals read, `viddyscribe_state` the records and job answers.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections import deque
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Literal

from aiohttp import web

from providers.simulators.server import SimulatorServer, next_fault
from providers.simulators.viddyscribe_data import MP4_BYTES, WAV_BYTES
from providers.simulators.viddyscribe_media import (
    MULTIPART_MAX_BYTES,
    MediaDesk,
    Upload,
    storage_error,
)
from providers.simulators.viddyscribe_rules import (
    Refusal,
    RetryIn,
    Source,
    admit,
    answer,
    parse_config,
    parse_input,
    rate,
    read_object,
)
from providers.simulators.viddyscribe_state import (
    Job,
    Links,
    Media,
    OutputShape,
    failure_of,
    results,
    stage_of,
)

__all__ = ["Endpoint", "Fault", "ViddyScribeSimulator"]

API_KEY_HEADER = "X-API-Key"
PREFIX = "/enterprise/api"

Endpoint = Literal["upload", "put", "notify", "upload_status", "generate", "results", "download"]
Fault = Literal["http500", "timeout", "malformed", "error", "first_call"]
Output = Literal["text", "audio", "video"]


@dataclass
class _Injected:
    fault: Fault
    times: int  # calls left (first_call: distinct calls left)
    code: str | None
    retry_after: int | None
    retry_in: RetryIn
    delay: float
    seen: set[str] = field(default_factory=set)


class ViddyScribeSimulator(SimulatorServer):
    def __init__(
        self,
        api_key: str = "sim-viddyscribe-key",
        *,
        render_seconds: float = 0.6,
        link_seconds: float = 900.0,
        verify_seconds: float = 0.2,
        multipart_max_bytes: int = MULTIPART_MAX_BYTES,
        max_file_bytes: int = 5 * 1024**3,
        max_duration_seconds: float = 3 * 3600,
        features: frozenset[Output] = frozenset({"text", "audio", "video"}),
        allocation: int | None = None,
        queue_limit: int | None = None,
        per_minute: int | None = None,
        canonical_differs: bool = False,
        output_shape: OutputShape = "reference",
    ) -> None:
        super().__init__()
        self.api_key = api_key
        self.render_seconds = render_seconds
        self.links = Links(link_seconds)  # .seconds: how long a signed link works
        self.features = features
        self.allocation, self.queue_limit, self.per_minute = allocation, queue_limit, per_minute
        self.output_shape: OutputShape = output_shape
        # Uploads and their checks. A verified signed upload answers a canonical_media_id of
        # its own with `canonical_differs` (and when the same bytes came before).
        self.desk = MediaDesk(
            self._now,
            verify_seconds=verify_seconds,
            multipart_max_bytes=multipart_max_bytes,
            max_file_bytes=max_file_bytes,
            max_duration_seconds=max_duration_seconds,
            canonical_differs=canonical_differs,
        )
        self.jobs: dict[str, Job] = {}
        self.generates: list[dict[str, Any]] = []
        self.generate_attempts = 0
        self.results_calls = 0
        self.upload_status_calls = 0
        self.notify_calls = 0
        self.downloads = 0
        self.last_retry_after: int | None = None
        self._faults: dict[Endpoint, deque[_Injected]] = {}
        self._firsts: list[tuple[frozenset[Endpoint], _Injected]] = []
        self._calls: deque[float] = deque()
        self._offset = 0.0

    @property
    def media(self) -> dict[str, Media]:
        return self.desk.media

    @property
    def uploads(self) -> list[dict[str, Any]]:
        return self.desk.uploads

    @property
    def bytes_received(self) -> int:
        """Video bytes received: multipart files and storage PUTs."""
        return self.desk.bytes_received

    @property
    def put_headers(self) -> list[dict[str, str]]:
        """The headers of each storage PUT (the API key must not be among them)."""
        return self.desk.put_headers

    def _routes(self) -> list[web.RouteDef]:
        return [
            web.post(f"{PREFIX}/upload_media", self._upload),
            web.post(f"{PREFIX}/notify_upload_complete", self._notify),
            web.get(f"{PREFIX}/get_upload_status", self._upload_status),
            *(
                web.post(f"{PREFIX}/generate_ad_{kind}", partial(self._generate, endpoint=kind))
                for kind in ("text", "audio", "video")
            ),
            web.get(f"{PREFIX}/get_results", self._results),
            web.put("/storage/{token}", self._put),
            web.get("/files/{token}/{name}", self._download),
        ]

    # --- test controls ----------------------------------------------------------------------
    def inject(
        self,
        endpoint: Endpoint | Literal["any"],
        fault: Fault,
        *,
        times: int | None = 1,
        code: str | None = None,
        retry_after: int | None = None,
        retry_in: RetryIn = "body",
        delay: float = 5.0,
    ) -> None:
        """Answer the next `times` calls to `endpoint` ("any": every API endpoint) with `fault`.

        http500: a 500; timeout: wait `delay` s, then answer normally; malformed: a 200 that
        is not JSON; error: the documented answer for `code` (with `retry_after` in the body,
        the Retry-After header or both); first_call: `code` for the first attempt of each
        distinct call (same method, path, query and JSON body), so every call is refused once
        and its retry passes, for `times` distinct calls (None: all of them).
        """
        if fault in ("error", "first_call") and code is None:
            raise ValueError(f"the {fault!r} fault needs code=")
        left = 10**9 if times is None else times
        ends: tuple[Endpoint, ...] = (
            ("upload", "notify", "upload_status", "generate", "results")
            if endpoint == "any"
            else (endpoint,)
        )
        if fault == "first_call":
            first = _Injected(fault, left, code, retry_after, retry_in, delay)
            self._firsts.append((frozenset(ends), first))
            return
        for end in ends:  # each endpoint plays its own copy
            played = _Injected(fault, left, code, retry_after, retry_in, delay)
            self._faults.setdefault(end, deque()).append(played)

    def advance(self, seconds: float) -> None:
        """Move the simulator's clock on: jobs and upload checks progress as if `seconds`
        had passed (signed links keep to the wall clock)."""
        self._offset += seconds

    # --- uploads ----------------------------------------------------------------------------
    async def _upload(self, request: web.Request) -> web.StreamResponse:
        multipart = request.content_type.startswith("multipart/")
        raw = b"" if multipart else await request.read()
        if (faulted := await self._fault("upload", request, raw)) is not None:
            return faulted
        try:
            self._auth(request)
            if multipart:
                fields, upload = await self.desk.read_multipart(request)
                parse_input(read_object(fields.get("input", ""), "input field"), allowed=_FILE)
                if upload is None:
                    raise Refusal("bad_request", "The `file` field is required.")
                media = self.desk.new_media(Source("file"), upload)
            else:
                body = read_object(raw)
                source = parse_input(body.get("input"), allowed=_URL | {"signed_url"})
                if source.type == "signed_url":
                    return web.json_response(self.desk.signed(source, self._origin))
                media = self.desk.new_media(source, None)
        except Refusal as refusal:
            return self._refuse(refusal)
        return web.json_response(
            {
                "media_id": media.media_id,
                "status": "created",
                "duration_seconds": media.duration,
                "frame_rate": 30,
            }
        )

    async def _put(self, request: web.Request) -> web.StreamResponse:
        if (faulted := await self._fault("put", request)) is not None:
            return faulted
        return await self.desk.put(request)

    async def _notify(self, request: web.Request) -> web.StreamResponse:
        self.notify_calls += 1
        raw = await request.read()
        if (faulted := await self._fault("notify", request, raw)) is not None:
            return faulted
        try:
            self._auth(request)
            body = read_object(raw)
            media = self.desk.signed_media(body.get("media_id"), body.get("gcs_path"))
            self.desk.notify(media)
        except Refusal as refusal:
            return self._refuse(refusal)
        # assumed: the documents show no answer body for notify_upload_complete.
        return web.json_response(
            {"media_id": media.media_id, "gcs_path": media.gcs_path, "status": "pending"}
        )

    async def _upload_status(self, request: web.Request) -> web.StreamResponse:
        self.upload_status_calls += 1
        if (faulted := await self._fault("upload_status", request)) is not None:
            return faulted
        try:
            self._auth(request)
            media = self.desk.signed_media(
                request.query.get("media_id"), request.query.get("gcs_path")
            )
        except Refusal as refusal:
            return self._refuse(refusal)
        return web.json_response(self.desk.status(media))

    # --- generation -------------------------------------------------------------------------
    async def _generate(self, request: web.Request, endpoint: Output) -> web.StreamResponse:
        self.generate_attempts += 1
        multipart = request.content_type.startswith("multipart/")
        raw = b"" if multipart else await request.read()
        if (faulted := await self._fault("generate", request, raw)) is not None:
            return faulted
        try:
            self._auth(request)
            rate(self._calls, self.per_minute, self._now())
            upload: Upload | None = None
            if multipart:
                fields, upload = await self.desk.read_multipart(request)
                source = parse_input(
                    read_object(fields.get("input", ""), "input field"), allowed=_FILE
                )
                wanted: Any = read_object(
                    fields.get("generation_config", "{}"), "generation_config"
                )
                if upload is None:
                    raise Refusal("bad_request", "The `file` field is required.")
            else:
                body = read_object(raw)
                source = parse_input(body.get("input"), allowed=_URL | {"media_id"})
                wanted = body.get("generation_config")
            config = parse_config(wanted, endpoint)
            if endpoint not in self.features:
                raise Refusal("feature_not_available")
            admit(
                self.jobs.values(),
                allocation=self.allocation,
                queue_limit=self.queue_limit,
                render_seconds=self.render_seconds,
                now=self._now(),
            )
            if source.type == "media_id":
                media = self.desk.usable(source.value)
            else:
                media = self.desk.new_media(source, upload)
        except Refusal as refusal:
            return self._refuse(refusal)
        job = Job(
            job_id=f"task_{secrets.token_hex(8)}",
            endpoint=endpoint,
            media_id=media.media_id,
            config=config,
            created=self._now(),
            created_wall=time.time(),
            failure=failure_of(media.hint),
        )
        self.jobs[job.job_id] = job
        shown = {"type": source.type, "value": source.value or media.media_id}
        self.generates.append({"endpoint": endpoint, "input": shown, "generation_config": wanted})
        return web.json_response(
            {"job_id": job.job_id, "status": "queued", "media_id": job.media_id}
        )

    async def _results(self, request: web.Request) -> web.StreamResponse:
        self.results_calls += 1
        if (faulted := await self._fault("results", request)) is not None:
            return faulted
        try:
            self._auth(request)
            job = self.jobs.get(request.query.get("job_id", ""))
            if job is None:
                raise Refusal("not_found", "Job not found")
        except Refusal as refusal:
            return self._refuse(refusal)
        stage = stage_of(job, self._now(), self.render_seconds)
        return web.json_response(
            results(job, stage, self.links, self._origin, shape=self.output_shape)
        )

    async def _download(self, request: web.Request) -> web.StreamResponse:
        self.downloads += 1
        if (faulted := await self._fault("download", request)) is not None:
            return faulted
        link = self.links.find(request.match_info["token"])
        if link is None:
            known = request.match_info["token"] in self.links.by_token
            return storage_error("ExpiredToken" if known else "AccessDenied")
        if link.kind == "video":
            return web.Response(body=MP4_BYTES + link.job_id.encode(), content_type="video/mp4")
        return web.Response(body=WAV_BYTES + link.job_id.encode(), content_type="audio/wav")

    # --- rules ------------------------------------------------------------------------------
    def _auth(self, request: web.Request) -> None:
        if request.headers.get(API_KEY_HEADER) != self.api_key:
            raise Refusal("unauthorized")

    # --- faults -----------------------------------------------------------------------------
    def _refuse(self, refusal: Refusal, retry_in: RetryIn = "body") -> web.Response:
        response, retry = answer(refusal, retry_in)
        if retry is not None:
            self.last_retry_after = retry
        return response

    async def _fault(
        self, endpoint: Endpoint, request: web.Request, raw: bytes = b""
    ) -> web.StreamResponse | None:
        call = f"{request.method} {request.path_qs} {hashlib.sha256(raw).hexdigest()}"
        for ends, first in self._firsts:
            if endpoint in ends and call not in first.seen and first.times > 0:
                first.seen.add(call)
                first.times -= 1
                assert first.code is not None
                return self._refuse(
                    Refusal(first.code, retry_after=first.retry_after), first.retry_in
                )
        injected = next_fault(self._faults.get(endpoint))
        if injected is None:
            return None
        if injected.fault == "http500":
            return web.json_response(
                {"error": "internal_error", "message": "Internal server error"}, status=500
            )
        if injected.fault == "malformed":
            return web.Response(text="<html>gateway hiccup</html>", content_type="text/html")
        if injected.fault == "error" and injected.code is not None:
            refusal = Refusal(injected.code, retry_after=injected.retry_after)
            return self._refuse(refusal, injected.retry_in)
        return await self._hold(injected.delay)

    def _now(self) -> float:
        return time.monotonic() + self._offset


_URL = frozenset({"url"})
_FILE = frozenset({"file"})
