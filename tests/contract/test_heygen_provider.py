"""HeyGenProvider against the HeyGen simulator over real HTTP on loopback.

The expected error kinds and sentence fragments here are written from HeyGen's documents,
not read from the client's table: a table that drifts must fail these tests.
"""

from __future__ import annotations

import asyncio
import email.utils
import hashlib
import hmac
import json
import logging
import time
import traceback
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from aiohttp import web

from providers.base import (
    NOT_SENT,
    BadInput,
    Description,
    Failed,
    JobKind,
    NeedsAdmin,
    Progress,
    Provider,
    ProviderError,
    RateLimited,
    SharedState,
    Status,
    Unavailable,
    Video,
    dump_request,
)
from providers.forms import FieldError, FieldType
from providers.heygen import (
    ERRORS,
    FORM,
    PLUGIN,
    HeyGenProvider,
    HeyGenRequest,
    HeyGenSettings,
    build_request,
)
from providers.heygen.api import ApiVersion, link_expiry
from providers.heygen.errors import retry_after
from providers.simulators.heygen import LOOKS, VOICES, HeyGenSimulator

SECRET = "hg-live-5c1d7e9a3b2f4e6d8a0c"
KEY = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
OTHER_KEY = "aaaabbbbccccddddeeeeffff00001111"
DAISY = "Daisy-inskirt-20220818"  # has a default voice
ANNA = "Anna_public_3_20240108"  # has none
RACHEL = "2d5b0e6cf36f460aa7fc47e3eee4ba54"
RENDER = 30.0  # long enough that only sim.advance() moves a render on


def a_request(**changes: Any) -> HeyGenRequest:
    fields: dict[str, Any] = {
        "script": "Welcome to the team! Here is how we ship.",
        "avatar_id": DAISY,
        "voice_id": RACHEL,
        "background": "#0A84FF",
        "aspect": "9:16",
        "title": "Welcome",
    }
    fields.update(changes)
    return HeyGenRequest(**fields)


@pytest.fixture
async def sim() -> AsyncIterator[HeyGenSimulator]:
    simulator = HeyGenSimulator(SECRET, render_seconds=RENDER, page_size=3)
    await simulator.start()
    yield simulator
    await simulator.stop()


@pytest.fixture
async def provider(sim: HeyGenSimulator) -> AsyncIterator[HeyGenProvider]:
    heygen = HeyGenProvider(SECRET, sim.base_url)
    yield heygen
    await heygen.aclose()


@pytest.fixture
async def v2(sim: HeyGenSimulator) -> AsyncIterator[HeyGenProvider]:
    heygen = HeyGenProvider(SECRET, sim.base_url, api_version="v2")
    yield heygen
    await heygen.aclose()


async def finish(sim: HeyGenSimulator, heygen: HeyGenProvider, ref: str) -> Status:
    sim.advance(RENDER)
    return await heygen.poll(ref)


def only_video(status: Status) -> Video:
    assert status.state is Progress.DONE
    assert len(status.outputs) == 1
    video = status.outputs[0]
    assert isinstance(video, Video)
    return video


def expires_param(url: str) -> float:
    return float(parse_qs(urlsplit(url).query)["Expires"][0])


# --- the seam -------------------------------------------------------------------------------
def test_heygen_provider_satisfies_the_provider_protocol() -> None:
    heygen: Provider = HeyGenProvider(SECRET, default_avatar_id=DAISY, default_voice_id=RACHEL)
    assert (heygen.name, heygen.label, heygen.kind) == ("heygen", "HeyGen", JobKind.AVATAR)
    assert heygen.retryable_create is True, "v3 creates carry an Idempotency-Key"
    assert HeyGenProvider(SECRET, api_version="v2").retryable_create is False
    assert heygen.rate_windows == ()
    assert heygen.in_flight_limit == 10
    assert heygen.quote(a_request()) is None
    assert heygen.load_request(dump_request(a_request())) == a_request()
    form = heygen.form
    assert form.subject == "script"
    defaults = {f.name: f.default for f in form.fields}
    assert (defaults["avatar"], defaults["voice"]) == (DAISY, RACHEL)
    assert form.get("test") is None, "v3 has no test mode to offer"
    assert HeyGenProvider(SECRET, api_version="v2").form.get("test") is not None
    assert PLUGIN.form is FORM
    assert all(f.default is None for f in FORM.fields if f.name in ("avatar", "voice"))


def test_describe_quotes_the_start_of_the_script_on_one_line() -> None:
    heygen = HeyGenProvider(SECRET)
    long = "Hello team,\n\nthis quarter we shipped " + "a lot of things " * 10
    description = heygen.describe(a_request(script=long, title="Q3"))
    assert description.title == "Q3"
    assert "\n" not in description.source
    assert description.source[0] in '"“' and description.source[-1] in '"”'
    assert description.source[1:].startswith("Hello team, this quarter")
    assert len(description.source) <= 84
    assert heygen.describe(a_request(script="Hi", title=None)) == Description("“Hi”", None)


