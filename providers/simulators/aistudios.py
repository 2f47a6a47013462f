"""A local DeepBrain AI Studios V3: a real HTTP server speaking the documented API on loopback.

Token exchange (tokens that expire), the model list with clothes, project create validated as
the 1.6.x reference describes, progress that climbs from 0 to 100 over `render_seconds`, a fresh
signed-looking downloadUrl on every answer, webhookUrl called back, and faults on demand.

Answers use the documented envelope `{success, data, error: {code, msg}}`. The video API lists
no error codes, so this simulator uses the family DeepBrain documents for its Interactive Avatar
API (HTTP status x 10: 4000, 4010, 4030, 4040, 4290, 5000) plus finer codes in that family that
are assumed: 4011 token expired, 4012 app id or user key wrong, 4031 plan without the API, 4032
out of credits, 4041 project, 4042 model and 4043 clothes not found. It never imports the client:
a client table that drifted from these must make the tests fail.

This module is the server and its state; `aistudios_data` holds the default models and
`aistudios_rules` what a project create body must be.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

import aiohttp
from aiohttp import web

from providers.simulators.aistudios_data import DEFAULT_MODELS
from providers.simulators.aistudios_rules import validate
from providers.simulators.server import SimulatorServer, next_fault

__all__ = ["DEFAULT_MODELS", "AIStudiosSimulator", "Endpoint", "Fault", "envelope_error"]

PREFIX = "/api/odin/v3"

_Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Endpoint = Literal["token", "models", "create", "progress", "project"]
Fault = Literal["http500", "timeout", "malformed", "code", "expire_token_now"]


@dataclass
class _Injected:
    fault: Fault
    times: int
    code: int
    status: int | None
    delay: float
    retry_after: float | None


@dataclass
class _Project:
    project_id: str
    body: dict[str, Any]
    created: float
    export: bool
    fails: bool
    credit: int
    webhook_url: str | None
    backend_task_id: str = field(default_factory=lambda: secrets.token_hex(12))


def envelope_error(code: int, status: int | None = None, **headers: str) -> web.Response:
    """The documented failure envelope with the HTTP status its code family implies."""
    if status is None:
        status = code // 10 if 400 <= code // 10 < 600 else 200
    body = {
        "success": False,
        "data": None,
        "error": {"code": code, "msg": f"simulated error {code}"},
    }
    return web.json_response(body, status=status, headers=headers or None)


def _ok(data: Any) -> web.Response:
    return web.json_response({"success": True, "data": data, "error": None})


class AIStudiosSimulator(SimulatorServer):
    def __init__(
        self,
        app_id: str = "sim-app",
        user_key: str = "sim-user-key",
        *,
        token_seconds: float = 86400.0,
        render_seconds: float = 1.0,
        models: tuple[dict[str, Any], ...] | list[dict[str, Any]] = DEFAULT_MODELS,
        credits: int = 10_000,
        credit_per_video: int = 1,
        api_plan: bool = True,
        max_script_chars: int | None = None,
    ) -> None:
        super().__init__()
        self.app_id = app_id
        self.user_key = user_key
        self.token_seconds = token_seconds
        self.render_seconds = render_seconds
        self.models: list[dict[str, Any]] = [dict(m) for m in models]
        self.credits = credits
        self.credit_per_video = credit_per_video
        # False: the account's plan is below Pro, so the token exchange is refused (4031).
        self.api_plan = api_plan
        self.max_script_chars = max_script_chars
        # Renders that end in state "failed" (an assumed state): the next `failing_renders`.
        self.failing_renders = 0
        self.on_create: Callable[[dict[str, Any]], None] | None = None
        # Counters and records for tests.
        self.calls: Counter[Endpoint] = Counter()  # every call, faulted or not
        self.token_exchanges = 0  # tokens issued
        self.exchange_times: list[float] = []  # time.monotonic() of each token issued
        self.refused = 0  # calls answered 401 for a missing, wrong or expired token
        self.creates: list[dict[str, Any]] = []  # bodies of the projects made
        self.webhooks: list[tuple[str, dict[str, Any]]] = []
        self.tokens: dict[str, float] = {}  # every token issued -> when it expires
        self._projects: dict[str, _Project] = {}
        self._faults: dict[Endpoint, deque[_Injected]] = {e: deque() for e in get_args(Endpoint)}

    # --- lifecycle --------------------------------------------------------------------------
    def _routes(self) -> list[web.RouteDef]:
        route = self._route
        return [
            web.post(f"{PREFIX}/auth/token", route("token", self._token)),
            web.get(f"{PREFIX}/model", route("models", self._models)),
            web.post(f"{PREFIX}/editor/project", route("create", self._create)),
            web.get(f"{PREFIX}/editor/project/{{id}}", route("project", self._project)),
            web.get(f"{PREFIX}/editor/progress/{{id}}", route("progress", self._progress)),
        ]

    @property
    def create_attempts(self) -> int:
        return self.calls["create"]

    # --- test controls ----------------------------------------------------------------------
    def inject(
        self,
        endpoint: Endpoint,
        fault: Fault,
        *,
        times: int = 1,
        code: int = 5000,
        status: int | None = None,
        delay: float = 5.0,
        retry_after: float | None = None,
    ) -> None:
        """Answer the next `times` calls to `endpoint` with `fault` instead of the real answer.

        http500: a 500 page; timeout: wait `delay` seconds, then answer normally; malformed: a
        200 whose body is not JSON; code: the error envelope for `code`, with `status` (by
        default the code's family: 4290 -> 429) and a Retry-After of `retry_after`;
        expire_token_now: every token issued so far expires, then the call goes on as usual.
        """
        self._faults[endpoint].append(_Injected(fault, times, code, status, delay, retry_after))

    def expire_tokens(self) -> None:
        now = time.monotonic()
        self.tokens = {token: min(at, now) for token, at in self.tokens.items()}

    # --- handlers ---------------------------------------------------------------------------
    def _route(self, endpoint: Endpoint, handler: _Handler) -> _Handler:
        """Count the call, play an injected fault, then check the token (but on the exchange)."""

        async def run(request: web.Request) -> web.StreamResponse:
            self.calls[endpoint] += 1
            faulted = await self._fault(endpoint)
            if faulted is not None:
                return faulted
            refused = None if endpoint == "token" else self._refusal(request)
            return refused if refused is not None else await handler(request)

        return run

    async def _token(self, request: web.Request) -> web.StreamResponse:
        body = await _json(request)
        if body is None or not all(isinstance(body.get(k), str) for k in ("appId", "userKey")):
            return envelope_error(4000)
        if not (
            secrets.compare_digest(body["appId"], self.app_id)
            and secrets.compare_digest(body["userKey"], self.user_key)
        ):
            return envelope_error(4012)
        if not self.api_plan:
            return envelope_error(4031)
        token = "eyJ" + secrets.token_urlsafe(32)
        self.tokens[token] = time.monotonic() + self.token_seconds
        self.token_exchanges += 1
        self.exchange_times.append(time.monotonic())
        return _ok({"token": token})

    async def _models(self, request: web.Request) -> web.StreamResponse:
        return _ok({"models": self.models})

    async def _create(self, request: web.Request) -> web.StreamResponse:
        body = await _json(request)
        rejected = 4000 if body is None else validate(body, self.models, self.max_script_chars)
        if rejected is not None or body is None:
            return envelope_error(rejected or 4000)
        if self.credits < self.credit_per_video:
            return envelope_error(4032)
        self.credits -= self.credit_per_video
        self.creates.append(body)
        project = self._new_project(body)
        if self.on_create is not None:
            # After the project exists and before the answer leaves: a crash test stops the
            # caller here, so it never learns the projectId.
            self.on_create(body)
        return _ok({"projectId": project.project_id})

    async def _progress(self, request: web.Request) -> web.StreamResponse:
        project = self._projects.get(request.match_info["id"])
        return envelope_error(4041) if project is None else _ok(self._progress_of(project))

    async def _project(self, request: web.Request) -> web.StreamResponse:
        project = self._projects.get(request.match_info["id"])
        if project is None:
            return envelope_error(4041)
        now = self._progress_of(project)
        body = project.body
        shown = {
            "_id": project.project_id,
            "name": body.get("name") or "Default Template",
            "orientation": body.get("orientation") or "landscape",
            "state": now["state"],
            "thumbnailUrl": f"{self._origin}/thumbnails/{project.project_id}.png",
            "backendTaskId": project.backend_task_id,
            "progress": int(now["progress"]),
            "download_url": now["downloadUrl"],
        }
        return _ok({"project": shown})

    # --- internals --------------------------------------------------------------------------
    def _refusal(self, request: web.Request) -> web.Response | None:
        """A 401 envelope unless the raw token (no "Bearer") is one this server issued."""
        token = request.headers.get("Authorization", "")
        expires = self.tokens.get(token)
        if expires is None:
            self.refused += 1
            return envelope_error(4010)
        if time.monotonic() >= expires:
            self.refused += 1
            return envelope_error(4011)
        return None

    async def _fault(self, endpoint: Endpoint) -> web.StreamResponse | None:
        injected = next_fault(self._faults[endpoint])
        if injected is None:
            return None
        if injected.fault == "http500":
            return web.Response(status=500, text="Internal Server Error")
        if injected.fault == "malformed":
            return web.Response(status=200, text="<html>gateway</html>", content_type="text/html")
        if injected.fault == "code":
            headers = {}
            if injected.retry_after is not None:
                headers["Retry-After"] = f"{injected.retry_after:g}"
            return envelope_error(injected.code, injected.status, **headers)
        if injected.fault == "expire_token_now":
            self.expire_tokens()
            return None
        return await self._hold(injected.delay)

    def _new_project(self, body: dict[str, Any]) -> _Project:
        fails = self.failing_renders > 0
        if fails:
            self.failing_renders -= 1
        webhook = body.get("webhookUrl")
        project = _Project(
            project_id=secrets.token_hex(12),  # a Mongo-like ObjectId
            body=body,
            created=time.monotonic(),
            export=body.get("isExport", True) is True,
            fails=fails,
            credit=self.credit_per_video,
            webhook_url=webhook if isinstance(webhook, str) and webhook else None,
        )
        self._projects[project.project_id] = project
        if project.export and not fails and project.webhook_url is not None:
            self._spawn(self._call_back(project, project.webhook_url))
        return project

    def _progress_of(self, project: _Project) -> dict[str, Any]:
        if not project.export:  # isExport false: the project only sits on the dashboard
            return {"progress": 0, "downloadUrl": None, "state": "draft"}
        elapsed = time.monotonic() - project.created
        share = 1.0 if self.render_seconds <= 0 else elapsed / self.render_seconds
        progress = round(min(100.0, max(0.0, share * 100)), 2)
        if project.fails and progress >= 50:
            return {"progress": 50, "downloadUrl": None, "state": "failed"}
        if progress < 100:
            return {"progress": progress, "downloadUrl": None, "state": "progress"}
        return {"progress": 100, "downloadUrl": self._signed(project), "state": "exported"}

    def _signed(self, project: _Project) -> str:
        expires = int(time.time()) + 86400
        signature = secrets.token_urlsafe(24)
        return (
            f"{self._origin}/videos/{project.project_id}.mp4"
            f"?Expires={expires}&Key-Pair-Id=SIMKEY&Signature={signature}"
        )

    async def _call_back(self, project: _Project, url: str) -> None:
        """A step at half way, then the documented finish: progress, credit, download_url."""
        await asyncio.sleep(self.render_seconds / 2)
        await self._post(url, {"progress": 50, "backendTaskId": project.backend_task_id})
        await asyncio.sleep(self.render_seconds / 2)
        final = {
            "progress": 100,
            "backendTaskId": project.backend_task_id,
            "credit": project.credit,
            "download_url": self._signed(project),
        }
        await self._post(url, final)

    async def _post(self, url: str, payload: dict[str, Any]) -> None:
        self.webhooks.append((url, payload))
        with contextlib.suppress(aiohttp.ClientError, TimeoutError):
            async with (
                aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session,
                session.post(url, json=payload) as response,
            ):
                await response.read()


async def _json(request: web.Request) -> dict[str, Any] | None:
    if request.content_type != "application/json":
        return None
    try:
        body = json.loads(await request.read())
    except ValueError:
        return None
    return body if isinstance(body, dict) else None
