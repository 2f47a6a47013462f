"""A local HeyGen: the documented v3 and v1/v2 APIs on loopback, with webhooks and faults.

Written from the documents (the seed, shared/providers.md section 3, heygen-cli's schemas),
never from the client: a client table that drifted from them must make the tests fail.
Where the documents are silent the simulator picks a shape and says so ("assumed").
Script hints steer a render: "fail-too-long" fails it as too long for the plan (40119) and
"fail-render" fails it with a code the documents do not list.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import math
import re
import secrets
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal

import aiohttp
from aiohttp import web

API_KEY_HEADER = "X-Api-Key"
MAX_SCRIPT = 5000
ASPECT_RATIOS = frozenset({"16:9", "9:16", "4:5", "5:4", "1:1", "auto"})
IDEMPOTENCY_KEY = re.compile(r"[A-Za-z0-9_:.\-]{1,255}")
HEX_COLOUR = re.compile(r"#[0-9A-Fa-f]{6}")
LINK_SECONDS = 7 * 86400
_V3_FIELDS = """type avatar_id script voice_id audio_url audio_asset_id aspect_ratio resolution
output_format background caption voice_settings engine callback_url callback_id title fit
expressiveness motion_prompt remove_background watermark"""
V3_AVATAR_FIELDS = frozenset(_V3_FIELDS.split())
_V2_FIELDS = """video_inputs dimension caption caption_mode title callback_id callback_url
folder_id fps enable_watermark test subtitles"""
V2_FIELDS = frozenset(_V2_FIELDS.split())

# code -> (HTTP status, message). v3 string codes per developers.heygen.com/docs/error-codes;
# avatar/voice_not_found as v2 generate spells them; the two caps are assumed spellings.
STRING_CODES: dict[str, tuple[int, str]] = {
    "unauthorized": (401, "The API key provided is invalid, expired, or missing."),
    "forbidden": (403, "The API key does not have permission to perform this request."),
    "resource_access_denied": (403, "You do not have access to this resource."),
    "insufficient_credit": (402, "Your account does not have enough credits for this video."),
    "not_found": (404, "The requested resource does not exist."),
    "validation_error": (400, "The request contained invalid parameters."),
    "rate_limit_exceeded": (429, "Too many concurrent video jobs."),
    "payload_too_large": (400, "The request body is too large."),
    "conflict": (409, "Idempotency-Key was reused with a different request body."),
    "request_in_progress": (409, "A request with this Idempotency-Key is still in progress."),
    "asset_not_available": (400, "The asset is not available."),
    "download_failed": (400, "The asset could not be downloaded."),
    "avatar_not_found": (404, "Avatar not found."),
    "voice_not_found": (404, "Voice not found."),
    "trial_limit_exceeded": (429, "The trial key's daily video limit is reached."),
    "test_mode_limit_exceeded": (429, "Test mode allows 10 videos a day and 60 a week."),
}
# v1/v2 numeric codes (docs.heygen.com/reference/errors; 40104 is marked unconfirmed there).
NUMERIC_CODES: dict[int, tuple[int, str]] = {
    40009: (401, "Invalid credentials provided"),
    40001: (400, "Missing required input parameters"),
    400175: (400, "Invalid parameter"),
    40104: (404, "Video not found"),
    400112: (401, "Unauthorized"),
}
# Render failures: v3 failure_code (assumed spellings) and the v2 error the seed shows.
FAILURES = {
    "fail-too-long": (
        "video_too_long",
        {
            "code": 40119,
            "message": "Video is too long",
            "detail": "Video is too long "
            "(> 3600.0s). Please upgrade your plan to generate longer videos",
        },
    ),
    "fail-render": ("render_error", {"code": 40099, "message": "Rendering failed"}),
}

RACHEL, PAUL, LUCIA = (
    "2d5b0e6cf36f460aa7fc47e3eee4ba54",
    "1bd001e7e50f421d891986aad5158bc8",
    "c8e176c17f814004bd0d93fc1a3fac53",
)
_LOOK_KEYS = ("id", "name", "gender", "avatar_type", "default_voice_id")
LOOKS: tuple[dict[str, Any], ...] = tuple(
    dict(zip(_LOOK_KEYS, row, strict=True))
    for row in (
        ("Daisy-inskirt-20220818", "Daisy in a skirt", "female", "studio_avatar", RACHEL),
        ("Tyler-incasualsuit-20220721", "Tyler in a casual suit", "male", "studio_avatar", PAUL),
        ("Anna_public_3_20240108", "Anna at the office", "female", "studio_avatar", None),
        ("Wayne_20240711", "Wayne", "male", "digital_twin", LUCIA),
        ("Monica_inSleeveless_20220819", "Monica", "female", "studio_avatar", RACHEL),
        ("look_lena_photo_01", "Lena (photo)", "female", "photo_avatar", None),
        ("Kai_sitting_20230601", "Kai sitting", "male", "studio_avatar", None),
    )
)
_VOICE_KEYS = ("voice_id", "name", "language", "gender", "type")
_VOICE_EXTRA = {"preview_audio_url": None, "support_pause": True, "support_locale": False}
VOICES: tuple[dict[str, Any], ...] = tuple(
    dict(zip(_VOICE_KEYS, row, strict=True)) | _VOICE_EXTRA
    for row in (
        (RACHEL, "Rachel", "English", "female", "public"),
        (PAUL, "Paul", "English", "male", "public"),
        (LUCIA, "Lucía", "Spanish", "female", "public"),
        ("d92994ae0de34b2e8659b456a2f388b8", "Mateo", "Spanish", "male", "public"),
        ("077ab11b14f04ce0b49b5f6e5cc20979", "Greta", "German", "female", "public"),
        ("ee4c8d9a7b2f4a3e9d1c6b5a4f3e2d1c", "Jonas", "German", "male", "public"),
        ("5f8a2c1e9b7d4f6a8c3e1b9d7f5a3c1e", "Haruto", "Japanese", "male", "public"),
        ("a1b2c3d4e5f60718293a4b5c6d7e8f90", "Our CEO (clone)", "English", "male", "private"),
    )
)

Endpoint = Literal["create", "status", "looks", "voices"]
Fault = Literal["http500", "timeout", "malformed", "drop_after_create", "error"]
Shape = Literal["v3", "v2", "v1"]


class _Refusal(Exception):
    def __init__(
        self,
        code: str | int,
        message: str | None = None,
        *,
        param: str | None = None,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(code)
        self.code, self.message, self.param, self.retry_after = code, message, param, retry_after


@dataclass
class _Injected:
    fault: Fault
    times: int
    code: str | int | None
    delay: float


@dataclass
class _Job:
    video_id: str
    script: str
    title: str
    test: bool
    watermarked: bool
    captions: bool
    callback_id: str | None
    callback_url: str | None
    created: float
    failure: str | None


@dataclass
class _Hook:
    endpoint_id: str
    url: str
    secret: str
    events: list[str] | None


class HeyGenSimulator:
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
        self.jobs: dict[str, _Job] = {}
        self.endpoints: dict[str, _Hook] = {}
        self._keys: dict[str, tuple[str, str]] = {}  # Idempotency-Key -> (body hash, video id)
        self._handling: set[str] = set()
        self._faults: dict[Endpoint, deque[_Injected]] = {}
        self._made: deque[tuple[float, bool]] = deque()  # (when, test) per accepted create
        self._offset = 0.0
        self._moved = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self._stopping = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._origin = ""

    # --- lifecycle --------------------------------------------------------------------------
    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        app = web.Application(client_max_size=max(self.max_body_bytes * 2, 1024**2))
        add = app.router
        add.add_post("/v3/videos", partial(self._create, api="v3"))
        add.add_post("/v2/video/generate", partial(self._create, api="v2"))
        add.add_get("/v3/videos/{video_id}", partial(self._status, shape="v3"))
        add.add_get("/v1/video_status.get", partial(self._status, shape="v1"))
        add.add_get("/v3/avatars/looks", partial(self._list, kind="looks"))
        add.add_get("/v3/voices", partial(self._list, kind="voices"))
        add.add_get("/v2/avatars", partial(self._list, kind="v2_avatars"))
        add.add_get("/v2/voices", partial(self._list, kind="v2_voices"))
        add.add_get("/files/{video_id}/{name}", self._file)
        add.add_get("/previews/{name}", self._file)
        self._stopping.clear()
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5))
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port).start()
        bound_host, bound_port = self._runner.addresses[0][:2]
        self._origin = f"http://{bound_host}:{bound_port}"

    async def stop(self) -> None:
        self._stopping.set()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def base_url(self) -> str:
        if not self._origin:
            raise RuntimeError("the simulator is not started")
        return self._origin

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
        try:
            return (await self._register(url, events)).secret
        except _Refusal as refusal:
            raise ValueError(refusal.message) from None

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
                raise _Refusal("payload_too_large")
            body = _object(raw, api)
            video_id = self._replay(key, raw) if key is not None else None
            if video_id is None:
                video_id = await self._make(body, api, key, raw)
        except _Refusal as refusal:
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
            job = self._parse_v3(body) if api == "v3" else self._parse_v2(body)
            self._admit(job)
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
                    raise _Refusal("not_found", "Video not found.")
                return web.json_response({"data": self._video(job, "v3")})
            job = self.jobs.get(request.query.get("video_id", ""))
            if job is None:
                raise _Refusal(40104)
            answer = {"code": 100, "data": self._video(job, "v1"), "message": "Success"}
            return web.json_response(answer)
        except _Refusal as refusal:
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
                avatars = [
                    {"avatar_id": a["id"], "avatar_name": a["name"], "gender": a["gender"]}
                    | {"preview_image_url": self._preview(a), "premium": False}
                    for a in self.looks
                ]
                data = {"avatars": avatars, "talking_photos": []}
                return web.json_response({"error": None, "data": data})
            if kind == "v2_voices":
                voices = [{**v, "preview_audio": v["preview_audio_url"]} for v in self.voices]
                return web.json_response({"error": None, "data": {"voices": voices}})
            if kind == "looks":
                items = [{**a, "preview_image_url": self._preview(a)} for a in self.looks]
                return web.json_response(_page(items, request.query, 50, self.page_size))
            wanted = request.query.get("type", "public")
            items = [v for v in self.voices if v.get("type", "public") == wanted]
            return web.json_response(_page(items, request.query, 100, self.page_size))
        except _Refusal as refusal:
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
            raise _Refusal("unauthorized" if shape == "v3" else 40009)

    def _replay(self, key: str, raw: bytes) -> str | None:
        if not IDEMPOTENCY_KEY.fullmatch(key):
            raise _Refusal(
                "validation_error",
                "Idempotency-Key must be 1-255 characters of [A-Za-z0-9_:.-].",
                param="Idempotency-Key",
            )
        if key in self._handling:
            raise _Refusal("request_in_progress", retry_after=1)
        known = self._keys.get(key)
        if known is None:
            return None
        if known[0] != hashlib.sha256(raw).hexdigest():
            raise _Refusal("conflict")
        return known[1]

    def _parse_v3(self, body: dict[str, Any]) -> _Job:
        for name in body:
            if name not in V3_AVATAR_FIELDS:
                raise _Refusal("validation_error", f"Unknown field {name}.", param=name)
        if body.get("type") != "avatar":
            raise _Refusal(
                "validation_error",
                "type must be one of avatar, image, cinematic_avatar, studio.",
                param="type",
            )
        look = self._look(body.get("avatar_id"), "avatar_id", "validation_error")
        voice_id = body.get("voice_id")
        self._voice(voice_id, look, "voice_id", "validation_error")
        script = _script(body.get("script"), "script", "validation_error")
        aspect = body.get("aspect_ratio", "16:9")
        if aspect is not None and aspect not in ASPECT_RATIOS:
            raise _Refusal("validation_error", "Unsupported aspect_ratio.", param="aspect_ratio")
        background = body.get("background")
        if background is not None and not _colour_ok(background, ("color", "image")):
            raise _Refusal(
                "validation_error",
                "background.value must be a hex colour such as #ff0000.",
                param="background.value",
            )
        caption = body.get("caption")
        if caption is not None and not (
            isinstance(caption, dict)
            and caption.get("file_format", "srt") == "srt"
            and caption.get("style") in (None, "default")
        ):
            raise _Refusal("validation_error", "Invalid caption settings.", param="caption")
        return self._job(body, script, test=False, captions=caption is not None)

    def _parse_v2(self, body: dict[str, Any]) -> _Job:
        for name in body:
            if name not in V2_FIELDS:
                raise _Refusal(400175, f"Invalid parameter: {name}")
        scenes = body.get("video_inputs")
        if not isinstance(scenes, list) or not 1 <= len(scenes) <= 50:
            raise _Refusal(40001, "video_inputs must hold 1-50 scenes")
        script = ""
        for scene in scenes:
            character = scene.get("character") if isinstance(scene, dict) else None
            voice = scene.get("voice") if isinstance(scene, dict) else None
            if not isinstance(character, dict) or not isinstance(voice, dict):
                raise _Refusal(40001, "character and voice are required")
            if character.get("type") != "avatar":
                raise _Refusal(400175, "character.type must be avatar")
            look = self._look(character.get("avatar_id"), "avatar_id", 40001)
            if voice.get("type") != "text" or not voice.get("voice_id"):
                raise _Refusal(40001, "voice.type text with a voice_id is required")
            self._voice(voice.get("voice_id"), look, "voice_id", 40001)
            script += _script(voice.get("input_text"), "input_text", 400175)
            background = scene.get("background")
            if background is not None and not _colour_ok(background, ("color",)):
                raise _Refusal(400175, "background.value must be a hex colour")
        dimension = body.get("dimension", {"width": 1280, "height": 720})
        if not isinstance(dimension, dict) or not all(
            _int(dimension.get(side))
            and 128 <= dimension[side] <= 4096
            and dimension[side] % 2 == 0
            for side in ("width", "height")
        ):
            raise _Refusal(400175, "dimension must be even numbers from 128 to 4096")
        if len(script) > MAX_SCRIPT:
            raise _Refusal(400175, f"input_text is longer than {MAX_SCRIPT} characters")
        test = body.get("test") is True
        return self._job(body, script, test=test, captions=body.get("caption") is True)

    def _job(self, body: dict[str, Any], script: str, *, test: bool, captions: bool) -> _Job:
        callback = body.get("callback_url")
        return _Job(
            video_id=secrets.token_hex(16),
            script=script,
            title=str(body.get("title") or ""),
            test=test,
            watermarked=test or self.trial_daily_cap is not None,
            captions=captions,
            callback_id=body.get("callback_id"),
            callback_url=callback if isinstance(callback, str) and callback else None,
            created=self._now(),
            failure=next((h for h in FAILURES if h in script), None),
        )

    def _look(self, avatar_id: Any, param: str, missing: str | int) -> dict[str, Any]:
        if not isinstance(avatar_id, str) or not avatar_id:
            raise _Refusal(missing, f"{param} is required.", param=param)
        look = next((a for a in self.looks if a["id"] == avatar_id), None)
        if look is None:
            raise _Refusal("avatar_not_found", f"Avatar {avatar_id} not found.", param=param)
        return look

    def _voice(self, voice_id: Any, look: dict[str, Any], param: str, missing: str | int) -> None:
        if voice_id is None:
            if not look.get("default_voice_id"):
                raise _Refusal(
                    missing, f"{param} is required: this avatar has no default voice.", param=param
                )
            return
        if not any(v["voice_id"] == voice_id for v in self.voices):
            raise _Refusal("voice_not_found", f"Voice {voice_id} not found.", param=param)

    def _admit(self, job: _Job) -> None:
        """Caps, credits and concurrency, in that order (the order is assumed)."""
        now = self._now()
        while self._made and now - self._made[0][0] >= 7 * 86400:
            self._made.popleft()
        day = [test for at, test in self._made if now - at < 86400]
        if job.test and (
            day.count(True) >= self.test_daily_cap
            or sum(test for _, test in self._made) >= self.test_weekly_cap
        ):
            raise _Refusal("test_mode_limit_exceeded")
        if (
            not job.test
            and self.trial_daily_cap is not None
            and (day.count(False) >= self.trial_daily_cap)
        ):
            raise _Refusal("trial_limit_exceeded")
        if not job.test and self.credits < self.credit_per_video:
            raise _Refusal("insufficient_credit")
        running = [j for j in self.jobs.values() if now - j.created < self.render_seconds]
        if len(running) >= self.concurrency:
            soonest = min((j.created + self.render_seconds for j in running), default=now) - now
            raise _Refusal("rate_limit_exceeded", retry_after=max(1, math.ceil(soonest)))
        if not job.test:
            self.credits -= self.credit_per_video
        self._made.append((now, job.test))

    # --- answers ----------------------------------------------------------------------------
    def _refuse(self, refusal: _Refusal, shape: Shape) -> web.Response:
        code = refusal.code
        table: dict[Any, tuple[int, str]] = NUMERIC_CODES if isinstance(code, int) else STRING_CODES
        status, message = table.get(code, (400, "Simulated error."))
        message = refusal.message or message
        headers = {}
        if refusal.retry_after is not None or status == 429:
            retry = refusal.retry_after if refusal.retry_after is not None else 7
            self.last_retry_after = retry
            headers["Retry-After"] = str(retry)
        if shape == "v1":
            body: dict[str, Any] = {"code": code, "message": message}
        elif shape == "v2":
            body = {"data": None, "error": {"code": code, "message": message}}
        else:
            error: dict[str, Any] = {
                "code": code,
                "message": message,
                "doc_url": f"https://developers.heygen.com/docs/error-codes#{code}",
            }
            if refusal.param is not None:
                error["param"] = refusal.param
            body = {"error": error}
        return web.json_response(body, status=status, headers=headers)

    def _stage(self, job: _Job) -> str:
        elapsed = self._now() - job.created
        if elapsed >= self.render_seconds:
            return "failed" if job.failure else "completed"
        step = self.render_seconds / len(self.stages)
        return self.stages[min(int(elapsed / step), len(self.stages) - 1)]

    def _links(self, job: _Job) -> dict[str, str]:
        """Presigned-looking links, signed again on every call as HeyGen does."""
        expires = int(time.time()) + LINK_SECONDS
        name = "watermarked.mp4" if job.watermarked else "video.mp4"

        def signed(file: str) -> str:
            return (
                f"{self._origin}/files/{job.video_id}/{file}?Expires={expires}"
                f"&Signature={secrets.token_hex(16)}&Key-Pair-Id=SIMHEYGEN"
            )

        links = {
            "video_url": signed(name),
            "thumbnail_url": signed("thumbnail.jpg"),
            "gif_url": signed("preview.gif"),
        }
        if job.captions:
            links |= {"captioned": signed("captioned.mp4"), "subtitle": signed("captions.srt")}
        return links

    def _video(self, job: _Job, shape: Shape) -> dict[str, Any]:
        """GET /v3/videos/{id} `data`, or v1 video_status.get `data` (the seed's fields)."""
        stage, v3 = self._stage(job), shape == "v3"
        data: dict[str, Any] = {"id": job.video_id, "status": stage, "duration": None}
        data |= {"title": job.title or None} if v3 else {"callback_id": job.callback_id}
        data |= dict.fromkeys(
            ("video_url", "thumbnail_url", "gif_url", *(() if v3 else ("error",)))
        )
        if stage == "completed":
            links = self._links(job)
            data |= {k: links[k] for k in ("video_url", "thumbnail_url", "gif_url")}
            data["duration"] = round(max(1.0, len(job.script.split()) / 2.5), 3)
            captioned, subtitle = links.get("captioned"), links.get("subtitle")
            if v3:
                data |= {"captioned_video_url": captioned, "subtitle_url": subtitle}
            else:
                data |= {"video_url_caption": captioned, "caption_url": subtitle}
        elif stage == "failed" and job.failure is not None:
            code, error = FAILURES[job.failure]
            if v3:
                data |= {
                    "failure_code": code,
                    "failure_message": error.get("detail") or error["message"],
                }
            else:
                data["error"] = error
        return data

    def _preview(self, look: dict[str, Any]) -> str:
        return look.get("preview_image_url") or f"{self._origin}/previews/{look['id']}.jpg"

    # --- webhooks ---------------------------------------------------------------------------
    async def _register(self, url: str, events: list[str] | None) -> _Hook:
        # HeyGen probes a new endpoint with OPTIONS (1 s timeout) before it accepts it.
        assert self._session is not None
        try:
            async with self._session.options(url, timeout=aiohttp.ClientTimeout(total=1)) as probe:
                ok = probe.status < 400
        except (aiohttp.ClientError, TimeoutError):
            ok = False
        if not ok:
            raise _Refusal(
                "validation_error", "Url of this webhook endpoint is invalid.", param="url"
            )
        hook = _Hook(secrets.token_hex(16), url, "whsec_" + secrets.token_urlsafe(24), events)
        self.endpoints[hook.endpoint_id] = hook
        return hook

    async def _deliver(self, job: _Job) -> None:
        while (left := job.created + self.render_seconds - self._now()) > 0:
            self._moved.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._moved.wait(), left)
        failed = job.failure is not None
        event = "avatar_video.fail" if failed else "avatar_video.success"
        data: dict[str, Any] = {"video_id": job.video_id, "callback_id": job.callback_id}
        if failed and job.failure is not None:
            data["msg"] = FAILURES[job.failure][1]["message"]
        else:
            data["url"] = self._links(job)["video_url"]
        body = json.dumps({"event_type": event, "event_data": data}).encode()
        targets: list[tuple[str, dict[str, str]]] = []
        if job.callback_url is not None:
            targets.append((job.callback_url, {}))  # per-job callbacks are not signed
        for hook in list(self.endpoints.values()):
            if hook.events is None or event in hook.events:
                signature = hmac.new(hook.secret.encode(), body, hashlib.sha256).hexdigest()
                targets.append((hook.url, {"Signature": signature}))
        for url, headers in targets:
            headers = {"Content-Type": "application/json", **headers}
            self.deliveries.append((url, headers, body))
            with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                assert self._session is not None
                async with self._session.post(url, data=body, headers=headers) as answer:
                    await answer.read()

    # --- internals --------------------------------------------------------------------------
    def _now(self) -> float:
        return time.monotonic() + self._offset

    def _spawn(self, work: Any) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _take(self, endpoint: Endpoint) -> _Injected | None:
        queue = self._faults.get(endpoint)
        if not queue:
            return None
        injected = queue[0]
        injected.times -= 1
        if injected.times <= 0:
            queue.popleft()
        return injected

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
            return self._refuse(_Refusal(injected.code), shape)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), injected.delay)
        if self._stopping.is_set():
            return web.Response(status=503, text="shutting down")
        return None