def test_form_fields_follow_heygens_limits() -> None:
    script = FORM.get("script")
    assert script is not None and script.required and script.multiline
    assert script.max_length == 5000 and "5,000" in script.help
    avatar, voice = FORM.get("avatar"), FORM.get("voice")
    assert avatar is not None and avatar.type is FieldType.LOOKUP and avatar.required
    assert voice is not None and voice.type is FieldType.LOOKUP and not voice.required
    aspect = FORM.get("aspect")
    assert aspect is not None and aspect.default == "16:9"
    assert [c.value for c in aspect.choices] == ["16:9", "9:16", "1:1", "4:5", "5:4"]
    captions, test = FORM.get("captions"), FORM.get("test")
    assert captions is not None and captions.type is FieldType.SWITCH and not captions.default
    assert test is not None and test.type is FieldType.SWITCH and not test.default
    title = FORM.get("title")
    assert title is not None and title.max_length == 100 and not title.required
    assert HeyGenProvider(SECRET, max_script_chars=1500).form.subject_field.max_length == 1500


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"script": "  ", "avatar": DAISY}, "script"),
        ({"script": "x" * 5001, "avatar": DAISY}, "script"),
        ({"script": "Hi"}, "avatar"),
        ({"script": "Hi", "avatar": DAISY, "background": "blue"}, "background"),
        ({"script": "Hi", "avatar": DAISY, "background": "#12345"}, "background"),
        ({"script": "Hi", "avatar": DAISY, "aspect": "3:2"}, "aspect"),
        ({"script": "Hi", "avatar": DAISY, "test": True}, "test"),
        ({"script": "Hi", "avatar": DAISY, "title": "t" * 101}, "title"),
    ],
)
def test_build_request_names_the_field_a_person_must_fix(
    values: dict[str, Any], field: str
) -> None:
    with pytest.raises(FieldError) as raised:
        build_request(values)
    assert raised.value.name == field
    assert raised.value.message.endswith(".")


def test_build_request_fills_defaults_and_normalises_the_colour() -> None:
    request = build_request({"script": " Hi there ", "avatar": DAISY, "background": "0a84ff"})
    assert request == HeyGenRequest(script="Hi there", avatar_id=DAISY, background="#0A84FF")
    v2_test = build_request({"script": "Hi", "avatar": DAISY, "test": True}, api_version="v2")
    assert v2_test.test is True


