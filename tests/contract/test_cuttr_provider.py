"""CuttrProvider against the Cuttr simulator over real HTTP on loopback.

The expected bodies, kinds and sentence fragments are written here from Cuttr's documents
(the seed's Create Clip page, shared/providers.md section 5), never read from the client's
tables.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from typing import Any

import pytest

from providers.base import (
    NOT_SENT,
    BadInput,
    Clip,
    Failed,
    MediaFile,
    NeedsAdmin,
    Progress,
    ProviderError,
    RateLimited,
    SendsFiles,
    Unavailable,
)
from providers.cuttr import ERRORS, CuttrProvider, CuttrRequest, CuttrSettings, build_request
from providers.forms import FILE_VALUE, FieldError
from providers.simulators import cuttr as simulated
from providers.simulators.cuttr import CuttrSimulator

KEY = "cuttr_live_5e1f9a2b7c3d"
VIDEO = "https://www.youtube.com/watch?v=talk"
MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + bytes(range(256)) * 40


@pytest.fixture
async def sim() -> AsyncIterator[CuttrSimulator]:
    simulator = CuttrSimulator(KEY, wallet_cents=1_000, render_seconds=30.0)
    await simulator.start()
    yield simulator
    await simulator.stop()


@pytest.fixture
async def provider(sim: CuttrSimulator) -> AsyncIterator[CuttrProvider]:
    made = CuttrProvider(KEY, sim.base_url, timeout=2.0)
    yield made
    await made.aclose()


class Bytes:
    def __init__(self, data: bytes, name: str = "keynote.mp4") -> None:
        self.data, self.name, self.size, self.content_type = data, name, len(data), "video/mp4"
        self.prepared = False

    async def prepare(self) -> None:
        self.prepared = True

    async def chunks(self) -> AsyncIterator[bytes]:
        for start in range(0, len(self.data), 500):
            yield self.data[start : start + 500]


def from_command(**values: Any) -> CuttrRequest:
    return build_request({"url": VIDEO, **values})


async def test_the_issue_command_becomes_the_documented_json_create(
    sim: CuttrSimulator, provider: CuttrProvider
) -> None:
    request = from_command(
        clips=3, style="viral", length=30, framing="speaker-zoom", hook=3, captions=True,
        heading="auto", prompt="find the demos",
    )  # fmt: skip
    submission = await provider.submit(request, key="k1")
    [create] = sim.creates
    assert create["mode"] == "json"
    assert create["fields"] == {
        "video_url": VIDEO,
        "num_clips": 3,
        "style": "viral",
        "length": 30,
        "prompt": "find the demos",
        "camera_mode": "speaker-zoom",
        "hook_length": 3,
        "auto_heading": True,
        "captions": {"enabled": True},
    }
    assert submission.cost_cents == 450 and sim.wallet_cents == 550, "the charge Cuttr made"


async def test_a_heading_with_its_look_goes_as_the_heading_object(
    sim: CuttrSimulator, provider: CuttrProvider
) -> None:
    request = from_command(
        clips=1, heading="Launch day", heading_style="stroke", heading_color="yellow",
        heading_font="Bebas Neue", heading_position="top", caption_color="pink",
        caption_font="anton", captions=True, music="https://cdn.example.com/bed.mp3",
    )  # fmt: skip
    await provider.submit(request, key="k1")
    fields = sim.creates[0]["fields"]
    assert fields["heading"] == {
        "text": "Launch day", "style": "stroke", "color": "yellow", "font": "Bebas Neue",
        "position": "top",
    }  # fmt: skip
    assert fields["captions"] == {"enabled": True, "color": "pink", "font": "Anton"}
    assert fields["music_url"] == "https://cdn.example.com/bed.mp3"


async def test_an_uploaded_file_is_one_multipart_create_with_flat_fields(
    sim: CuttrSimulator, provider: CuttrProvider
) -> None:
    assert isinstance(provider, SendsFiles)
    media = MediaFile(name="keynote.mp4", size=len(MP4), ref="F1")
    request = build_request(
        {FILE_VALUE: media.model_dump(), "clips": 2, "heading": "auto", "heading_style":
         "instagram", "heading_bg": "white", "captions": True}
    )  # fmt: skip
    assert provider.media_file(request) == media
    source = Bytes(MP4)
    submission = await provider.submit_file(request, key="k1", source=source)
    [create] = sim.creates
    assert source.prepared, "the bytes are had before Cuttr hears of the request"
    assert create["mode"] == "multipart" and submission.cost_cents == 300
    assert create["file"]["sha256"] == hashlib.sha256(MP4).hexdigest()
    assert create["file"]["filename"] == "keynote.mp4"
    assert create["fields"] == {
        "num_clips": "2", "auto_heading": "true", "heading_style": "instagram",
        "heading_bg_color": "white", "captions_enabled": "true",
    }  # fmt: skip


def test_the_quote_is_per_clip_and_says_whose_money() -> None:
    provider = CuttrProvider(KEY, price_cents_per_clip=150)
    quote = provider.quote(from_command(clips=2))
    assert (quote.cents, quote.sentence) == (
        300,
        "2 clips with Cuttr will cost $3.00 from the team wallet.",
    )
    assert CuttrProvider(KEY, price_cents_per_clip=50).quote(from_command(clips=1)).cents == 50


def test_settings_spell_the_issue_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUTTR_API_KEY", KEY)
    monkeypatch.setenv("CUTTR_BASE_URL", "http://127.0.0.1:9/api/platform")
    monkeypatch.setenv("CUTTR_PRICE_CENTS_PER_CLIP", "50")
    settings = CuttrSettings(_env_file=None)
    assert settings.configured and settings.price_cents_per_clip == 50
    monkeypatch.delenv("CUTTR_PRICE_CENTS_PER_CLIP")
    assert CuttrSettings(_env_file=None).price_cents_per_clip == 150, "the Create Clip page"


async def test_progress_then_clips_and_the_raw_answer_kept(
    sim: CuttrSimulator, provider: CuttrProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    ref = (await provider.submit(from_command(clips=4, length=60), key="k1")).ref
    sim.advance(16)
    halfway = await provider.poll(ref)
    assert (halfway.state, halfway.percent) == (Progress.RUNNING, 50.0)
    assert halfway.stage == "2 of 4 clips made"
    sim.advance(15)
    done = await provider.poll(ref)
    assert done.state is Progress.DONE and len(done.outputs) == 4
    clip = done.outputs[0]
    assert isinstance(clip, Clip) and clip.url.startswith("http") and clip.thumbnail_url
    assert clip.duration_s is not None and 50 <= clip.duration_s <= 60
    assert done.raw is not None and done.raw["status"] == "completed"
    monkeypatch.setitem(simulated.CLIP_FIELDS, "url", "download_url")
    reshaped = await provider.poll(ref)
    assert [o.url for o in reshaped.outputs] == [o.url for o in done.outputs], "read leniently"
    fresh = await provider.refresh(ref, done.outputs[2])
    assert fresh is not None and fresh.url == done.outputs[2].url


async def test_a_job_that_fails_after_its_charge_says_why(
    sim: CuttrSimulator, provider: CuttrProvider
) -> None:
    sim.fail_next_job("Video could not be downloaded")
    ref = (await provider.submit(from_command(clips=1), key="k1")).ref
    sim.advance(31)
    with pytest.raises(Failed) as raised:
        await provider.poll(ref)
    assert "Video could not be downloaded" in raised.value.message
    assert sim.charged_cents == 150


@pytest.mark.parametrize(
    ("code", "kind", "words"),
    [
        ("missing_key", NeedsAdmin, "CUTTR_API_KEY"),
        ("invalid_key", NeedsAdmin, "refused Reelbot's API key"),
        ("expired_key", NeedsAdmin, "expired"),
        ("insufficient_balance", NeedsAdmin, "top it up"),
        ("billing_inactive", NeedsAdmin, "billing is not active"),
        ("bad_request", BadInput, "check them"),
        ("payload_too_large", BadInput, "too large"),
    ],
)
async def test_each_documented_error_is_a_sentence(
    sim: CuttrSimulator, provider: CuttrProvider, code: str, kind: type[ProviderError], words: str
) -> None:
    sim.inject("create", "error", code=code)
    with pytest.raises(ProviderError) as raised:
        await provider.submit(from_command(clips=1), key="k1")
    assert type(raised.value) is kind and words in raised.value.message
    assert raised.value.message.endswith(".") and KEY not in raised.value.message
    assert sim.charged_cents == 0


async def test_a_real_empty_wallet_is_402_and_nothing_is_charged(
    sim: CuttrSimulator, provider: CuttrProvider
) -> None:
    sim.wallet_cents = 200
    with pytest.raises(NeedsAdmin) as raised:
        await provider.submit(from_command(clips=2), key="k1")
    assert raised.value.code == "insufficient_balance" and sim.charged_cents == 0


async def test_429_waits_for_retry_after_and_a_lost_answer_is_never_not_sent(
    sim: CuttrSimulator, provider: CuttrProvider
) -> None:
    sim.inject("create", "error", code="rate_limited", retry_after=17)
    with pytest.raises(RateLimited) as limited:
        await provider.submit(from_command(clips=1), key="k1")
    assert limited.value.retry_after == 17
    sim.inject("create", "timeout", delay=5.0)
    with pytest.raises(Unavailable) as lost:
        await provider.submit(from_command(clips=1), key="k2")
    assert lost.value.code != NOT_SENT, "Cuttr may have charged: never sent again"
    assert len(sim.creates) == 1 and sim.create_attempts == 2
    sim.inject("status", "http500", times=3)
    with pytest.raises(Unavailable):
        await provider.poll(sim.creates[0]["job_id"])


@pytest.mark.parametrize(
    ("values", "field", "words"),
    [
        ({"heading_style": "stroke"}, "heading_style", "heading=auto"),
        ({"heading": "auto", "heading_style": "instagram", "heading_color": "red"},
         "heading_color", "pill"),
        ({"heading": "Hi", "heading_bg": "black"}, "heading_bg", "instagram"),
        ({"heading": "Hi", "heading_instructions": "short"}, "heading_instructions", "auto"),
        ({"caption_color": "red"}, "caption_color", "captions=on"),
        ({"url": None, FILE_VALUE: {"name": "a.mp4", "size": 9}, "music": VIDEO}, "music", "file"),
        ({FILE_VALUE: {"name": "a.mp4", "size": 9}}, "url", "not both"),
        ({"url": None}, "url", "link"),
    ],
)  # fmt: skip
def test_options_that_do_not_fit_together_name_the_field(
    values: dict[str, Any], field: str, words: str
) -> None:
    with pytest.raises(FieldError) as raised:
        build_request({"url": VIDEO, **values})
    assert raised.value.name == field and words in raised.value.message


WALKED = {"missing_key", "invalid_key", "expired_key", "insufficient_balance",
          "billing_inactive", "bad_request", "too_large", "not_found"}  # fmt: skip


async def test_an_unknown_job_is_a_plain_failure(
    sim: CuttrSimulator, provider: CuttrProvider
) -> None:
    with pytest.raises(Failed) as raised:
        await provider.poll("00000000-0000-4000-8000-000000000000")
    assert raised.value.code == "not_found" and "no longer knows" in raised.value.message


def test_every_code_in_the_clients_table_is_walked_above() -> None:
    assert {row[2] for row in ERRORS} <= WALKED, "a code no test makes the simulator produce"
