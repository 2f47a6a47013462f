"""ViddyScribeProvider against the ViddyScribe simulator over real HTTP on loopback.

The expected error kinds and sentence fragments here are written from ViddyScribe's documents
(the seed, docs.viddyscribe.com, shared/providers.md section 4), not read from the client's
table: a table that drifts must fail these tests.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import time
import traceback
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from providers.base import (
    NOT_SENT,
    BadInput,
    Failed,
    File,
    JobKind,
    NeedsAdmin,
    Output,
    Progress,
    Provider,
    ProviderError,
    RateLimited,
    StagesFiles,
    Status,
    Submission,
    Unavailable,
    Video,
    dump_request,
)
from providers.forms import FieldError, FieldType
from providers.memory_state import MemoryState
from providers.simulators.viddyscribe import ViddyScribeSimulator
from providers.viddyscribe import (
    ERRORS,
    FORM,
    PLUGIN,
    MediaFile,
    ViddyScribeProvider,
    ViddyScribeRequest,
    ViddyScribeSettings,
    build_request,
    error_from_response,
    link_expiry,
    parse_ref,
)

SECRET = "vsk_live_7f3a9c2e5b8d4f1a6c0e"
KEY = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
OTHER_KEY = "aaaabbbbccccddddeeeeffff00001111"
VIDEO = "https://media.example.com/talks/keynote.mp4"
RENDER = 30.0  # long enough that only sim.advance() moves a job on
MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + bytes(range(256)) * 4
SMALL_MAX = 2048  # the provider's multipart line in these tests: MP4 (1,048 B) goes multipart
# The documented segments' first description, as the simulator writes it.
FIRST = "A woman in a yellow top sits at a desk with a laptop."


def a_request(**changes: Any) -> ViddyScribeRequest:
    fields: dict[str, Any] = {"url": VIDEO, "language": "en-US", "category": "Documentary"}
    fields.update(changes)
    return ViddyScribeRequest(**fields)


def a_file(size: int = len(MP4), **changes: Any) -> ViddyScribeRequest:
    return a_request(url=None, file=MediaFile(name="keynote.mp4", size=size), **changes)


async def chunks_of(data: bytes, step: int = 300) -> AsyncIterator[bytes]:
    for start in range(0, len(data), step):
        yield data[start : start + step]


class Bytes:
    """A FileSource over bytes in memory, counting what is read from it (as the bot's Slack
    file source would fetch it)."""

    def __init__(self, data: bytes, size: int | None = None, name: str = "keynote.mp4") -> None:
        self.data, self.name, self.content_type = data, name, "video/mp4"
        self.size = len(data) if size is None else size
        self.read = 0

    async def prepare(self) -> None:
        return None

    async def chunks(self) -> AsyncIterator[bytes]:
        async for chunk in chunks_of(self.data):
            self.read += len(chunk)
            yield chunk


async def through(
    vs: ViddyScribeProvider, source: Bytes, key: str = KEY, **changes: Any
) -> Submission:
    """What the bot does with a file request: stage its bytes, then create the job."""
    request = a_file(source.size, **changes)
    await vs.stage_file(request, key=key, source=source)
    return await vs.submit(request, key=key)


async def _upload(vs: ViddyScribeProvider, data: bytes, key: str = KEY) -> Any:
    return await through(vs, Bytes(data, name="k.mp4"), key=key)


@pytest.fixture
async def sim() -> AsyncIterator[ViddyScribeSimulator]:
    simulator = ViddyScribeSimulator(SECRET, render_seconds=RENDER, verify_seconds=0.2)
    await simulator.start()
    yield simulator
    await simulator.stop()


@pytest.fixture
def shared() -> MemoryState:
    return MemoryState()


@pytest.fixture
async def provider(
    sim: ViddyScribeSimulator, shared: MemoryState
) -> AsyncIterator[ViddyScribeProvider]:
    vs = ViddyScribeProvider(
        SECRET,
        sim.base_url,
        shared=shared,
        multipart_max_bytes=SMALL_MAX,
        upload_wait_seconds=3.0,
    )
    yield vs
    await vs.aclose()


async def finish(sim: ViddyScribeSimulator, vs: ViddyScribeProvider, ref: str) -> Status:
    sim.advance(RENDER)
    status = await vs.poll(ref)
    assert status.state is Progress.DONE
    return status


async def describe(
    sim: ViddyScribeSimulator, vs: ViddyScribeProvider, **changes: Any
) -> tuple[str, Status]:
    ref = (await vs.submit(a_request(**changes), key=KEY)).ref
    return ref, await finish(sim, vs, ref)


def one(outputs: tuple[Output, ...], kind: type[Any], name: str | None = None) -> Any:
    found = [o for o in outputs if isinstance(o, kind) and (name is None or o.name == name)]
    assert len(found) == 1, outputs
    return found[0]


async def fetch(url: str) -> httpx.Response:
    async with httpx.AsyncClient() as client:
        return await client.get(url)


# --- the seam -------------------------------------------------------------------------------
def test_viddyscribe_provider_satisfies_the_provider_protocol() -> None:
    vs: Provider = ViddyScribeProvider(SECRET)
    assert (vs.name, vs.label, vs.kind) == ("viddyscribe", "ViddyScribe", JobKind.DESCRIPTION)
    assert vs.retryable_create is False, "ViddyScribe takes no idempotency key"
    assert vs.rate_windows == () and vs.in_flight_limit is None
    assert vs.quote(a_request()) is None
    assert vs.load_request(dump_request(a_request())) == a_request()
    assert vs.load_request(dump_request(a_file())) == a_file()
    assert vs.webhook_ref({}, b'{"job_id": "task_1"}') is None, "no webhooks are documented"
    assert vs.form.subject == "url" and PLUGIN.form is FORM
    assert vs.describe(a_request()).source == VIDEO
    assert "keynote.mp4" in vs.describe(a_file()).source
    with pytest.raises(ValueError):
        ViddyScribeRequest(language="en-US")  # neither a link nor a file
    with pytest.raises(ValueError):
        ViddyScribeRequest(url=VIDEO, file=MediaFile(name="a.mp4", size=1))


async def test_catalog_is_empty_every_field_is_fixed_or_free() -> None:
    vs = ViddyScribeProvider(SECRET)
    try:
        assert await vs.catalog("voice", {}) == ()
    finally:
        await vs.aclose()


def test_form_offers_every_documented_option() -> None:
    lang = FORM.get("lang")
    assert lang is not None and lang.type is FieldType.CHOICE and lang.default == "en-US"
    codes = [c.value for c in lang.choices]
    assert len(codes) == 53 and len(set(codes)) == 53, "the overview's 53 language codes"
    labels = {c.value: c.label for c in lang.choices}
    assert labels["en-US"].startswith("English (US)")
    for code in ("en-GB", "en-AU", "en-IN", "es-ES", "es-US", "fr-FR", "fr-CA", "nl-NL", "nl-BE"):
        assert code in codes
    named = ("German", "Japanese", "Swahili", "Serbian (Cyrillic)", "Punjabi (India)", "Urdu")
    assert all(any(label.startswith(n) for label in labels.values()) for n in named)
    category = FORM.get("category")
    assert category is not None and category.default == "Auto"
    assert [c.value for c in category.choices] == [
        "Auto", "Educational Lecture", "Educational Kids", "Government Meeting", "Documentary",
        "Narrative Story", "Social Media", "Tutorial/How-To", "Vlog", "Commercial/Advertisement",
        "News", "Entertainment", "Home Video", "Video Call",
    ]  # fmt: skip
    assert category.choice("documentary") is not None
    assert category.choice("tutorial") is not None and category.choice("lecture") is not None
    output, text_format = FORM.get("output"), FORM.get("format")
    assert output is not None and [c.value for c in output.choices] == ["text", "audio", "video"]
    assert output.default == "text"
    assert text_format is not None and text_format.default == "vtt"
    assert [c.value for c in text_format.choices] == ["json", "vtt", "srt", "edl"]
    kind = FORM.get("type")
    assert kind is not None and [c.value for c in kind.choices] == ["standard", "extended"]
    assert kind.default == "standard"
    voice, instructions, onscreen = (
        FORM.get("voice"),
        FORM.get("instructions"),
        FORM.get("onscreen"),
    )
    assert voice is not None and voice.type is FieldType.CHOICE and not voice.required
    assert {"Achernar", "Kore", "Puck", "Charon"} <= {c.value for c in voice.choices}
    assert instructions is not None and instructions.max_length == 1000
    assert onscreen is not None and onscreen.type is FieldType.SWITCH and onscreen.default is False
    url = FORM.subject_field
    assert url.type is FieldType.URL and url.required


@pytest.mark.parametrize(
    ("values", "field", "words"),
    [
        ({"url": VIDEO, "output": "audio", "type": "extended"}, "type", "Standard AD only"),
        ({"url": VIDEO, "output": "audio", "type": "extended_ad"}, "type", "Standard AD only"),
        ({}, "url", "link"),
        ({"url": "ftp://media.example.com/v.mp4"}, "url", "http"),
        ({"url": VIDEO, "file": {"name": "a.mp4", "size": 3}}, "url", "not both"),
        ({"file": {"name": "a.mp3", "size": 3, "content_type": "audio/mpeg"}}, "url", "audio"),
        ({"file": {"name": "", "size": 3}}, "url", "file"),
        ({"url": VIDEO, "lang": "xx-XX"}, "lang", "lang"),
        ({"url": VIDEO, "category": "Sports"}, "category", "Documentary"),
        ({"url": VIDEO, "output": "gif"}, "output", "video"),
        ({"url": VIDEO, "format": "docx"}, "format", "srt"),
        ({"url": VIDEO, "voice": "Achernar; rm -rf"}, "voice", "Achernar"),
        ({"url": VIDEO, "instructions": "x" * 1001}, "instructions", "1,000"),
    ],
)
def test_build_request_names_the_field_a_person_must_fix(
    values: dict[str, Any], field: str, words: str
) -> None:
    with pytest.raises(FieldError) as raised:
        build_request(values)
    assert raised.value.name == field
    assert words in raised.value.message and raised.value.message.endswith(".")


def test_build_request_reads_aliases_and_fills_defaults() -> None:
    assert build_request({"url": VIDEO}) == ViddyScribeRequest(url=VIDEO)
    request = build_request(
        {
            "url": VIDEO,
            "lang": "de",
            "category": "tutorial",
            "output": "Video",
            "format": "SRT",
            "voice": "Achernar",
            "type": "extended",
            "instructions": "  Read slide titles.  ",
            "onscreen": True,
        }
    )
    assert request == ViddyScribeRequest(
        url=VIDEO,
        language="de-DE",
        category="Tutorial/How-To",
        output="video",
        format="srt",
        voice="Achernar",
        ad_type="extended_ad",
        instructions="Read slide titles.",
        onscreen=True,
    )
    from_file = build_request(
        {"file": {"name": "a.mov", "size": 9, "content_type": "video/quicktime"}}
    )
    assert from_file.file == MediaFile(name="a.mov", size=9, content_type="video/quicktime")
    assert build_request({"url": VIDEO, "output": "audio"}).ad_type == "standard_ad"


def test_settings_use_the_fixed_names_and_only_the_key_configures(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert not ViddyScribeSettings(_env_file=None).configured
    assert str(ViddyScribeSettings(_env_file=None).base_url).startswith(
        "https://api.viddyscribe.com"
    )
    env = {
        "VIDDYSCRIBE_API_KEY": SECRET,
        "VIDDYSCRIBE_BASE_URL": "http://127.0.0.1:9",
        "VIDDYSCRIBE_TIMEOUT_SECONDS": "5",
        "VIDDYSCRIBE_LINK_TTL_MINUTES": "10",
        "VIDDYSCRIBE_IN_FLIGHT": "4",
        "VIDDYSCRIBE_LANGUAGES": "en-US=English (US), de-DE=German",
        "VIDDYSCRIBE_VOICES": "Kore, Nova-2",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = ViddyScribeSettings(_env_file=None)
    assert settings.configured and settings.secrets() == [SECRET]
    assert settings.link_ttl_minutes == 10
    built = PLUGIN.create(settings, MemoryState())
    assert isinstance(built, ViddyScribeProvider) and built.in_flight_limit == 4
    lang = built.form.get("lang")
    assert lang is not None and [c.value for c in lang.choices] == ["en-US", "de-DE"]
    voice = built.form.get("voice")
    assert voice is not None and [c.value for c in voice.choices] == ["Kore", "Nova-2"]
    assert built.build_request({"url": VIDEO, "voice": "nova-2"}).voice == "Nova-2"
    with pytest.raises(FieldError):
        built.build_request({"url": VIDEO, "voice": "Achernar"})
    assert PLUGIN.key_variable == "VIDDYSCRIBE_API_KEY"
    assert PLUGIN.kind is JobKind.DESCRIPTION
    monkeypatch.setenv("VIDDYSCRIBE_IN_FLIGHT", "")
    monkeypatch.setenv("VIDDYSCRIBE_LANGUAGES", "")
    assert ViddyScribeSettings(_env_file=None).in_flight is None, "blank is unset"
    monkeypatch.setenv("VIDDYSCRIBE_LANGUAGES", "not a code=Nope")
    with pytest.raises(ValueError):
        ViddyScribeSettings(_env_file=None)
    monkeypatch.setenv("VIDDYSCRIBE_LANGUAGES", "")
    monkeypatch.setenv("VIDDYSCRIBE_VOICES", "Kore; rm -rf")
    with pytest.raises(ValueError):
        ViddyScribeSettings(_env_file=None)


# --- from a link ----------------------------------------------------------------------------
async def test_a_link_is_described_straight_from_the_url_with_the_documented_body(
    sim: ViddyScribeSimulator, provider: ViddyScribeProvider
) -> None:
    request = a_request(instructions="Keep it short.", onscreen=True, voice="Achernar")
    submission = await provider.submit(request, key=KEY)

    assert sim.generates == [
        {
            "endpoint": "text",
            "input": {"type": "url", "value": VIDEO},
            "generation_config": {
                "language": "en-US",
                "video_category": "Documentary",
                "format": "vtt",
                "ad_type": "standard_ad",
                "read_all_onscreen_text": True,
                "custom_instructions": "Keep it short.",
            },
        }
    ], "a text job has no voice"
    assert sim.uploads == [{"type": "url", "filename": "keynote.mp4", "size": 0}]
    output, text_format, job_id = parse_ref(submission.ref)
    assert (output, text_format) == ("text", "vtt") and job_id in sim.jobs


async def test_a_text_job_goes_queued_processing_done_to_a_vtt_file(
    sim: ViddyScribeSimulator, provider: ViddyScribeProvider
) -> None:
    ref = (await provider.submit(a_request(), key=KEY)).ref
    seen = [await provider.poll(ref)]
    sim.advance(RENDER / 2)
    seen.append(await provider.poll(ref))
    assert [(s.state, s.stage) for s in seen] == [
        (Progress.PENDING, "queued"),
        (Progress.RUNNING, "processing"),
    ]
    status = await finish(sim, provider, ref)
    vtt = one(status.outputs, File)
    assert (vtt.name, vtt.media_type) == ("audio-description.vtt", "text/vtt")
    assert vtt.text is not None and vtt.text.startswith("WEBVTT") and FIRST in vtt.text
    assert vtt.url is None and vtt.expires_at is None


@pytest.mark.parametrize(
    ("text_format", "name", "media_type", "starts"),
    [
        ("json", "audio-description.json", "application/json", "["),
        ("srt", "audio-description.srt", "application/x-subrip", "1\n00:00:00,500 --> "),
        ("edl", "audio-description.edl", "text/plain", "TITLE:"),
        ("vtt", "audio-description.vtt", "text/vtt", "WEBVTT"),
    ],
)
@pytest.mark.parametrize("shape", ["reference", "quickstart"])
async def test_every_text_format_becomes_its_file_in_either_documented_output_shape(
    sim: ViddyScribeSimulator,
    provider: ViddyScribeProvider,
    text_format: Any,
    name: str,
    media_type: str,
    starts: str,
    shape: Any,
) -> None:
    sim.output_shape = shape
    _, status = await describe(sim, provider, format=text_format)
    file = one(status.outputs, File)
    assert (file.name, file.media_type) == (name, media_type)
    assert file.text is not None and file.text.startswith(starts) and FIRST in file.text
    if text_format == "json":
        segments = json.loads(file.text)
        assert segments[0] == {"start": 0.5, "end": 3.1, "text": FIRST}
        assert "\n  {" in file.text, "indented, so it stays readable"


async def test_an_extended_description_has_the_longer_segment(
    sim: ViddyScribeSimulator, provider: ViddyScribeProvider
) -> None:
    _, standard = await describe(sim, provider, format="json")
    _, extended = await describe(sim, provider, format="json", ad_type="extended_ad")
    assert len(json.loads(one(extended.outputs, File).text)) == 1 + len(
        json.loads(one(standard.outputs, File).text)
    )


async def test_an_audio_job_gives_the_wav_track_with_its_expiry_and_the_text(
    sim: ViddyScribeSimulator, provider: ViddyScribeProvider
) -> None:
    before = time.time()
    ref, status = await describe(sim, provider, output="audio", voice="Achernar")
    assert sim.generates[0]["endpoint"] == "audio"
    assert sim.generates[0]["generation_config"]["voice"] == "Achernar"
    wav = one(status.outputs, File, "audio-description.wav")
    assert wav.media_type == "audio/wav" and wav.text is None and wav.url
    assert wav.expires_at is not None and before + 890 <= wav.expires_at <= time.time() + 901
    assert wav.expires_at == link_expiry(wav.url)
    assert wav.provider_id == f"{parse_ref(ref)[2]}/audio"
    answer = await fetch(wav.url)
    assert answer.status_code == 200 and answer.headers["content-type"] == "audio/wav"
    assert answer.content.startswith(b"RIFF")
    assert one(status.outputs, File, "audio-description.vtt").text


async def test_a_video_job_gives_the_video_the_audio_track_and_the_text(
    sim: ViddyScribeSimulator, provider: ViddyScribeProvider
) -> None:
    _, status = await describe(sim, provider, output="video", format="srt")
    video = one(status.outputs, Video)
    assert video.expires_at is not None and video.expires_at > time.time() + 800
    assert (await fetch(video.url)).headers["content-type"] == "video/mp4"
    assert one(status.outputs, File, "audio-description.wav").url
    assert one(status.outputs, File, "audio-description.srt").text
    assert status.outputs[0] is video, "the video comes first"

    _, extended = await describe(sim, provider, output="video", ad_type="extended_ad")
    assert [o.type for o in extended.outputs] == ["video", "file"], "no track: standard_ad only"


async def test_links_really_expire_and_refresh_gives_a_working_link(
    sim: ViddyScribeSimulator, provider: ViddyScribeProvider
) -> None:
    sim.links.seconds = 1
    ref, status = await describe(sim, provider, output="video")
    video = one(status.outputs, Video)
    track = one(status.outputs, File, "audio-description.wav")
    assert (await fetch(video.url)).status_code == 200
    assert video.expires_at is not None and video.expires_at <= time.time() + 1.5
    await asyncio.sleep(1.3)
    assert (await fetch(video.url)).status_code == 403, "expired"
    assert (await fetch(track.url)).status_code == 403

    fresh = await provider.refresh(ref, video)
    fresh_track = await provider.refresh(ref, track)

    assert isinstance(fresh, Video) and fresh.url != video.url
    assert fresh.provider_id == video.provider_id
    assert (await fetch(fresh.url)).status_code == 200
    assert isinstance(fresh_track, File) and fresh_track.name == "audio-description.wav"
    assert fresh_track.url and (await fetch(fresh_track.url)).status_code == 200
    assert await provider.refresh("video:vtt:task_gone", video) is None


async def test_a_bare_job_id_is_read_from_what_get_results_returns(
    sim: ViddyScribeSimulator, provider: ViddyScribeProvider
) -> None:
    ref = (await provider.submit(a_request(output="video", format="json"), key=KEY)).ref
    status = await finish(sim, provider, parse_ref(ref)[2])
    assert [o.type for o in status.outputs] == ["video", "file", "file"]
    assert one(status.outputs, File, "audio-description.json").media_type == "application/json"


async def test_a_file_request_without_its_bytes_is_a_plain_failure(
    sim: ViddyScribeSimulator, provider: ViddyScribeProvider
) -> None:
    with pytest.raises(Failed) as raised:
        await provider.submit(a_file(), key=KEY)
    assert "file" in raised.value.message and sim.generate_attempts == 0


# --- from a file ----------------------------------------------------------------------------
async def test_a_small_file_is_uploaded_multipart_then_described_by_media_id(
    sim: ViddyScribeSimulator, provider: ViddyScribeProvider, shared: MemoryState
) -> None:
    assert isinstance(provider, StagesFiles)
    submission = await through(provider, Bytes(MP4))
    assert sim.uploads == [{"type": "file", "filename": "keynote.mp4", "size": len(MP4)}]
    assert sim.bytes_received == len(MP4) and sim.put_headers == []
    (media_id,) = sim.media
    assert sim.generates[0]["input"] == {"type": "media_id", "value": media_id}
    assert shared.snapshot() == {}, "the media id is let go once the job exists"
    status = await finish(sim, provider, submission.ref)
    assert FIRST in one(status.outputs, File).text


async def test_a_large_file_goes_through_the_signed_upload_without_the_key(
    sim: ViddyScribeSimulator, provider: ViddyScribeProvider
) -> None:
    big = MP4 * 3
    submission = await through(provider, Bytes(big))
    assert sim.uploads == [{"type": "signed_url", "filename": "keynote.mp4"}]
    assert sim.bytes_received == len(big)
    (headers,) = sim.put_headers
    assert headers["Content-Type"] == "video/mp4" and headers["Content-Length"] == str(len(big))
    assert "X-API-Key" not in headers and SECRET not in json.dumps(headers)
    assert sim.notify_calls == 1 and sim.upload_status_calls >= 2, "pending, then completed"
    (media,) = sim.media.values()
    assert media.state == "completed"
    assert sim.generates[0]["input"] == {"type": "media_id", "value": media.media_id}
    await finish(sim, provider, submission.ref)


async def test_a_canonical_media_id_that_differs_is_the_one_described(
    sim: ViddyScribeSimulator, provider: ViddyScribeProvider
) -> None:
    sim.desk.canonical_differs = True
    big = MP4 * 3
    await through(provider, Bytes(big))
    original = next(m for m in sim.media.values() if m.kind == "signed")
    assert original.canonical is not None and original.canonical != original.media_id
    assert sim.generates[0]["input"]["value"] == original.canonical


async def test_bytes_uploaded_twice_are_described_as_the_first_media(
    sim: ViddyScribeSimulator, provider: ViddyScribeProvider
) -> None:
    big = MP4 * 3
    for key in (KEY, OTHER_KEY):
        await through(provider, Bytes(big), key=key)
    first, second = (g["input"]["value"] for g in sim.generates)
    assert first == second


async def test_upload_not_ready_twice_waits_and_never_uploads_again(
    sim: ViddyScribeSimulator, provider: ViddyScribeProvider
) -> None:
    sim.inject("generate", "error", code="upload_not_ready", times=2)
    source = Bytes(MP4)
    waits = []
    for _ in range(2):
        with pytest.raises(RateLimited) as raised:
            await through(provider, source)
        waits.append(raised.value)
    submission = await through(provider, source)

    assert all(w.code == "upload_not_ready" and 1 <= w.retry_after <= 10 for w in waits)
    assert len(sim.uploads) == 1 and source.read == len(MP4), "the bytes went once"
    assert sim.generate_attempts == 3 and len(sim.generates) == 1
    assert parse_ref(submission.ref)[2] in sim.jobs


async def test_a_check_still_running_waits_and_another_replica_finishes_the_job(
    sim: ViddyScribeSimulator, shared: MemoryState
) -> None:
    sim.desk.verify_seconds = 60
    big = MP4 * 3
    first = ViddyScribeProvider(
        SECRET, sim.base_url, shared=shared, multipart_max_bytes=SMALL_MAX, upload_wait_seconds=0.3
    )
    second = ViddyScribeProvider(SECRET, sim.base_url, shared=shared)
    try:
        with pytest.raises(RateLimited) as raised:
            await through(first, Bytes(big))
        assert raised.value.code == "upload_not_ready" and sim.generate_attempts == 0
        sim.advance(60)
        untouched = Bytes(big)
        submission = await through(second, untouched)
        assert untouched.read == 0, "the bytes are uploaded already"
    finally:
        await first.aclose()
        await second.aclose()
    assert len(sim.uploads) == 1 and len(sim.put_headers) == 1
    assert parse_ref(submission.ref)[2] in sim.jobs


async def test_a_byte_source_that_ends_early_is_retried_never_described(
    sim: ViddyScribeSimulator, provider: ViddyScribeProvider
) -> None:
    for data, size in ((MP4, len(MP4) + 10), (MP4 * 3, len(MP4) * 3 + 10)):
        with pytest.raises(Unavailable) as raised:
            await through(provider, Bytes(data, size=size))
        assert raised.value.code == NOT_SENT
    assert sim.generate_attempts == 0


async def test_an_upload_address_that_is_not_https_gets_no_bytes() -> None:
    puts: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        if request.method == "PUT":
            puts.append(str(request.url))
            return httpx.Response(200)
        body = {"media_id": "m1", "upload_url": "http://storage.example/put", "gcs_path": "p"}
        return httpx.Response(200, json=body)

    vs = ViddyScribeProvider(SECRET, multipart_max_bytes=10, transport=httpx.MockTransport(answer))
    try:
        with pytest.raises(Failed) as raised:
            await through(vs, Bytes(MP4))
    finally:
        await vs.aclose()
    assert "https" in raised.value.message and puts == []


async def test_the_simulator_takes_a_file_straight_into_generate_and_checks_the_config(
    sim: ViddyScribeSimulator,
) -> None:
    config = {"language": "fr-CA", "format": "json", "ad_type": "extended_ad"}
    async with httpx.AsyncClient(base_url=sim.base_url, headers={"X-API-Key": SECRET}) as api:
        made = await api.post(
            "/enterprise/api/generate_ad_video",
            data={"input": '{"type": "file"}', "generation_config": json.dumps(config)},
            files={"file": ("talk.mp4", MP4, "video/mp4")},
        )
        odd = await api.post(
            "/enterprise/api/generate_ad_text",
            json={"input": {"type": "url", "url": VIDEO}, "generation_config": {"speed": 2}},
        )
        unknown = await api.post(
            "/enterprise/api/generate_ad_text",
            json={"input": {"type": "media_id", "media_id": "nobody"}},
        )
    assert made.status_code == 200 and made.json()["job_id"].startswith("task_")
    assert sim.uploads == [{"type": "file", "filename": "talk.mp4", "size": len(MP4)}]
    assert sim.bytes_received == len(MP4)
    assert odd.status_code == 400 and odd.json()["error"] == "bad_request"
    assert "speed" in odd.json()["message"]
    assert unknown.status_code == 404 and unknown.json()["error"] == "not_found"


@pytest.mark.parametrize(
    ("url", "expires"),
    [
        ("https://s.example/v.mp4?X-Goog-Date=20260101T000000Z&X-Goog-Expires=900", 1767226500.0),
        ("https://s.example/v.mp4?Expires=1893456000&Signature=x", 1893456000.0),
        ("https://s.example/v.mp4?X-Goog-Date=yesterday&X-Goog-Expires=900", None),
        ("https://s.example/v.mp4", None),
    ],
)
def test_a_links_expiry_is_read_from_its_signature(url: str, expires: float | None) -> None:
    assert link_expiry(url) == expires


# --- waiting --------------------------------------------------------------------------------
@pytest.mark.parametrize("where", ["body", "header", "both"])
async def test_a_429_waits_for_its_retry_after_from_the_body_or_the_header(
    sim: ViddyScribeSimulator, provider: ViddyScribeProvider, where: Any
) -> None:
    sim.inject("generate", "error", code="rate_limit_exceeded", retry_after=12, retry_in=where)
    with pytest.raises(RateLimited) as raised:
        await provider.submit(a_request(), key=KEY)
    assert raised.value.retry_after == 12 and sim.last_retry_after == 12
    assert (await provider.submit(a_request(), key=KEY)).ref


@pytest.mark.parametrize(
    ("body", "headers", "wait"),
    [
        ({"retry_after": 5}, {}, 5.0),
        ({}, {"Retry-After": "20"}, 20.0),
        ({"retry_after": 5}, {"Retry-After": "20"}, 20.0),
        ({"retry_after": "8"}, {"Retry-After": "soon"}, 8.0),
        ({}, {}, 30.0),
        ({"retry_after": -3}, {}, 30.0),
    ],
)
def test_retry_after_is_whichever_comes_the_longer_when_both_do(
    body: dict[str, Any], headers: dict[str, str], wait: float
) -> None:
    payload = {"error": "queue_limit_exceeded", "message": "Too many jobs.", **body}
    error = error_from_response(httpx.Response(429, json=payload, headers=headers), secrets=())
    assert isinstance(error, RateLimited) and error.retry_after == wait
    date = email.utils.formatdate(time.time() + 60, usegmt=True)
    dated = httpx.Response(429, json=payload, headers={"Retry-After": date})
    found = error_from_response(dated, secrets=())
    assert isinstance(found, RateLimited) and 55 <= found.retry_after <= 61


def test_both_error_shapes_are_read_whichever_field_holds_the_code() -> None:
    shapes = [
        (409, {"error": "Media is still being verified", "code": "upload_not_ready"}),
        (409, {"error": "upload_not_ready", "message": "Retry shortly."}),
        (409, {"error": "Conflict", "upload_status": "verifying"}),
    ]
    for status, body in shapes:
        error = error_from_response(httpx.Response(status, json=body), secrets=())
        assert isinstance(error, RateLimited) and error.code == "upload_not_ready"
        assert error.retry_after == 5.0, "retry shortly"
    failed = {"error": "Verification failed", "upload_status": "failed"}
    assert error_from_response(httpx.Response(409, json=failed), secrets=()).code == "upload_failed"
    html = httpx.Response(403, text="<html>Forbidden</html>")
    assert error_from_response(html, secrets=()).code == "forbidden"
    leaky = {"error": "bad_request", "message": f"Key {SECRET} cannot set {{volume}}."}
    message = error_from_response(httpx.Response(400, json=leaky), secrets=(SECRET,)).message
    assert SECRET not in message and "{" not in message and "[redacted]" in message


async def test_a_429_without_a_delay_waits_the_default(
    sim: ViddyScribeSimulator, provider: ViddyScribeProvider
) -> None:
    sim.inject("generate", "error", code="plan_limit_exceeded")
    with pytest.raises(NeedsAdmin):
        await provider.submit(a_request(), key=KEY)
    sim.inject("results", "error", code="concurrency_limit_exceeded", retry_after=3)
    with pytest.raises(RateLimited) as raised:
        await provider.poll("text:vtt:task_x")
    assert raised.value.retry_after == 3


async def test_when_every_call_first_gets_429_each_retry_goes_through(
    sim: ViddyScribeSimulator, provider: ViddyScribeProvider
) -> None:
    sim.inject("any", "first_call", code="rate_limit_exceeded", retry_after=2, times=None)

    async def twice(work: Any) -> Any:
        with pytest.raises(RateLimited) as raised:
            await work()
        assert raised.value.retry_after == 2
        return await work()

    ref = (await twice(lambda: provider.submit(a_request(), key=KEY))).ref
    assert (await twice(lambda: provider.poll(ref))).stage == "queued"
    sim.advance(RENDER)
    status = await provider.poll(ref)
    assert status.state is Progress.DONE, "a call seen before is not refused again"
    big = MP4 * 3
    attempts = 0
    while True:  # each step's first call is refused: the upload goes on where it stopped
        attempts += 1
        try:
            upload = await _upload(provider, big, key=OTHER_KEY)
            break
        except RateLimited as waiting:
            assert waiting.retry_after == 2 and attempts < 8
    assert attempts == 5, "signed_url, notify, upload status, generate: each refused once"
    assert len(sim.put_headers) == 1, "the bytes went once"
    assert parse_ref(upload.ref)[2] in sim.jobs
    assert len(sim.generates) == 2


# --- every documented error, as the simulator really answers it -----------------------------
async def _wrong_key(sim: ViddyScribeSimulator, poll: bool) -> Any:
    stranger = ViddyScribeProvider("vsk_revoked", sim.base_url)
    try:
        return await (
            stranger.poll("text:vtt:task_x") if poll else stranger.submit(a_request(), key=KEY)
        )
    finally:
        await stranger.aclose()


async def _provoke(sim: ViddyScribeSimulator, vs: ViddyScribeProvider, how: str, arg: Any) -> Any:
    """Make the simulator answer one documented error, by input or by a fault."""
    if how == "submit":
        return await vs.submit(a_request(**arg), key=KEY)
    if how == "job":
        ref = (await vs.submit(a_request(**arg), key=KEY)).ref
        sim.advance(RENDER)
        return await vs.poll(ref)
    if how == "inject":
        endpoint, code = arg
        sim.inject(endpoint, "error", code=code, times=3)
        if endpoint == "results":
            return await vs.poll("text:vtt:task_x")
        if endpoint == "upload":
            return await _upload(vs, MP4)
        return await vs.submit(a_request(), key=KEY)
    if how == "wrong-key":
        return await _wrong_key(sim, poll=arg)
    if how == "poll":
        return await vs.poll(arg)
    if how == "second":  # the first is fine, the setting stops the second
        for name, value in arg.items():
            setattr(sim, name, value)
        await vs.submit(a_request(), key=OTHER_KEY)
        return await vs.submit(a_request(), key=KEY)
    if how == "upload":  # a file: bytes, and the simulator's limit on them
        data, max_file_bytes = arg
        if max_file_bytes is not None:
            sim.desk.max_file_bytes = max_file_bytes
        return await _upload(vs, data)
    if how == "feature":
        sim.features = frozenset({"text"})
        return await vs.submit(a_request(output="video"), key=KEY)
    raise AssertionError(how)


AUDIO = b"ID3\x04\x00\x00\x00\x00\x00\x00" + bytes(500)

# name -> (the documented code, the kind its meaning calls for, words the sentence needs,
# how the simulator is made to answer it).
# fmt: off
CASES: dict[str, tuple[str, type[ProviderError], tuple[str, ...], str, Any]] = {
    "400-language": ("bad_request", BadInput, ("language", "xx-XX"),
                     "submit", {"language": "xx-XX"}),
    "400-audio-extended": ("bad_request", BadInput, ("standard_ad",),
                           "submit", {"output": "audio", "ad_type": "extended_ad"}),
    "401": ("unauthorized", NeedsAdmin, ("VIDDYSCRIBE_API_KEY",), "wrong-key", False),
    "401-results": ("unauthorized", NeedsAdmin, ("VIDDYSCRIBE_API_KEY",), "wrong-key", True),
    "403": ("forbidden", NeedsAdmin, ("plan",), "inject", ("generate", "forbidden")),
    "403-feature": ("feature_not_available", NeedsAdmin, ("plan",), "feature", None),
    "403-too-long": ("video_too_long", NeedsAdmin, ("longer", "plan"),
                     "submit", {"url": "https://media.example.com/long-video.mp4"}),
    "403-too-large": ("file_too_large", NeedsAdmin, ("bigger", "plan"), "upload", (MP4, 100)),
    "404-job": ("not_found", Failed, ("again",), "poll", "text:vtt:task_nobody"),
    "409-upload-failed": ("upload_failed", BadInput, ("upload it again",),
                          "inject", ("generate", "upload_failed")),
    "409-verification-failed": ("upload_failed", BadInput, ("upload it again",),
                                "upload", (AUDIO * 5, None)),
    "409-not-ready": ("upload_not_ready", RateLimited, ("still checking",),
                      "inject", ("generate", "upload_not_ready")),
    "415-link": ("no_video_stream", BadInput, ("video stream",),
                 "submit", {"url": "https://media.example.com/audio-only.mp3"}),
    "415-file": ("no_video_stream", BadInput, ("video stream",), "upload", (AUDIO, None)),
    "415-job": ("no_video_stream", BadInput, ("video stream",),
                "job", {"url": "https://media.example.com/fail-no-video.mp4"}),
    "429-rate": ("rate_limit_exceeded", RateLimited, ("slow down",), "second", {"per_minute": 1}),
    "429-concurrency": ("concurrency_limit_exceeded", RateLimited, ("at once",),
                        "inject", ("upload", "concurrency_limit_exceeded")),
    "429-queue": ("queue_limit_exceeded", RateLimited, ("queue",), "second", {"queue_limit": 1}),
    "429-plan": ("plan_limit_exceeded", NeedsAdmin, ("an admin must act",),
                 "second", {"allocation": 1}),
    "500": ("http_500", Unavailable, ("keep trying",), "inject", ("results", "internal_error")),
}
# fmt: on


@pytest.mark.parametrize(("code", "kind", "words", "how", "arg"), CASES.values(), ids=CASES.keys())
async def test_every_documented_error_becomes_its_kind_and_a_sentence(
    sim: ViddyScribeSimulator,
    provider: ViddyScribeProvider,
    code: str,
    kind: type[ProviderError],
    words: tuple[str, ...],
    how: str,
    arg: Any,
) -> None:
    with pytest.raises(ProviderError) as raised:
        await _provoke(sim, provider, how, arg)

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
    walked = {code for code, *_ in CASES.values()}
    assert set(ERRORS) <= walked, f"never produced: {sorted(set(ERRORS) - walked)}"


async def test_an_undocumented_code_is_a_plain_sentence_with_the_http_status(
    sim: ViddyScribeSimulator, provider: ViddyScribeProvider
) -> None:
    sim.inject("generate", "error", code="quantum_flux")
    with pytest.raises(BadInput) as bad:
        await provider.submit(a_request(), key=KEY)
    assert bad.value.code == "bad_request", "a 400 is a bad request whatever its code"
    sim.inject("generate", "error", code="payload_too_large")
    with pytest.raises(Failed) as raised:
        await provider.submit(a_request(), key=KEY)
    assert "HTTP 413" in raised.value.message and raised.value.message.endswith(".")


async def test_an_undocumented_job_failure_quotes_viddyscribes_reason(
    sim: ViddyScribeSimulator, provider: ViddyScribeProvider
) -> None:
    with pytest.raises(Failed) as raised:
        await _provoke(sim, provider, "job", {"url": "https://media.example.com/fail-render.mp4"})
    assert "Description generation failed" in raised.value.message
    assert raised.value.code == "generation_failed"


# --- transport faults -----------------------------------------------------------------------
async def test_results_answering_500_twice_is_retried(
    sim: ViddyScribeSimulator, provider: ViddyScribeProvider
) -> None:
    ref = (await provider.submit(a_request(), key=KEY)).ref
    calls = sim.results_calls
    sim.inject("results", "http500", times=2)
    assert (await provider.poll(ref)).stage == "queued"
    assert sim.results_calls - calls == 3


async def test_a_generate_answering_500_is_never_sent_again(
    sim: ViddyScribeSimulator, provider: ViddyScribeProvider
) -> None:
    sim.inject("generate", "http500", times=3)
    with pytest.raises(Unavailable) as raised:
        await provider.submit(a_request(), key=KEY)
    assert raised.value.code != NOT_SENT, "it may have made a job"
    assert sim.generate_attempts == 1


@pytest.mark.parametrize("endpoint", ["upload", "put", "notify", "upload_status"])
async def test_an_upload_step_that_fails_made_no_job_so_it_may_start_again(
    sim: ViddyScribeSimulator, provider: ViddyScribeProvider, endpoint: Any
) -> None:
    sim.inject(endpoint, "http500", times=3)
    with pytest.raises(Unavailable) as raised:
        await _upload(provider, MP4 * 3)
    assert raised.value.code == NOT_SENT
    assert sim.generate_attempts == 0


@pytest.mark.parametrize("endpoint", ["generate", "results", "upload_status"])
async def test_a_malformed_answer_is_unavailable(
    sim: ViddyScribeSimulator, provider: ViddyScribeProvider, endpoint: Any
) -> None:
    sim.inject(endpoint, "malformed")
    with pytest.raises(Unavailable) as raised:
        if endpoint == "generate":
            await provider.submit(a_request(), key=KEY)
        elif endpoint == "results":
            await provider.poll("text:vtt:task_x")
        else:
            await _upload(provider, MP4 * 3)
    assert raised.value.message.startswith("ViddyScribe sent an answer Reelbot could not read")


async def test_results_that_keep_timing_out_are_unavailable(sim: ViddyScribeSimulator) -> None:
    vs = ViddyScribeProvider(SECRET, sim.base_url, timeout=0.3)
    try:
        sim.inject("results", "timeout", times=3, delay=2.0)
        with pytest.raises(Unavailable):
            await vs.poll("text:vtt:task_x")
    finally:
        await vs.aclose()


async def test_the_api_key_never_appears_in_errors_or_logs(
    sim: ViddyScribeSimulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    errors: list[ProviderError] = []
    vs = ViddyScribeProvider(SECRET, sim.base_url, timeout=0.3, multipart_max_bytes=SMALL_MAX)
    try:
        for endpoint, fault, code in [
            ("generate", "malformed", None),
            ("results", "malformed", None),
            ("results", "error", "unauthorized"),
            ("generate", "error", "bad_request"),
            ("upload", "error", "file_too_large"),
            ("put", "http500", None),
        ]:
            sim.inject(endpoint, fault, code=code)  # type: ignore[arg-type]
            with pytest.raises(ProviderError) as raised:
                if endpoint == "results":
                    await vs.poll("text:vtt:task_x")
                elif endpoint == "generate":
                    await vs.submit(a_request(), key=KEY)
                else:
                    await _upload(vs, MP4 * (3 if endpoint == "put" else 1))
            errors.append(raised.value)
        sim.inject("results", "timeout", times=3, delay=1.0)
        with pytest.raises(Unavailable) as timed_out:
            await vs.poll("text:vtt:task_x")
        errors.append(timed_out.value)
        for poll in (False, True):
            with pytest.raises(NeedsAdmin) as refused:
                await _wrong_key(sim, poll)
            errors.append(refused.value)
    finally:
        await vs.aclose()

    assert len(errors) == 9
    for error in errors:
        shown = "".join(traceback.format_exception(error))
        assert SECRET not in shown and SECRET not in repr(error)
    assert any("/enterprise/api/" in r.getMessage() for r in caplog.records)
    for record in caplog.records:
        assert SECRET not in record.getMessage() and SECRET not in str(record.args)


async def test_an_upload_check_that_never_ends_is_given_up_with_a_sentence(
    sim: ViddyScribeSimulator, shared: MemoryState, monkeypatch: pytest.MonkeyPatch
) -> None:
    from providers.viddyscribe import upload

    sim.desk.verify_seconds = 10**9
    vs = ViddyScribeProvider(
        SECRET, sim.base_url, shared=shared, multipart_max_bytes=SMALL_MAX, upload_wait_seconds=0
    )
    try:
        with pytest.raises(RateLimited):
            await through(vs, Bytes(MP4 * 3))
        monkeypatch.setattr(upload, "CHECK_GIVE_UP_SECONDS", 0)
        with pytest.raises(Failed) as raised:
            await through(vs, Bytes(MP4 * 3))
    finally:
        await vs.aclose()
    assert raised.value.code == "upload_check_timeout" and "stopped waiting" in raised.value.message
    assert len(sim.uploads) == 1 and sim.generate_attempts == 0