def test_settings_use_the_fixed_names_and_only_the_key_configures(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert not HeyGenSettings(_env_file=None).configured
    env = {
        "HEYGEN_API_KEY": SECRET,
        "HEYGEN_BASE_URL": "http://127.0.0.1:9",
        "HEYGEN_DEFAULT_AVATAR_ID": DAISY,
        "HEYGEN_DEFAULT_VOICE_ID": RACHEL,
        "HEYGEN_API_VERSION": "v2",
        "HEYGEN_WEBHOOK_SIGNATURE_HEADER": "X-HeyGen-Signature",
        "HEYGEN_IN_FLIGHT": "3",
        "HEYGEN_TIMEOUT_SECONDS": "5",
        "HEYGEN_LINK_TTL_HOURS": "24",
        "HEYGEN_MAX_SCRIPT_CHARS": "1500",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = HeyGenSettings(_env_file=None)
    assert settings.configured, "the webhook secret is optional"
    assert settings.webhook_secret is None
    assert settings.secrets() == [SECRET]
    built = PLUGIN.create(settings, _NoState())
    assert isinstance(built, HeyGenProvider)
    assert (built.api_version, built.in_flight_limit, built.retryable_create) == ("v2", 3, False)
    assert built.form.subject_field.max_length == 1500
    assert PLUGIN.key_variable == "HEYGEN_API_KEY"
    monkeypatch.setenv("HEYGEN_API_VERSION", " V3 ")
    assert HeyGenSettings(_env_file=None).api_version == "v3"
    monkeypatch.setenv("HEYGEN_API_VERSION", "")
    assert HeyGenSettings(_env_file=None).api_version == "v3", "blank is the default"
    monkeypatch.setenv("HEYGEN_API_VERSION", "v4")
    with pytest.raises(ValueError):
        HeyGenSettings(_env_file=None)


class _NoState:
    async def shared_get(self, key: str) -> str | None:
        return None

    async def shared_put(self, key: str, value: str, ttl: float) -> None:
        return None

    async def shared_put_new(self, key: str, value: str, ttl: float) -> bool:
        return True

    async def shared_delete(self, key: str, value: str | None = None) -> bool:
        return True


_: type[SharedState] = _NoState


# --- v3 happy path --------------------------------------------------------------------------
async def test_v3_create_sends_the_documented_body_with_the_idempotency_key(
    sim: HeyGenSimulator, provider: HeyGenProvider
) -> None:
    hook = "https://reelbot.example/webhooks/heygen/job/tok"
    submission = await provider.submit(a_request(captions=True), key=KEY, webhook_url=hook)

    assert submission.ref in sim.jobs
    assert sim.create_keys == [KEY]
    assert sim.creates == [
        {
            "type": "avatar",
            "avatar_id": DAISY,
            "script": "Welcome to the team! Here is how we ship.",
            "voice_id": RACHEL,
            "aspect_ratio": "9:16",
            "background": {"type": "color", "value": "#0A84FF"},
            "caption": {"file_format": "srt", "style": "default"},
            "title": "Welcome",
            "callback_id": KEY,
            "callback_url": hook,
        }
    ]


async def test_v3_video_goes_through_heygens_stages_to_a_video_with_its_expiry(
    sim: HeyGenSimulator, provider: HeyGenProvider
) -> None:
    ref = (await provider.submit(a_request(), key=KEY)).ref
    seen = [await provider.poll(ref)]
    for _ in range(3):
        sim.advance(RENDER / 3)
        seen.append(await provider.poll(ref))

    assert [(s.state, s.stage) for s in seen[:3]] == [
        (Progress.PENDING, "pending"),
        (Progress.PENDING, "waiting"),
        (Progress.RUNNING, "processing"),
    ]
    video = only_video(seen[3])
    assert video.provider_id == ref and video.title == "Welcome"
    assert video.url.startswith(sim.base_url) and "Expires=" in video.url
    assert video.thumbnail_url is not None and "thumbnail" in video.thumbnail_url
    assert video.duration_s is not None and video.duration_s > 0
    assert video.expires_at == expires_param(video.url)
    async with httpx.AsyncClient() as client:
        assert (await client.get(video.url)).headers["content-type"] == "video/mp4"


async def test_voice_is_left_out_when_none_is_chosen_so_the_looks_own_voice_speaks(
    sim: HeyGenSimulator, provider: HeyGenProvider
) -> None:
    ref = (await provider.submit(a_request(voice_id=None, captions=True), key=KEY)).ref
    assert "voice_id" not in sim.creates[0]
    video = only_video(await finish(sim, provider, ref))
    assert "captioned" in video.url, "captions asked for: the captioned file is the video"


async def test_refresh_gives_a_freshly_signed_link_for_the_same_video(
    sim: HeyGenSimulator, provider: HeyGenProvider
) -> None:
    ref = (await provider.submit(a_request(), key=KEY)).ref
    first = only_video(await finish(sim, provider, ref))

    fresh = await provider.refresh(ref, first)

    assert isinstance(fresh, Video)
    assert fresh.provider_id == first.provider_id
    assert fresh.url != first.url
    assert urlsplit(fresh.url).path == urlsplit(first.url).path
    assert await provider.refresh("0" * 32, first) is None, "a video HeyGen no longer has"


async def test_catalogs_read_every_page_of_looks_and_voices(
    sim: HeyGenSimulator, provider: HeyGenProvider
) -> None:
    looks = await provider.catalog("avatar", {})
    voices = await provider.catalog("voice", {"avatar": DAISY})

    assert [c.value for c in looks] == [look["id"] for look in LOOKS]
    assert sim.list_calls["looks"] == 3, "7 looks, 3 a page"
    daisy = looks[0]
    assert daisy.label == "Daisy in a skirt"
    assert daisy.image_url is not None and daisy.image_url.endswith(f"{DAISY}.jpg")
    assert daisy.description is not None and "female" in daisy.description
    assert {c.value for c in voices} == {v["voice_id"] for v in VOICES}
    assert "Our CEO (clone)" in {c.label for c in voices}, "private voices are listed too"
    assert [c.group for c in voices] == sorted(c.group or "" for c in voices)
    assert {c.group for c in voices} == {"English", "German", "Japanese", "Spanish"}
    assert {c.description for c in voices} == {"Female", "Male"}
    assert await provider.catalog("background", {}) == ()


# --- idempotency ----------------------------------------------------------------------------
async def test_the_same_key_twice_is_one_video(
    sim: HeyGenSimulator, provider: HeyGenProvider
) -> None:
    first = await provider.submit(a_request(), key=KEY)
    again = await provider.submit(a_request(), key=KEY)

    assert again.ref == first.ref
    assert len(sim.creates) == 1 and sim.create_attempts == 2


async def test_a_create_whose_answer_is_lost_is_sent_again_and_stays_one_video(
    sim: HeyGenSimulator, provider: HeyGenProvider
) -> None:
    sim.inject("create", "drop_after_create")

    submission = await provider.submit(a_request(), key=KEY)

    assert sim.create_attempts == 2 and sim.create_keys == [KEY, KEY]
    assert len(sim.creates) == 1
    assert list(sim.jobs) == [submission.ref]


async def test_a_duplicate_while_the_first_is_handled_waits_then_gets_the_same_video(
    sim: HeyGenSimulator, provider: HeyGenProvider
) -> None:
    sim.create_seconds = 0.4
    results = await asyncio.gather(
        provider.submit(a_request(), key=KEY),
        provider.submit(a_request(), key=KEY),
        return_exceptions=True,
    )
    refs = [r.ref for r in results if not isinstance(r, BaseException)]
    waits = [r for r in results if isinstance(r, RateLimited)]
    assert len(refs) == 1 and len(waits) == 1
    assert waits[0].code == "request_in_progress" and waits[0].retry_after == 1

    assert (await provider.submit(a_request(), key=KEY)).ref == refs[0]
    assert len(sim.creates) == 1


async def test_v2_create_whose_answer_is_lost_is_never_sent_again(
    sim: HeyGenSimulator, v2: HeyGenProvider
) -> None:
    sim.inject("create", "drop_after_create")

    with pytest.raises(Unavailable) as raised:
        await v2.submit(a_request(), key=KEY)

    assert raised.value.code != NOT_SENT
    assert sim.create_attempts == 1 and len(sim.creates) == 1
    assert sim.create_keys == [None], "v2 takes no Idempotency-Key"


async def test_over_the_concurrency_heygen_answers_429_and_the_provider_waits_that_long(
    sim: HeyGenSimulator, provider: HeyGenProvider
) -> None:
    sim.concurrency = 2
    await provider.submit(a_request(), key=KEY)
    sim.advance(10)
    await provider.submit(a_request(), key=OTHER_KEY)

    with pytest.raises(RateLimited) as raised:
        await provider.submit(a_request(), key="c" * 32)

    assert sim.last_retry_after == 20, "the first job ends in 20 s"
    assert raised.value.retry_after == 20
    sim.advance(20)
    await provider.submit(a_request(), key="c" * 32)
    assert len(sim.creates) == 3


# --- v2 -------------------------------------------------------------------------------------
async def test_v2_end_to_end_with_test_mode_and_captions(
    sim: HeyGenSimulator, v2: HeyGenProvider
) -> None:
    request = a_request(test=True, captions=True, aspect="1:1")
    ref = (await v2.submit(request, key=KEY, webhook_url="https://r.example/cb")).ref
    assert sim.creates == [
        {
            "video_inputs": [
                {
                    "character": {"type": "avatar", "avatar_id": DAISY, "avatar_style": "normal"},
                    "voice": {
                        "type": "text",
                        "input_text": "Welcome to the team! Here is how we ship.",
                        "voice_id": RACHEL,
                    },
                    "background": {"type": "color", "value": "#0A84FF"},
                }
            ],
            "dimension": {"width": 720, "height": 720},
            "callback_id": KEY,
            "caption": True,
            "test": True,
            "title": "Welcome",
            "callback_url": "https://r.example/cb",
        }
    ]
    first = await v2.poll(ref)
    assert (first.state, first.stage) == (Progress.PENDING, "pending")
    sim.advance(RENDER * 0.7)
    assert (await v2.poll(ref)).stage == "processing"
    video = only_video(await finish(sim, v2, ref))
    assert "captioned" in video.url and video.expires_at == expires_param(video.url)
    assert video.provider_id == ref and video.thumbnail_url and video.duration_s
    credits = sim.credits
    assert (await v2.refresh(ref, video)) != video
    assert sim.credits == credits == 1000, "test mode uses no credits"
    assert await v2.refresh("f" * 32, video) is None


async def test_v2_watermarks_test_videos_only(sim: HeyGenSimulator, v2: HeyGenProvider) -> None:
    test_ref = (await v2.submit(a_request(test=True), key=KEY)).ref
    paid_ref = (await v2.submit(a_request(), key=OTHER_KEY)).ref
    sim.advance(RENDER)
    assert "watermarked" in only_video(await v2.poll(test_ref)).url
    assert "watermarked" not in only_video(await v2.poll(paid_ref)).url
    assert sim.credits == 999


async def test_v2_catalogs_list_avatars_and_voices(
    sim: HeyGenSimulator, v2: HeyGenProvider
) -> None:
    avatars = await v2.catalog("avatar", {})
    voices = await v2.catalog("voice", {})
    assert [a.value for a in avatars] == [look["id"] for look in LOOKS]
    assert all(a.image_url for a in avatars)
    assert {v.value for v in voices} == {v["voice_id"] for v in VOICES}
    assert all(v.group for v in voices)
    assert (sim.list_calls["v2_avatars"], sim.list_calls["v2_voices"]) == (1, 1)


async def test_a_test_request_is_refused_in_v3_before_anything_is_sent(
    sim: HeyGenSimulator, provider: HeyGenProvider
) -> None:
    with pytest.raises(BadInput):
        await provider.submit(a_request(test=True), key=KEY)
    assert sim.create_attempts == 0


# --- webhooks -------------------------------------------------------------------------------
@dataclass
class Receiver:
    url: str
    calls: asyncio.Queue[tuple[str, dict[str, str], bytes]]


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    calls: asyncio.Queue[tuple[str, dict[str, str], bytes]] = asyncio.Queue()

    async def post(request: web.Request) -> web.Response:
        await calls.put((request.path, dict(request.headers), await request.read()))
        return web.Response(text="ok")

    async def options(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/{tail:.*}", post)
    app.router.add_route("OPTIONS", "/{tail:.*}", options)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    yield Receiver(f"http://{host}:{port}", calls)
    await runner.cleanup()


async def test_a_signed_delivery_names_the_video_and_a_forged_one_names_nothing(
    sim: HeyGenSimulator, receiver: Receiver
) -> None:
    secret = await sim.register_endpoint(f"{receiver.url}/webhooks/heygen")
    assert secret.startswith("whsec_")
    heygen = HeyGenProvider(SECRET, sim.base_url, webhook_secret=secret)
    try:
        ref = (await heygen.submit(a_request(), key=KEY, webhook_url=f"{receiver.url}/job/tok")).ref
        sim.advance(RENDER)
        calls = [await asyncio.wait_for(receiver.calls.get(), 5) for _ in range(2)]
    finally:
        await heygen.aclose()

    by_path = {path: (headers, body) for path, headers, body in calls}
    signed_headers, signed = by_path["/webhooks/heygen"]
    job_headers, unsigned = by_path["/job/tok"]
    assert json.loads(signed)["event_type"] == "avatar_video.success"
    assert json.loads(signed)["event_data"]["callback_id"] == KEY
    assert "Signature" not in job_headers, "per-job callbacks are not signed"

    assert heygen.webhook_ref(signed_headers, signed) == ref
    lower = {k.lower(): v for k, v in signed_headers.items()}
    assert heygen.webhook_ref(lower, signed) == ref, "header names are case-insensitive"
    assert heygen.webhook_ref(job_headers, unsigned) is None, "no signature"
    forged = signed.replace(ref.encode(), b"f" * 32)
    assert heygen.webhook_ref(signed_headers, forged) is None, "signature of another body"
    assert heygen.webhook_ref({"Signature": "0" * 64}, signed) is None
    unsigned_provider = HeyGenProvider(SECRET, sim.base_url)
    assert unsigned_provider.webhook_ref(signed_headers, signed) is None, "no secret set"
    other = HeyGenProvider(SECRET, webhook_secret=secret, signature_header="X-HeyGen-Signature")
    assert other.webhook_ref(signed_headers, signed) is None, "signature under another name"
    renamed = {"x-heygen-signature": signed_headers["Signature"]}
    assert other.webhook_ref(renamed, signed) == ref


async def test_a_failed_render_is_delivered_as_a_fail_event_naming_the_video(
    sim: HeyGenSimulator, receiver: Receiver
) -> None:
    secret = await sim.register_endpoint(f"{receiver.url}/webhooks/heygen")
    heygen = HeyGenProvider(SECRET, sim.base_url, webhook_secret=secret)
    try:
        ref = (await heygen.submit(a_request(script="fail-too-long"), key=KEY)).ref
        sim.advance(RENDER)
        _, headers, body = await asyncio.wait_for(receiver.calls.get(), 5)
    finally:
        await heygen.aclose()
    assert json.loads(body)["event_type"] == "avatar_video.fail"
    assert heygen.webhook_ref(headers, body) == ref


async def test_an_endpoint_that_does_not_answer_options_is_not_registered(
    sim: HeyGenSimulator,
) -> None:
    with pytest.raises(ValueError):
        await sim.register_endpoint("http://127.0.0.1:9/webhooks/heygen")
    assert sim.endpoints == {}


def _signed(body: bytes) -> dict[str, str]:
    return {"Signature": hmac.new(b"whsec_test", body, hashlib.sha256).hexdigest()}


@pytest.mark.parametrize(
    ("payload", "ref"),
    [
        ({"event_type": "avatar_video.success", "event_data": {"video_id": "abc123"}}, "abc123"),
        ({"event_type": "avatar_video.fail", "event_data": {"video_id": "abc123"}}, "abc123"),
        ({"event_type": "video_translate.success", "event_data": {"video_id": "abc"}}, None),
        ({"event_type": "avatar_video.success", "event_data": {"video_id": "../admin"}}, None),
        ({"event_type": "avatar_video.success", "event_data": {"video_id": 7}}, None),
        ({"event_type": "avatar_video.success"}, None),
        (["avatar_video.success"], None),
    ],
)
def test_webhook_ref_names_only_an_avatar_video_event(payload: Any, ref: str | None) -> None:
    body = json.dumps(payload).encode()
    heygen = HeyGenProvider(SECRET, webhook_secret="whsec_test")
    assert heygen.webhook_ref(_signed(body), body) == ref
    assert heygen.webhook_ref(_signed(b"not json"), b"not json") is None
    assert heygen.webhook_ref({"Signature": "ünïcode"}, body) is None


@pytest.mark.parametrize(
    ("url", "expires"),
    [
        ("https://files.heygen.ai/v.mp4?Expires=1893456000&Signature=x", 1893456000.0),
        ("https://files.heygen.ai/v.mp4?a=1&Expires=1893456000", 1893456000.0),
        ("https://files.heygen.ai/v.mp4?XExpires=1893456000", None),
        ("https://files.heygen.ai/v.mp4", None),
    ],
)
def test_a_links_expiry_is_read_from_its_expires_parameter(url: str, expires: float | None) -> None:
    assert link_expiry(url) == expires


@pytest.mark.parametrize(
    ("header", "wait"),
    [({"Retry-After": "12"}, 12.0), ({}, 30.0), ({"Retry-After": "soon"}, 30.0)],
)
def test_retry_after_is_read_from_the_header_or_defaults(
    header: dict[str, str], wait: float
) -> None:
    assert retry_after(httpx.Response(429, headers=header), 30.0) == wait
    date = email.utils.formatdate(time.time() + 60, usegmt=True)
    assert 55 <= retry_after(httpx.Response(429, headers={"Retry-After": date}), 30.0) <= 61


# --- every documented error, as the simulator really answers it -----------------------------
async def _create(heygen: HeyGenProvider, key: str = KEY, **changes: Any) -> str:
    return (await heygen.submit(a_request(**changes), key=key)).ref


async def _render(sim: HeyGenSimulator, heygen: HeyGenProvider, **changes: Any) -> Status:
    ref = await _create(heygen, **changes)
    sim.advance(RENDER)
    return await heygen.poll(ref)


async def _wrong_key(sim: HeyGenSimulator, api: ApiVersion, poll: bool = False) -> Any:
    stranger = HeyGenProvider("hg-revoked-key", sim.base_url, api_version=api)
    try:
        return await (stranger.poll("0" * 32) if poll else _create(stranger))
    finally:
        await stranger.aclose()


async def _provoke(sim: HeyGenSimulator, heygen: HeyGenProvider, how: str, arg: Any) -> Any:
    """Make the simulator answer one documented error, by input or by a fault."""
    if how == "create":
        return await _create(heygen, **arg)
    if how == "callback":
        return await heygen.submit(a_request(), key=KEY, webhook_url=arg)
    if how == "render":
        return await _render(sim, heygen, **arg)
    if how == "inject":
        sim.inject("create", "error", code=arg)
        return await _create(heygen)
    if how == "poll":
        return await heygen.poll("0" * 32)
    if how == "wrong-key":
        return await _wrong_key(sim, heygen.api_version, poll=arg)
    if how == "second":  # the first create is fine, the setting stops the second
        for name, value in arg.items():
            setattr(sim, name, value)
        test = "test_daily_cap" in arg
        await _create(heygen, key=OTHER_KEY, test=test)
        return await _create(heygen, test=test)
    if how == "reuse-key":
        await _create(heygen)
        return await _create(heygen, script="Another script under the same key.")
    if how == "in-progress":
        sim.create_seconds = 0.4
        first = asyncio.create_task(_create(heygen))
        await asyncio.sleep(0.1)
        try:
            return await _create(heygen)
        finally:
            await first
    if how == "too-big":
        sim.max_body_bytes = 300
        return await _create(heygen, script="A fine script. " * 30)
    raise AssertionError(how)


# name -> (API, the documented code, the kind its meaning calls for, words the sentence needs,
# how the simulator is made to answer it).
# fmt: off
CASES: dict[str, tuple[ApiVersion, str, type[ProviderError], tuple[str, ...], str, Any]] = {
    "bad-key": ("v3", "unauthorized", NeedsAdmin, ("HEYGEN_API_KEY",), "wrong-key", False),
    "forbidden": ("v3", "forbidden", NeedsAdmin, ("key",), "inject", "forbidden"),
    "no-access": ("v3", "resource_access_denied", BadInput, ("avatar",),
                  "inject", "resource_access_denied"),
    "no-credit": ("v3", "insufficient_credit", NeedsAdmin, ("credits",), "second", {"credits": 1}),
    "unknown-video": ("v3", "not_found", Failed, ("again",), "poll", None),
    "long-script": ("v3", "validation_error", BadInput, ("`script`",),
                    "create", {"script": "x" * 5001}),
    "no-voice": ("v3", "validation_error", BadInput, ("voice", "`voice_id`"),
                 "create", {"avatar_id": ANNA, "voice_id": None}),
    "bad-aspect": ("v3", "validation_error", BadInput, ("`aspect_ratio`",),
                   "create", {"aspect": "3:2"}),
    "bad-colour": ("v3", "validation_error", BadInput, ("`background.value`",),
                   "create", {"background": "blue"}),
    "too-many": ("v3", "rate_limit_exceeded", RateLimited, ("HeyGen",),
                 "second", {"concurrency": 1}),
    "too-big": ("v3", "payload_too_large", BadInput, ("script",), "too-big", None),
    "key-reused": ("v3", "conflict", Failed, ("new request",), "reuse-key", None),
    "in-progress": ("v3", "request_in_progress", RateLimited, ("HeyGen",), "in-progress", None),
    "asset": ("v3", "asset_not_available", BadInput, ("file",), "inject", "asset_not_available"),
    "download": ("v3", "download_failed", BadInput, ("download",), "inject", "download_failed"),
    "no-avatar": ("v3", "avatar_not_found", BadInput, ("avatar",),
                  "create", {"avatar_id": "nobody"}),
    "no-such-voice": ("v3", "voice_not_found", BadInput, ("voice",),
                      "create", {"voice_id": "nobody"}),
    "trial-cap": ("v3", "trial_limit_exceeded", NeedsAdmin, ("trial", "plan"),
                  "second", {"trial_daily_cap": 1}),
    "too-long-for-plan": ("v3", "video_too_long", NeedsAdmin, ("too long", "plan"),
                          "render", {"script": "fail-too-long"}),
    "bad-callback": ("v3", "validation_error", NeedsAdmin, ("REELBOT_PUBLIC_URL",),
                     "callback", "ftp://bot.example/hook"),
    "v2-bad-callback": ("v2", "400542", NeedsAdmin, ("REELBOT_PUBLIC_URL",),
                        "callback", "ftp://bot.example/hook"),
    "v2-bad-key": ("v2", "40009", NeedsAdmin, ("HEYGEN_API_KEY",), "wrong-key", False),
    "v2-bad-key-on-status": ("v2", "40009", NeedsAdmin, ("HEYGEN_API_KEY",), "wrong-key", True),
    "v2-unauthorized": ("v2", "400112", NeedsAdmin, ("HEYGEN_API_KEY",), "inject", 400112),
    "v2-unknown-video": ("v2", "40104", Failed, ("again",), "poll", None),
    "v2-too-long-for-plan": ("v2", "40119", NeedsAdmin, ("too long", "plan"),
                             "render", {"script": "fail-too-long"}),
    "v2-no-avatar": ("v2", "avatar_not_found", BadInput, ("avatar",),
                     "create", {"avatar_id": "nobody"}),
    "v2-no-such-voice": ("v2", "voice_not_found", BadInput, ("voice",),
                         "create", {"voice_id": "nobody"}),
    "v2-no-voice": ("v2", "40001", BadInput, ("missing",), "create", {"voice_id": None}),
    "v2-long-script": ("v2", "400175", BadInput, ("script",), "create", {"script": "x" * 5001}),
    "v2-test-cap": ("v2", "test_mode_limit_exceeded", BadInput, ("test mode",),
                    "second", {"test_daily_cap": 1}),
    "v2-no-credit": ("v2", "insufficient_credit", NeedsAdmin, ("credits",),
                     "second", {"credits": 1}),
    "v2-too-many": ("v2", "rate_limit_exceeded", RateLimited, ("HeyGen",),
                    "second", {"concurrency": 1}),
}
# fmt: on


@pytest.mark.parametrize(
    ("api", "code", "kind", "words", "how", "arg"), CASES.values(), ids=CASES.keys()
)
async def test_every_documented_error_becomes_its_kind_and_a_sentence(
    sim: HeyGenSimulator,
    provider: HeyGenProvider,
    v2: HeyGenProvider,
    api: ApiVersion,
    code: str,
    kind: type[ProviderError],
    words: tuple[str, ...],
    how: str,
    arg: Any,
) -> None:
    with pytest.raises(ProviderError) as raised:
        await _provoke(sim, provider if api == "v3" else v2, how, arg)

    error = raised.value
    assert type(error) is kind
    assert error.code == code
    assert error.message.endswith(".") and "\n" not in error.message
    assert "Traceback" not in error.message and "{" not in error.message
    for word in words:
        assert word in error.message
    assert SECRET not in error.message
    if kind is NeedsAdmin:
        assert "admin" in error.message
    if isinstance(error, RateLimited):
        assert error.retry_after >= 1


def test_the_walk_covers_every_code_in_the_clients_table() -> None:
    walked = {code for _, code, *_ in CASES.values()}
    assert set(ERRORS) <= walked, f"never produced: {sorted(set(ERRORS) - walked)}"


async def test_an_undocumented_code_is_a_plain_sentence_with_the_http_status(
    sim: HeyGenSimulator, provider: HeyGenProvider
) -> None:
    sim.inject("create", "error", code="quantum_flux")
    with pytest.raises(Failed) as raised:
        await _create(provider)
    assert "HTTP 400" in raised.value.message and raised.value.message.endswith(".")


async def test_an_undocumented_render_failure_quotes_heygens_reason(
    sim: HeyGenSimulator, provider: HeyGenProvider
) -> None:
    with pytest.raises(Failed) as raised:
        await _render(sim, provider, script="Please fail-render this one.")
    assert "Rendering failed" in raised.value.message


# --- transport faults -----------------------------------------------------------------------
async def test_status_answering_500_twice_is_retried(
    sim: HeyGenSimulator, provider: HeyGenProvider
) -> None:
    ref = await _create(provider)
    calls = sim.status_calls
    sim.inject("status", "http500", times=2)
    assert (await provider.poll(ref)).stage == "pending"
    assert sim.status_calls - calls == 3


async def test_a_v3_create_answering_500_is_sent_again_under_its_key(
    sim: HeyGenSimulator, provider: HeyGenProvider
) -> None:
    sim.inject("create", "http500")
    await _create(provider)
    assert sim.create_attempts == 2 and len(sim.creates) == 1


async def test_a_v2_create_answering_500_is_not_sent_again(
    sim: HeyGenSimulator, v2: HeyGenProvider
) -> None:
    sim.inject("create", "http500", times=3)
    with pytest.raises(Unavailable):
        await _create(v2)
    assert sim.create_attempts == 1


@pytest.mark.parametrize("endpoint", ["create", "status", "looks", "voices"])
async def test_a_malformed_answer_is_unavailable(
    sim: HeyGenSimulator, provider: HeyGenProvider, endpoint: Any
) -> None:
    ref = await _create(provider, key=OTHER_KEY)
    sim.inject(endpoint, "malformed")
    with pytest.raises(Unavailable) as raised:
        if endpoint == "create":
            await _create(provider)
        elif endpoint == "status":
            await provider.poll(ref)
        else:
            await provider.catalog("avatar" if endpoint == "looks" else "voice", {})
    assert raised.value.message.startswith("HeyGen sent an answer Reelbot could not read")


async def test_a_status_that_keeps_timing_out_is_unavailable(sim: HeyGenSimulator) -> None:
    heygen = HeyGenProvider(SECRET, sim.base_url, timeout=0.3)
    try:
        ref = await _create(heygen)
        sim.inject("status", "timeout", times=3, delay=2.0)
        with pytest.raises(Unavailable):
            await heygen.poll(ref)
    finally:
        await heygen.aclose()


async def test_the_api_key_never_appears_in_errors_or_logs(
    sim: HeyGenSimulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    errors: list[ProviderError] = []
    heygen = HeyGenProvider(SECRET, sim.base_url, timeout=0.3)
    try:
        ref = await _create(heygen)
        for endpoint, fault, code in [
            ("create", "malformed", None),
            ("status", "malformed", None),
            ("status", "error", "unauthorized"),
            ("looks", "error", "forbidden"),
            ("create", "error", "validation_error"),
        ]:
            sim.inject(endpoint, fault, code=code)  # type: ignore[arg-type]
            with pytest.raises(ProviderError) as raised:
                if endpoint == "create":
                    await _create(heygen, key=OTHER_KEY)
                elif endpoint == "status":
                    await heygen.poll(ref)
                else:
                    await heygen.catalog("avatar", {})
            errors.append(raised.value)
        sim.inject("status", "timeout", times=3, delay=1.0)
        with pytest.raises(Unavailable) as timed_out:
            await heygen.poll(ref)
        errors.append(timed_out.value)
        errors.append(await _raised(_wrong_key(sim, "v3")))
        errors.append(await _raised(_wrong_key(sim, "v2", poll=True)))
    finally:
        await heygen.aclose()

    assert len(errors) == 8
    for error in errors:
        shown = "".join(traceback.format_exception(error))
        assert SECRET not in shown and SECRET not in repr(error)
    assert any("/v3/videos" in r.getMessage() for r in caplog.records)
    for record in caplog.records:
        assert SECRET not in record.getMessage() and SECRET not in str(record.args)


async def _raised(work: Awaitable[Any]) -> ProviderError:
    try:
        await work
    except ProviderError as exc:
        return exc
    raise AssertionError("expected a ProviderError")


async def test_a_callback_url_heygen_refuses_is_an_admins_problem_naming_the_setting(
    provider: HeyGenProvider,
) -> None:
    with pytest.raises(NeedsAdmin) as refused:
        await provider.submit(a_request(), key="k" * 32, webhook_url="ftp://bot.example/hook")
    assert "REELBOT_PUBLIC_URL" in refused.value.message