def _object(raw: bytes, api: Shape) -> dict[str, Any]:
    try:
        body = json.loads(raw)
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise _Refusal("validation_error" if api == "v3" else 400175, "Body must be a JSON object.")
    return body


def _script(value: Any, param: str, code: str | int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _Refusal(code, f"{param} is required.", param=param)
    if len(value) > MAX_SCRIPT:
        raise _Refusal(code, f"{param} must be at most {MAX_SCRIPT} characters.", param=param)
    return value


def _colour_ok(background: Any, types: tuple[str, ...]) -> bool:
    if not isinstance(background, dict) or background.get("type") not in types:
        return False
    return background.get("type") != "color" or bool(
        isinstance(background.get("value"), str) and HEX_COLOUR.fullmatch(background["value"])
    )


def _int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _page(items: list[dict[str, Any]], query: Any, most: int, size: int) -> dict[str, Any]:
    """One page as v3 lists answer: `limit` 1..most, an opaque `token`, has_more/next_token."""
    raw_limit, token = query.get("limit", "20"), query.get("token")
    if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= most:
        raise _Refusal("validation_error", f"limit must be 1-{most}.", param="limit")
    start = 0
    if token is not None:
        if not (token.startswith("pg_") and token[3:].isdigit()):
            raise _Refusal("validation_error", "Invalid pagination token.", param="token")
        start = int(token[3:])
    end = start + min(int(raw_limit), size)
    more = end < len(items)
    return {"data": items[start:end], "has_more": more, "next_token": f"pg_{end}" if more else None}
