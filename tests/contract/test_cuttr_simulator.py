"""The Cuttr simulator itself, over real HTTP on loopback.

What it must do is written from Cuttr's documents (the seed's Create Clip page,
shared/providers.md section 5): the paths, the X-API-Key header, cost_cents charged upfront,
progress{completed,total}, the documented error messages and the 60 requests/min limit.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from providers.simulators import cuttr
from providers.simulators.cuttr import CuttrSimulator

KEY = "cuttr_test_0a1b2c3d4e5f6a7b"
VIDEO = "https://www.youtube.com/watch?v=dQw4w9WgXcQ"
MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + bytes(range(256)) * 64


@pytest.fixture
async def sim() -> AsyncIterator[CuttrSimulator]:
    simulator = CuttrSimulator(KEY, wallet_cents=1_000, render_seconds=30.0)
    await simulator.start()
    yield simulator
    await simulator.stop()


@pytest.fixture
async def api(sim: CuttrSimulator) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=sim.base_url, headers={"X-API-Key": KEY}) as client:
        yield client


async def create(api: httpx.AsyncClient, **body: Any) -> httpx.Response:
    return await api.post("/v1/clip", json={"video_url": VIDEO, "num_clips": 3, **body})


async def test_json_create_charges_the_wallet_upfront(
    sim: CuttrSimulator, api: httpx.AsyncClient
) -> None:
    body = {
        "video_url": VIDEO,
        "num_clips": 3,
        "style": "viral",
        "length": 45,
        "camera_mode": "speaker-zoom",
        "hook_length": 3,
        "auto_heading": True,
        "heading": {"style": "instagram", "bg_color": "white", "font": "Bebas Neue"},
        "captions": {"enabled": True, "color": "yellow", "font": "Anton"},
        "music_url": "https://cdn.example.com/bed.mp3",
    }
    answer = await api.post("/v1/clip", json=body)

    assert answer.status_code == 200
    made = answer.json()
    assert made == {
        "job_id": made["job_id"],
        "num_clips": 3,
        "cost_cents": 450,
        "status": "processing",
    }
    assert len(made["job_id"]) == 36  # a UUID
    assert sim.wallet_cents == 550 and sim.charged_cents == 450
    assert sim.creates == [
        {
            "mode": "json",
            "fields": body,
            "file": None,
            "music": None,
            "job_id": made["job_id"],
            "cost_cents": 450,
        }
    ]
    wallet = await api.get("/teams/team_sim/wallet")
    assert wallet.json() == {
        "balance_cents": 550,
        "total_spent_cents": 450,
        "total_topped_up_cents": 1_000,
        "active": True,
    }


async def test_multipart_create_streams_and_hashes_the_file(
    sim: CuttrSimulator, api: httpx.AsyncClient
) -> None:
    form = {"num_clips": "2", "auto_heading": "false", "heading_text": "Big news"}
    form |= {"heading_style": "stroke", "heading_color": "teal", "captions_enabled": "true"}
    files = {"file": ("keynote.mov", MP4, "video/quicktime")}

    answer = await api.post("/v1/clip", data=form, files=files)

    assert answer.status_code == 200, answer.text
    assert answer.json()["cost_cents"] == 300
    (made,) = sim.creates
    assert made["mode"] == "multipart" and made["fields"] == form
    assert made["file"] == {
        "filename": "keynote.mov",
        "content_type": "video/quicktime",
        "size": len(MP4),
        "sha256": hashlib.sha256(MP4).hexdigest(),
    }


@pytest.mark.parametrize(
    ("data", "filename", "named"),
    [
        ({"num_clips": "2", "video_url": VIDEO}, "keynote.mp4", "video_url"),
        ({"num_clips": "2"}, "keynote.gif", "file"),
        ({"num_clips": "2", "auto_heading": "yes"}, "keynote.mp4", "auto_heading"),
        ({"num_clips": "11"}, "keynote.mp4", "num_clips"),
        ({"num_clips": "2", "heading_position": "left"}, "keynote.mp4", "heading_position"),
        ({"num_clips": "2", "music_url": VIDEO}, "keynote.mp4", "music_url"),
    ],
)
async def test_a_bad_form_is_refused_naming_the_field(
    sim: CuttrSimulator, api: httpx.AsyncClient, data: dict[str, str], filename: str, named: str
) -> None:
    answer = await api.post("/v1/clip", data=data, files={"file": (filename, MP4, "video/mp4")})

    assert answer.status_code == 400
    assert named in answer.json()["error"]
    assert sim.creates == [] and sim.charged_cents == 0


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"num_clips": 0}, "num_clips"),
        ({"num_clips": "3"}, "num_clips"),
        ({"style": "funny"}, "style"),
        ({"length": 181}, "length"),
        ({"hook_length": 1}, "hook_length"),
        ({"camera_mode": "wide"}, "camera_mode"),
        ({"auto_heading": "true"}, "auto_heading"),
        ({"heading": {"color": "grey"}}, "heading.color"),
        ({"heading": {"font": "Arial"}}, "heading.font"),
        ({"heading": {"instructions": "x" * 1501}}, "heading.instructions"),
        ({"heading": {"size": 4}}, "heading.size"),
        ({"captions": {"enabled": True, "colour": "red"}}, "captions.colour"),
        ({"video_url": "ftp://example.com/a.mp4"}, "video_url"),
        ({"video_url": None}, "video_url"),
        ({"aspect_ratio": "9:16"}, "aspect_ratio"),
    ],
)
async def test_a_bad_json_body_is_refused_naming_the_field(
    sim: CuttrSimulator, api: httpx.AsyncClient, changes: dict[str, Any], named: str
) -> None:
    answer = await create(api, **changes)

    assert answer.status_code == 400
    assert named in answer.json()["error"] and named in answer.json()["message"]
    assert sim.create_attempts == 1 and sim.creates == [] and sim.wallet_cents == 1_000


async def test_an_empty_wallet_answers_402_and_charges_nothing(
    sim: CuttrSimulator, api: httpx.AsyncClient
) -> None:
    assert (await create(api, num_clips=6)).status_code == 200  # 900 of 1,000 cents
    answer = await create(api, num_clips=1)

    assert answer.status_code == 402
    assert answer.json() == {"error": "Insufficient balance", "message": "Insufficient balance"}
    assert sim.wallet_cents == 100 and sim.charged_cents == 900
    assert sim.create_attempts == 2 and len(sim.creates) == 1


async def test_progress_rises_then_clips_download(
    sim: CuttrSimulator, api: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    job_id = (await create(api, num_clips=4, length=60)).json()["job_id"]

    first = (await api.get(f"/v1/clip/{job_id}")).json()
    sim.advance(16)
    halfway = (await api.get(f"/v1/clip/{job_id}")).json()
    assert first == {
        "job_id": job_id,
        "status": "processing",
        "progress": {"completed": 0, "total": 4},
    }
    assert halfway["progress"] == {"completed": 2, "total": 4}

    sim.advance(15)
    done = (await api.get(f"/v1/clip/{job_id}")).json()
    assert done["status"] == "completed" and sim.jobs[job_id].status == "completed"
    assert len(done["clips"]) == 4 and sim.status_calls == 3
    async with httpx.AsyncClient() as anyone:  # permanent links need no key
        for clip in done["clips"]:
            assert set(clip) == {"url", "title", "duration", "thumbnail_url"}
            assert 50 <= clip["duration"] <= 60
            video = await anyone.get(clip["url"])
            assert video.status_code == 200 and video.content.startswith(b"\x00\x00\x00\x18ftyp")
            thumb = await anyone.get(clip["thumbnail_url"])
            assert thumb.content.startswith(b"\x89PNG")

    monkeypatch.setitem(cuttr.CLIP_FIELDS, "url", "download_url")
    monkeypatch.delitem(cuttr.CLIP_FIELDS, "thumbnail")
    reshaped = (await api.get(f"/v1/clip/{job_id}")).json()["clips"][0]
    assert set(reshaped) == {"download_url", "title", "duration"}


async def test_failing_jobs_are_charged_then_fail(
    sim: CuttrSimulator, api: httpx.AsyncClient
) -> None:
    hinted = (await create(api, video_url=f"{VIDEO}&fail-render")).json()["job_id"]
    sim.fail_next_job("Video could not be downloaded")
    told = (await create(api, num_clips=1)).json()["job_id"]
    fine = (await create(api, num_clips=1)).json()["job_id"]
    sim.advance(31)

    assert (await api.get(f"/v1/clip/{hinted}")).json() == {
        "job_id": hinted,
        "status": "failed",
        "error": "Processing failed",
    }
    assert (await api.get(f"/v1/clip/{told}")).json()["error"] == "Video could not be downloaded"
    assert (await api.get(f"/v1/clip/{fine}")).json()["status"] == "completed"
    assert sim.charged_cents == 450 + 2 * 150
    missing = await api.get("/v1/clip/00000000-0000-4000-8000-000000000000")
    assert missing.status_code == 404 and missing.json()["error"] == "Job not found"


async def test_keys_and_billing_are_checked(sim: CuttrSimulator, api: httpx.AsyncClient) -> None:
    async with httpx.AsyncClient(base_url=sim.base_url) as keyless:
        missing = await keyless.get("/v1/test")
        wrong = await keyless.get("/v1/test", headers={"X-API-Key": "cuttr_nope"})
    assert (missing.status_code, missing.json()["error"]) == (401, "Missing X-API-Key header")
    assert (wrong.status_code, wrong.json()["error"]) == (401, "Invalid API key")
    assert (await api.get("/v1/test")).json() == {"ok": True}

    sim.billing_active = False
    refused = await create(api)
    assert (refused.status_code, refused.json()["error"]) == (403, "API billing not active")
    assert (await api.get("/teams/team_sim/wallet")).json()["active"] is False

    sim.key_expired = True
    expired = await api.get("/v1/test")
    assert (expired.status_code, expired.json()["error"]) == (401, "API key expired")
    assert sim.creates == [] and sim.charged_cents == 0


async def test_the_61st_request_in_a_minute_waits(
    sim: CuttrSimulator, api: httpx.AsyncClient
) -> None:
    for _ in range(60):
        assert (await api.get("/v1/test")).status_code == 200
    sim.advance(20)

    over = await api.get("/teams/team_sim/wallet")
    assert over.status_code == 429 and over.json()["error"] == "Rate limit exceeded"
    assert 39 <= int(over.headers["Retry-After"]) <= 41
    sim.advance(int(over.headers["Retry-After"]))
    assert (await api.get("/v1/test")).status_code == 200


async def test_injected_errors_answer_as_documented(
    sim: CuttrSimulator, api: httpx.AsyncClient
) -> None:
    job_id = (await create(api)).json()["job_id"]
    sim.inject("create", "error", code="rate_limited")
    sim.inject("status", "error", code="expired_key")
    sim.inject("any", "http500", times=2)
    sim.inject("wallet", "malformed")

    limited = await create(api)
    expired = await api.get(f"/v1/clip/{job_id}")
    garbled = await api.get("/teams/team_sim/wallet")
    # Each endpoint's own faults are spent: "any" plays on whichever calls come next.
    broken = [await api.get("/v1/test"), await api.get(f"/v1/clip/{job_id}")]

    assert limited.status_code == 429 and limited.headers["Retry-After"] == "30"
    assert (expired.status_code, expired.json()["error"]) == (401, "API key expired")
    assert [r.status_code for r in broken] == [500, 500]
    assert garbled.status_code == 200 and garbled.headers["Content-Type"].startswith("text/html")
    assert (await api.get("/v1/test")).status_code == 200
    assert sim.create_attempts == 2 and len(sim.creates) == 1

    sim.inject("create", "error", code="insufficient_balance", times=1, retry_after=5)
    poor = await create(api)
    assert poor.status_code == 402 and poor.headers["Retry-After"] == "5"
    assert sim.charged_cents == 450


async def test_a_timed_out_create_is_still_made_and_charged(
    sim: CuttrSimulator, api: httpx.AsyncClient
) -> None:
    sim.inject("create", "timeout", delay=5.0)

    with pytest.raises(httpx.ReadTimeout):
        await api.post(
            "/v1/clip",
            json={"video_url": VIDEO, "num_clips": 2},
            timeout=httpx.Timeout(10.0, read=0.3),
        )

    assert len(sim.creates) == 1 and sim.charged_cents == 300
    (job,) = sim.jobs.values()
    assert job.status == "processing" and job.num_clips == 2 and job.cost_cents == 300
