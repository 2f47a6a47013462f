"""A local Vizard: a real HTTP server speaking the documented Open API on loopback.

It accepts and rejects what the documents say Vizard does, with the documented code in a
200 JSON body, renders a few clips after `render_seconds`, and lets tests inject faults.
Outcome hints in the video URL steer a project: "fail-clipping" (4002), "no-download" (4008)
and "no-speech" (4010) surface on the query once rendering is over, as they do at Vizard.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

from providers.simulators.server import SimulatorServer, next_fault

# The simulator's tables are copied from Vizard's documents (seed 000 and docs.vizard.ai, see
# shared/providers.md), never imported from the client: a client table that drifted from the
# documents must make the tests fail, not move the simulator with it.
API_KEY_HEADER = "VIZARDAI_API_KEY"
PREFIX = "/hvizard-server-front/open-api/v1"
# The seed's appendix (ar ... vi, "Russian" without a code) plus the codes docs.vizard.ai's
# supported-languages page adds (ru, pl, mal, iw, no) and "auto".
LANGUAGES = frozenset(
    [
        "auto",
        "ar",
        "nl",
        "en",
        "fr",
        "de",
        "hi",
        "id",
        "it",
        "ja",
        "ko",
        "zh",
        "zh-TW",
        "pt",
        "ru",
        "es",
        "tr",
        "uk",
        "vi",
        "pl",
        "mal",
        "iw",
        "no",
    ]
)
PREFER_LENGTHS = frozenset({0, 1, 2, 3, 4})
VIDEO_EXTS = frozenset({"mp4", "3gp", "avi", "mov"})
# videoType 1 = remote file, 2..12 = YouTube ... LinkedIn (docs.vizard.ai).
VIDEO_TYPES = range(1, 13)
# Minutes a simulated source video uses up from the account.
SOURCE_MINUTES = 1.0

Endpoint = Literal["create", "query"]
Fault = Literal["http500", "timeout", "malformed", "code"]

_HINTS = {"fail-clipping": 4002, "no-download": 4008, "no-speech": 4010}
# Clip length ranges in seconds per preferLength value (0, auto, spans them all).
_LENGTH_RANGES = {0: (20, 120), 1: (12, 29), 2: (30, 60), 3: (60, 90), 4: (90, 180)}


@dataclass
class _Injected:
    fault: Fault
    times: int
    code: int | None
    delay: float


@dataclass
class _Project:
    project_id: int
    body: dict[str, Any]
    created: float
    outcome: int
    webhook_url: str | None
    videos: list[dict[str, Any]] = field(default_factory=list)
    # The account (API key) that created it: Vizard shows a project to its own account only.
    owner: str | None = None


@dataclass(frozen=True)
class Seen:
    """One API request as it arrived (the clip downloads are not API requests)."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes = b""

    def header(self, name: str) -> str | None:
        """A header's value, whatever the case of its name on the wire."""
        return next((v for k, v in self.headers.items() if k.lower() == name.lower()), None)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _switch_ok(value: Any) -> bool:
    return value is None or (_is_int(value) and value in (0, 1))


