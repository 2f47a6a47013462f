"""VizardProvider against the Vizard simulator over real HTTP on loopback."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import time
import traceback
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from aiohttp import web

from providers.base import (
    NOT_SENT,
    BadInput,
    Clip,
    Description,
    Failed,
    JobKind,
    NeedsAdmin,
    Progress,
    Provider,
    ProviderError,
    RateLimited,
    Status,
    Unavailable,
    dump_request,
)
from providers.simulators.vizard import Endpoint, Fault, VizardSimulator
from providers.vizard import (
    CODES,
    VizardClip,
    VizardProvider,
    VizardRequest,
    classify_url,
)

SECRET = "vz-live-0f3c9a7d1e2b4c6a8e0f"
KEY = "job-0001"
SEVEN_DAYS = 7 * 86400


def a_request(**changes: Any) -> VizardRequest:
    fields: dict[str, Any] = {
        "video_url": "https://cdn.example.com/all-hands.mp4",
        "video_type": 1,
        "ext": "mp4",
        "lang": "en",
        "prefer_length": [2, 3],
        "project_name": "All hands",
    }
    fields.update(changes)
    return VizardRequest(**fields)


@pytest.fixture
async def sim() -> AsyncIterator[VizardSimulator]:
    simulator = VizardSimulator(SECRET, render_seconds=0.3)
    await simulator.start()
    yield simulator
    await simulator.stop()


@pytest.fixture
async def provider(sim: VizardSimulator) -> AsyncIterator[VizardProvider]:
    vizard = VizardProvider(SECRET, sim.base_url)
    yield vizard
    await vizard.aclose()


async def poll_until_done(provider: VizardProvider, ref: str, seconds: float = 5.0) -> Status:
    deadline = time.monotonic() + seconds
    while True:
        status = await provider.poll(ref)
        if status.state is Progress.DONE or time.monotonic() > deadline:
            return status
        await asyncio.sleep(0.05)


async def raw_query(sim: VizardSimulator, ref: str) -> dict[str, Any]:
    async with httpx.AsyncClient() as client:
        response = await client.get(
            f"{sim.base_url}/project/query/{ref}", headers={"VIZARDAI_API_KEY": SECRET}
        )
    body: dict[str, Any] = response.json()
    return body


# --- the happy path -------------------------------------------------------------------------
def test_vizard_provider_satisfies_the_provider_protocol() -> None:
    vizard: Provider = VizardProvider(SECRET)
    assert vizard.name == "vizard"
    assert vizard.kind is JobKind.CLIPS
    assert vizard.form.subject == "url"
    assert vizard.retryable_create is False, "Vizard takes no idempotency key"
    assert vizard.quote(a_request()) is None
    assert [(w.seconds, w.limit) for w in vizard.rate_windows] == [(60, 3), (3600, 20)]
    stored = vizard.load_request(dump_request(a_request()))
    assert stored == a_request()
    assert vizard.describe(stored) == Description(
        source="https://cdn.example.com/all-hands.mp4", title="All hands"
    )


async def test_create_body_uses_vizard_field_names(
    sim: VizardSimulator, provider: VizardProvider
) -> None:
    submission = await provider.submit(a_request(), key=KEY)

    assert submission.ref.isdigit()
    assert submission.first_poll_after is None, "the bot's own poll settings decide"
    assert sim.creates == [
        {
            "videoUrl": "https://cdn.example.com/all-hands.mp4",
            "videoType": 1,
            "ext": "mp4",
            "lang": "en",
            "preferLength": [2, 3],
            "projectName": "All hands",
            "subtitleSwitch": 1,
            "headlineSwitch": 1,
        }
    ]


async def test_submitted_video_runs_then_arrives_as_clips_in_vizards_order(
    sim: VizardSimulator, provider: VizardProvider
) -> None:
    submission = await provider.submit(a_request(), key=KEY)
    first = await provider.poll(submission.ref)
    assert first.state is Progress.RUNNING
    assert first.outputs == ()

    done = await poll_until_done(provider, submission.ref)
    polled_at = time.time()
    raw = await raw_query(sim, submission.ref)

    assert done.state is Progress.DONE
    assert len(done.outputs) == 3
    assert [o.url for o in done.outputs] == [v["videoUrl"] for v in raw["videos"]]
    scores = [o.score for o in done.outputs if isinstance(o, Clip) and o.score is not None]
    assert scores == [float(v["viralScore"]) for v in raw["videos"]]
    assert scores == sorted(scores, reverse=True)
    for output, video in zip(done.outputs, raw["videos"], strict=True):
        assert isinstance(video["viralScore"], str)
        assert output.title == video["title"]
        assert isinstance(output, Clip)
        assert output.transcript == video["transcript"]
        assert output.provider_id == str(video["videoId"])
        assert output.reason == video["viralReason"]
        assert output.topics == tuple(json.loads(video["relatedTopic"]))
        assert output.duration_s == video["videoMsDuration"] / 1000
        assert output.editor_url == video["clipEditorUrl"]
        assert output.expires_at is not None
        assert abs(output.expires_at - (polled_at + SEVEN_DAYS)) < 5


async def test_refresh_finds_the_same_clip_with_a_fresh_link(
    sim: VizardSimulator, provider: VizardProvider
) -> None:
    submission = await provider.submit(a_request(), key=KEY)
    done = await poll_until_done(provider, submission.ref)
    second = done.outputs[1]
    await asyncio.sleep(0.01)

    fresh = await provider.refresh(submission.ref, second)

    assert isinstance(fresh, Clip) and isinstance(second, Clip)
    assert (fresh.provider_id, fresh.url, fresh.title) == (
        second.provider_id,
        second.url,
        second.title,
    )
    assert fresh.expires_at is not None and second.expires_at is not None
    assert fresh.expires_at > second.expires_at
    gone = second.model_copy(update={"provider_id": "999"})
    assert await provider.refresh(submission.ref, gone) is None


async def test_clip_links_download_from_the_simulator(
    sim: VizardSimulator, provider: VizardProvider
) -> None:
    submission = await provider.submit(a_request(), key=KEY)
    done = await poll_until_done(provider, submission.ref)

    async with httpx.AsyncClient() as client:
        for output in done.outputs:
            assert isinstance(output, Clip)
            response = await client.get(output.url)
            assert response.status_code == 200
            assert response.headers["content-type"] == "video/mp4"
            assert response.content


async def test_webhook_url_is_sent_and_vizard_calls_it_once_the_project_is_done(
    sim: VizardSimulator, provider: VizardProvider
) -> None:
    received: asyncio.Queue[bytes] = asyncio.Queue()

    async def receive(request: web.Request) -> web.Response:
        await received.put(await request.read())
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/hooks/vizard", receive)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    hook = f"http://{host}:{port}/hooks/vizard"
    try:
        submission = await provider.submit(a_request(), key=KEY, webhook_url=hook)
        assert sim.creates[0]["webhookUrl"] == hook

        body = await asyncio.wait_for(received.get(), 5)
    finally:
        await runner.cleanup()

    payload = json.loads(body)
    assert payload["code"] == 2000
    assert len(payload["videos"]) == 3
    assert provider.webhook_ref({"content-type": "application/json"}, body) == submission.ref


@pytest.mark.parametrize(
    ("body", "ref"),
    [
        (b'{"code": 2000, "projectId": 60000123, "videos": []}', "60000123"),
        (b'{"projectId": "60000123"}', "60000123"),
        (b'{"projectId": true}', None),
        (b'{"projectId": "../admin"}', None),
        (b'{"code": 2000}', None),
        (b"[60000123]", None),
        (b"not json", None),
        (b"\xff\xfe", None),
    ],
)
def test_webhook_ref_names_the_project_only_for_a_json_body_with_a_project_id(
    body: bytes, ref: str | None
) -> None:
    assert VizardProvider(SECRET).webhook_ref({}, body) == ref


# --- rejections -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Rejection:
    changes: dict[str, Any] = field(default_factory=dict)
    minutes_left: float | None = None
    api_key: str = SECRET
    on_poll: bool = False


REJECTIONS = {
    "wrong-api-key": (Rejection(api_key="vz-someone-else"), NeedsAdmin, "4001"),
    "out-of-minutes": (Rejection(minutes_left=0), NeedsAdmin, "4007"),
    "ftp-link": (Rejection({"video_url": "ftp://example.com/talk.mp4"}), BadInput, "4009"),
    "unsupported-ext": (
        Rejection({"video_url": "https://example.com/a.mkv", "ext": "mkv"}),
        BadInput,
        "4004",
    ),
    "file-without-ext": (Rejection({"ext": None}), BadInput, "4004"),
    "unknown-language": (Rejection({"lang": "klingon"}), BadInput, "4006"),
    "no-length": (Rejection({"prefer_length": []}), BadInput, "4006"),
    "length-out-of-range": (Rejection({"prefer_length": [5]}), BadInput, "4006"),
    "auto-with-other-lengths": (Rejection({"prefer_length": [0, 2]}), BadInput, "4006"),
    "unknown-video-type": (Rejection({"video_type": 13}), BadInput, "4006"),
    "clipping-fails": (
        Rejection({"video_url": "https://example.com/fail-clipping.mp4"}, on_poll=True),
        Failed,
        "4002",
    ),
    "download-fails": (
        Rejection({"video_url": "https://example.com/no-download.mp4"}, on_poll=True),
        BadInput,
        "4008",
    ),
    "no-speech": (
        Rejection({"video_url": "https://example.com/no-speech.mp4"}, on_poll=True),
        BadInput,
        "4010",
    ),
}


@pytest.mark.parametrize(("case", "error", "code"), REJECTIONS.values(), ids=REJECTIONS.keys())
async def test_simulator_rejection_becomes_the_right_error_with_a_sentence(
    sim: VizardSimulator, case: Rejection, error: type[ProviderError], code: str
) -> None:
    if case.minutes_left is not None:
        sim.minutes_left = case.minutes_left
    vizard = VizardProvider(case.api_key, sim.base_url)
    try:
        with pytest.raises(error) as raised:
            submission = await vizard.submit(a_request(**case.changes), key=KEY)
            assert case.on_poll, "the create should have been refused"
            await poll_until_done(vizard, submission.ref)
    finally:
        await vizard.aclose()

    assert type(raised.value) is error
    assert raised.value.code == code
    assert raised.value.message == CODES[int(code)][1]
    if error is NeedsAdmin:
        assert "admin" in raised.value.message


@pytest.mark.parametrize("endpoint", ["create", "query"])
@pytest.mark.parametrize("code", sorted(CODES))
async def test_every_documented_code_maps_to_its_error_on_both_endpoints(
    sim: VizardSimulator, provider: VizardProvider, endpoint: str, code: int
) -> None:
    expected, sentence = CODES[code]
    ref = "1"
    if endpoint == "query":
        ref = (await provider.submit(a_request(), key=KEY)).ref
    sim.inject("create" if endpoint == "create" else "query", "code", code=code)

    with pytest.raises(ProviderError) as raised:
        if endpoint == "create":
            await provider.submit(a_request(), key=KEY)
        else:
            await provider.poll(ref)

    error = raised.value
    assert type(error) is expected
    assert error.code == str(code)
    assert error.message == sentence
    assert sentence.endswith(".")
    assert ". " not in sentence.rstrip(".")
    assert SECRET not in sentence
    if expected is NeedsAdmin:
        assert "workspace admin must" in sentence
    if isinstance(error, RateLimited):
        assert error.retry_after == 60


def test_code_table_covers_every_documented_error_code() -> None:
    assert set(CODES) == {*range(4001, 4011), -1000}
    assert "VIZARD_API_KEY" in CODES[4001][1]
    assert "minutes" in CODES[4007][1]
    assert "plan" in CODES[4007][1]
    assert "lang=" in CODES[4010][1]
    assert "auto" in CODES[4010][1]
    assert "link" in CODES[4005][1]
    assert "broken" in CODES[4005][1]


async def test_unknown_code_becomes_failed_naming_the_code(
    sim: VizardSimulator, provider: VizardProvider
) -> None:
    sim.inject("create", "code", code=4242)

    with pytest.raises(Failed) as raised:
        await provider.submit(a_request(), key=KEY)

    assert raised.value.message == "Vizard could not finish this video (code 4242)."


async def test_fourth_create_within_a_minute_is_rate_limited(
    sim: VizardSimulator, provider: VizardProvider
) -> None:
    for _ in range(3):
        await provider.submit(a_request(), key=KEY)

    with pytest.raises(RateLimited) as raised:
        await provider.submit(a_request(), key=KEY)

    assert raised.value.retry_after == 60
    assert len(sim.creates) == 3


async def test_creates_over_the_hourly_limit_are_rate_limited() -> None:
    sim = VizardSimulator(SECRET, per_minute=100, per_hour=2)
    await sim.start()
    vizard = VizardProvider(SECRET, sim.base_url)
    try:
        await vizard.submit(a_request(), key=KEY)
        await vizard.submit(a_request(), key=KEY)
        with pytest.raises(RateLimited):
            await vizard.submit(a_request(), key=KEY)
    finally:
        await vizard.aclose()
        await sim.stop()
    assert len(sim.creates) == 2


# --- transport faults -----------------------------------------------------------------------
async def test_query_answering_500_twice_is_retried_until_it_succeeds(
    sim: VizardSimulator, provider: VizardProvider
) -> None:
    submission = await provider.submit(a_request(), key=KEY)
    await poll_until_done(provider, submission.ref)
    queries_before = sim.queries
    sim.inject("query", "http500", times=2)

    status = await provider.poll(submission.ref)

    assert status.state is Progress.DONE
    assert len(status.outputs) == 3
    assert sim.queries - queries_before == 3


async def test_create_answering_500_is_not_retried(
    sim: VizardSimulator, provider: VizardProvider
) -> None:
    sim.inject("create", "http500", times=3)

    with pytest.raises(Unavailable) as raised:
        await provider.submit(a_request(), key=KEY)

    assert raised.value.message == "Vizard is not answering right now; Reelbot will keep trying."
    assert sim.create_attempts == 1
    assert sim.creates == []


async def test_create_that_times_out_is_not_retried(sim: VizardSimulator) -> None:
    sim.inject("create", "timeout", times=3, delay=2.0)
    vizard = VizardProvider(SECRET, sim.base_url, timeout=0.3)
    try:
        with pytest.raises(Unavailable):
            await vizard.submit(a_request(), key=KEY)
    finally:
        await vizard.aclose()

    assert sim.create_attempts == 1


async def test_query_that_keeps_timing_out_gives_unavailable(sim: VizardSimulator) -> None:
    vizard = VizardProvider(SECRET, sim.base_url, timeout=0.3)
    try:
        submission = await vizard.submit(a_request(), key=KEY)
        sim.inject("query", "timeout", times=3, delay=2.0)
        with pytest.raises(Unavailable) as raised:
            await vizard.poll(submission.ref)
    finally:
        await vizard.aclose()

    assert raised.value.message == "Vizard is not answering right now; Reelbot will keep trying."
    assert sim.queries == 3


async def test_vizard_that_refuses_connections_gives_unavailable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    vizard = VizardProvider(SECRET, f"http://127.0.0.1:{closed_port}/open-api/v1")
    try:
        with pytest.raises(Unavailable) as raised:
            await vizard.submit(a_request(), key=KEY)
    finally:
        await vizard.aclose()
    assert raised.value.code == NOT_SENT, "a refused connection surely sent nothing"


async def test_a_create_whose_connection_drops_after_sending_is_not_taken_as_unsent() -> None:
    received: list[bytes] = []

    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        received.append(await reader.read(65536))  # the whole request arrived...
        writer.close()  # ...and the answer never comes

    server = await asyncio.start_server(hang_up, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    vizard = VizardProvider(SECRET, f"http://127.0.0.1:{port}/open-api/v1")
    try:
        with pytest.raises(Unavailable) as raised:
            await vizard.submit(a_request(), key=KEY)
    finally:
        await vizard.aclose()
        server.close()
        await server.wait_closed()
    assert raised.value.code != NOT_SENT, "Vizard may have acted on it"
    assert len(received) == 1 and b"POST /open-api/v1/project/create" in received[0]


@pytest.mark.parametrize("endpoint", ["create", "query"])
async def test_malformed_body_gives_unavailable(
    sim: VizardSimulator, provider: VizardProvider, endpoint: str
) -> None:
    ref = "1"
    if endpoint == "query":
        ref = (await provider.submit(a_request(), key=KEY)).ref
    sim.inject("create" if endpoint == "create" else "query", "malformed")

    with pytest.raises(Unavailable) as raised:
        if endpoint == "create":
            await provider.submit(a_request(), key=KEY)
        else:
            await provider.poll(ref)

    assert raised.value.message.startswith("Vizard sent an answer Reelbot could not read")


async def test_api_key_never_appears_in_errors_or_logs(
    sim: VizardSimulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    errors: list[ProviderError] = []
    vizard = VizardProvider(SECRET, sim.base_url, timeout=0.3)
    stranger = VizardProvider(SECRET + "-revoked", sim.base_url)
    try:
        ref = (await vizard.submit(a_request(), key=KEY)).ref
        # Each fault is used up by exactly one call: creates are never retried, and these
        # query answers are not ones a poll retries.
        faults: list[tuple[Endpoint, Fault]] = [
            ("create", "http500"),
            ("create", "malformed"),
            ("create", "timeout"),
            ("query", "malformed"),
            ("query", "code"),
        ]
        for endpoint, fault in faults:
            sim.inject(endpoint, fault, code=4001, delay=1.0)
            with pytest.raises(ProviderError) as raised:
                if endpoint == "create":
                    await vizard.submit(a_request(), key=KEY)
                else:
                    await vizard.poll(ref)
            errors.append(raised.value)
        with pytest.raises(NeedsAdmin) as refused:
            await stranger.submit(a_request(), key=KEY)
        errors.append(refused.value)
    finally:
        await vizard.aclose()
        await stranger.aclose()

    assert len(errors) == 6
    for error in errors:
        shown = "".join(traceback.format_exception(error))
        assert SECRET not in shown
        assert SECRET not in repr(error)
    assert any("/project/create" in r.getMessage() for r in caplog.records)
    for record in caplog.records:
        assert SECRET not in record.getMessage()
        assert SECRET not in str(record.args)


# --- pure tables ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://www.youtube.com/watch?v=abc", (2, None)),
        ("https://m.youtube.com/watch?v=abc", (2, None)),
        ("https://youtu.be/abc", (2, None)),
        ("https://drive.google.com/file/d/abc/view", (3, None)),
        ("https://vimeo.com/123", (4, None)),
        ("https://player.vimeo.com/video/123", (4, None)),
        ("https://streamyard.com/watch/abc", (5, None)),
        ("https://www.tiktok.com/@a/video/1", (6, None)),
        ("https://twitter.com/a/status/1", (7, None)),
        ("https://x.com/a/status/1", (7, None)),
        ("https://rumble.com/v1-talk.html", (8, None)),
        ("https://www.twitch.tv/videos/1", (9, None)),
        ("https://www.loom.com/share/abc", (10, None)),
        ("https://www.facebook.com/watch/?v=1", (11, None)),
        ("https://fb.watch/abc/", (11, None)),
        ("https://www.linkedin.com/posts/a", (12, None)),
        ("https://YOUTUBE.com/watch?v=abc", (2, None)),
        ("https://cdn.example.com/talk.MP4", (1, "mp4")),
        ("https://cdn.example.com/a/talk.mov?sig=x.mp4", (1, "mov")),
        ("https://cdn.example.com/clip%20one.3gp", (1, "3gp")),
        ("https://cdn.example.com/old.avi", (1, "avi")),
        ("https://cdn.example.com/talk.mkv", (1, None)),
        ("https://example.com/watch", (1, None)),
        ("https://notyoutube.com/talk.mp4", (1, "mp4")),
        ("https://youtube.com.evil.example/talk.mp4", (1, "mp4")),
    ],
)
def test_classify_url_gives_video_type_and_ext(url: str, expected: tuple[int, str | None]) -> None:
    assert classify_url(url) == expected


@pytest.mark.parametrize(
    ("raw", "score"),
    [
        ("8.7", 8.7),
        (" 10 ", 10.0),
        ("0", 0.0),
        ("", None),
        ("high", None),
        (None, None),
        (9, 9.0),
        (7.5, 7.5),
        (True, None),
        ("nan", None),
    ],
)
def test_viral_score_is_read_leniently(raw: Any, score: float | None) -> None:
    clip = VizardClip.model_validate({"videoUrl": "https://v/1.mp4", "viralScore": raw})
    assert clip.viral_score == score


@pytest.mark.parametrize(
    ("raw", "topics"),
    [
        ('["a","b"]', ["a", "b"]),
        (["a"], ["a"]),
        ("not json", []),
        ('{"a": 1}', []),
        ('["a", 3, null, " "]', ["a"]),
        (None, []),
        ("[]", []),
    ],
)
def test_related_topic_is_read_from_json_text_or_a_list(raw: Any, topics: list[str]) -> None:
    clip = VizardClip.model_validate({"videoUrl": "https://v/1.mp4", "relatedTopic": raw})
    assert clip.related_topic == topics


def test_clip_needs_only_a_video_url() -> None:
    clip = VizardClip.model_validate(
        {"videoUrl": "https://v/1.mp4", "title": None, "videoMsDuration": "12500", "videoId": "7"}
    )
    assert clip.title == ""
    assert clip.video_ms_duration == 12500.0
    assert clip.video_id == 7
    assert clip.clip_editor_url is None