class VizardSimulator(SimulatorServer):
    def __init__(
        self,
        api_key: str = "sim-vizard-key",
        *,
        clips_per_job: int = 3,
        render_seconds: float = 0.5,
        per_minute: int = 3,
        per_hour: int = 20,
        minutes_left: float = 10_000,
        fetch_videos: bool = False,
    ) -> None:
        super().__init__(path=PREFIX)
        # Vizard downloads the video from its link: with `fetch_videos`, so does the
        # simulator, once per project, and a link that does not answer 200 fails it (4008).
        self.fetch_videos = fetch_videos
        self.fetches: list[tuple[str, int, int]] = []  # (url, HTTP status, bytes)
        self.api_key = api_key
        # Every account's key the simulator accepts (another workspace's own key, say).
        self.api_keys: set[str] = {api_key}
        self.seen: list[Seen] = []
        self.clips_per_job = clips_per_job
        self.render_seconds = render_seconds
        self.per_minute = per_minute
        self.per_hour = per_hour
        self.minutes_left = minutes_left
        self.creates: list[dict[str, Any]] = []
        self.create_attempts = 0
        self.queries = 0
        self._faults: dict[Endpoint, deque[_Injected]] = {"create": deque(), "query": deque()}
        self._projects: dict[int, _Project] = {}
        self._accepted_at: defaultdict[str, deque[float]] = defaultdict(deque)
        self._next_id = 60_000_000 + random.randrange(1_000_000)
        self.on_create: Callable[[dict[str, Any]], None] | None = None

    # --- lifecycle --------------------------------------------------------------------------
    def _routes(self) -> list[web.RouteDef]:
        return [
            web.post(f"{PREFIX}/project/create", self._create),
            web.get(f"{PREFIX}/project/query/{{project_id}}", self._query),
            web.get("/clips/{project_id}/{name}", self._clip),
        ]

    # --- test controls ----------------------------------------------------------------------
    def inject(
        self,
        endpoint: Endpoint,
        fault: Fault,
        *,
        times: int = 1,
        code: int | None = None,
        delay: float = 5.0,
    ) -> None:
        """Answer the next `times` calls to `endpoint` with `fault` instead of the real answer.

        http500: a 500 page; timeout: wait `delay` seconds, then answer normally; malformed: a
        200 whose body is not JSON; code: a 200 JSON body carrying `code`.
        """
        if fault == "code" and code is None:
            raise ValueError("the 'code' fault needs code=")
        self._faults[endpoint].append(_Injected(fault, times, code, delay))

    # --- handlers ---------------------------------------------------------------------------
    async def _create(self, request: web.Request) -> web.StreamResponse:
        seen = Seen(request.method, request.path, dict(request.headers), await request.read())
        self.seen.append(seen)
        self.create_attempts += 1
        faulted = await self._fault("create")
        if faulted is not None:
            return faulted
        key = request.headers.get(API_KEY_HEADER)
        if key is None or key not in self.api_keys:
            return _code(4001)
        if not self._within_rate(key):
            return _code(4003)
        if request.content_type != "application/json":
            return _code(4006)
        try:
            body = json.loads(await request.read())
        except ValueError:
            return _code(4006)
        if not isinstance(body, dict):
            return _code(4006)
        rejected = _validate(body)
        if rejected is not None:
            return _code(rejected)
        if self.minutes_left <= 0:
            return _code(4007)
        self.minutes_left -= SOURCE_MINUTES
        self.creates.append(body)
        project = self._new_project(body)
        project.owner = key
        if self.on_create is not None:
            # Runs after the project exists and before the answer leaves: a crash test stops
            # the caller here, so it never learns the projectId.
            self.on_create(body)
        return web.json_response(
            {
                "code": 2000,
                "projectId": project.project_id,
                "shareLink": f"{self._origin}/share/{project.project_id}",
                "errMsg": "",
            }
        )

    async def _query(self, request: web.Request) -> web.StreamResponse:
        self.seen.append(Seen(request.method, request.path, dict(request.headers)))
        self.queries += 1
        faulted = await self._fault("query")
        if faulted is not None:
            return faulted
        key = request.headers.get(API_KEY_HEADER)
        if key is None or key not in self.api_keys:
            return _code(4001)
        raw = request.match_info["project_id"]
        project = self._projects.get(int(raw)) if raw.isdigit() else None
        if project is None or project.owner != key:
            # Vizard documents no code for an unknown project; 4006 (illegal parameter) is
            # the nearest documented one.
            return _code(4006)
        if time.monotonic() - project.created < self.render_seconds:
            return web.json_response({"code": 1000, "projectId": project.project_id})
        return web.json_response(self._final(project))

    async def _clip(self, request: web.Request) -> web.StreamResponse:
        raw = request.match_info["project_id"]
        project = self._projects.get(int(raw)) if raw.isdigit() else None
        name = request.match_info["name"]
        if project is None or name not in {f"{n}.mp4" for n in range(len(project.videos))}:
            raise web.HTTPNotFound()
        data = b"\x00\x00\x00\x18ftypmp42" + f"{raw}/{name}".encode()
        return web.Response(body=data, content_type="video/mp4")

    # --- internals --------------------------------------------------------------------------
    async def _fault(self, endpoint: Endpoint) -> web.StreamResponse | None:
        injected = next_fault(self._faults[endpoint])
        if injected is None:
            return None
        if injected.fault == "http500":
            return web.Response(status=500, text="Internal Server Error")
        if injected.fault == "malformed":
            return web.Response(
                status=200, text="<html>upstream hiccup</html>", content_type="text/html"
            )
        if injected.fault == "code":
            return _code(injected.code if injected.code is not None else 4002)
        # A timeout: hold the answer, but let stop() end the wait at once.
        return await self._hold(injected.delay)

    def _within_rate(self, key: str) -> bool:
        now = time.monotonic()
        accepted = self._accepted_at[key]
        while accepted and now - accepted[0] >= 3600:
            accepted.popleft()
        last_minute = sum(1 for at in accepted if now - at < 60)
        if last_minute >= self.per_minute or len(accepted) >= self.per_hour:
            return False
        accepted.append(now)
        return True

    def _new_project(self, body: dict[str, Any]) -> _Project:
        self._next_id += 1
        url = body["videoUrl"]
        outcome = next((code for hint, code in _HINTS.items() if hint in url), 2000)
        webhook = body.get("webhookUrl")
        project = _Project(
            project_id=self._next_id,
            body=body,
            created=time.monotonic(),
            outcome=outcome,
            webhook_url=webhook if isinstance(webhook, str) and webhook else None,
        )
        if outcome == 2000:
            project.videos = self._videos(project)
        self._projects[project.project_id] = project
        if self.fetch_videos:
            self._spawn(self._fetch(project, url))
        if project.webhook_url is not None:
            self._spawn(self._call_back(project, project.webhook_url))
        return project

    def _videos(self, project: _Project) -> list[dict[str, Any]]:
        """Clips sorted by viral score, best first, as Vizard returns them."""
        rng = random.Random(project.project_id)
        lengths = project.body["preferLength"]
        name = project.body.get("projectName") or "Untitled"
        drafts = [
            (round(rng.uniform(3.0, 9.9), 1), _LENGTH_RANGES[lengths[n % len(lengths)]])
            for n in range(self.clips_per_job)
        ]
        drafts.sort(key=lambda draft: draft[0], reverse=True)
        videos = []
        for n, (score, (low, high)) in enumerate(drafts):
            video_id = project.project_id * 100 + n
            videos.append(
                {
                    "videoId": video_id,
                    "videoUrl": f"{self._origin}/clips/{project.project_id}/{n}.mp4",
                    "videoMsDuration": rng.randint(low * 1000, high * 1000),
                    "title": f"{name}: moment {n + 1}",
                    "transcript": f"This is what was said in moment {n + 1} of {name}.",
                    "viralScore": f"{score:g}",
                    "viralReason": f"A clear hook and a complete thought (moment {n + 1}).",
                    "relatedTopic": json.dumps([f"topic {n + 1}", name]),
                    "clipEditorUrl": f"{self._origin}/editor/{project.project_id}/{video_id}",
                }
            )
        return videos

    def _final(self, project: _Project) -> dict[str, Any]:
        if project.outcome != 2000:
            return {"code": project.outcome, "projectId": project.project_id, "errMsg": ""}
        return {
            "code": 2000,
            "projectId": project.project_id,
            "projectName": project.body.get("projectName") or "",
            "shareLink": f"{self._origin}/share/{project.project_id}",
            "videos": project.videos,
        }

    async def _fetch(self, project: _Project, url: str) -> None:
        status, size = 0, 0
        with contextlib.suppress(aiohttp.ClientError, TimeoutError):
            async with (
                aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session,
                session.get(url, allow_redirects=False) as response,
            ):
                status = response.status
                async for chunk in response.content.iter_chunked(1 << 16):
                    size += len(chunk)
        self.fetches.append((url, status, size))
        if status != 200 and project.outcome == 2000:
            project.outcome, project.videos = 4008, []

    async def _call_back(self, project: _Project, webhook_url: str) -> None:
        await asyncio.sleep(self.render_seconds)
        # Vizard calls back once and does not retry; a failure here is the receiver's loss.
        with contextlib.suppress(aiohttp.ClientError, TimeoutError):
            async with (
                aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session,
                session.post(webhook_url, json=self._final(project)) as response,
            ):
                await response.read()


def _code(code: int) -> web.Response:
    return web.json_response({"code": code, "errMsg": f"simulated error {code}"})


def _validate(body: dict[str, Any]) -> int | None:
    """The documented code for a create body Vizard would refuse, or None when it is fine."""
    url, video_type, lang = body.get("videoUrl"), body.get("videoType"), body.get("lang")
    lengths = body.get("preferLength")
    if not isinstance(url, str) or not isinstance(lang, str):
        return 4006
    if not _is_int(video_type) or video_type not in VIDEO_TYPES:
        return 4006
    if not isinstance(lengths, list):
        return 4006
    for optional in ("projectName", "webhookUrl"):
        if body.get(optional) is not None and not isinstance(body[optional], str):
            return 4006
    if not (_switch_ok(body.get("subtitleSwitch")) and _switch_ok(body.get("headlineSwitch"))):
        return 4006
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return 4009
    if video_type == 1 and body.get("ext") not in VIDEO_EXTS:
        return 4004
    if lang not in LANGUAGES:
        return 4006
    if not lengths or not all(_is_int(n) and n in PREFER_LENGTHS for n in lengths):
        return 4006
    if 0 in lengths and len(lengths) > 1:
        return 4006
    return None
