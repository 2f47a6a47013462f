"""Provider webhooks for avatar videos: a fast path that only makes a job due, never trusted
for content. Per-job callback URLs carry a token; HeyGen's registered endpoint is signed."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time

import httpx

from bot.hasten import Hastener
from bot.jobs import Job, JobState
from bot.store import RedisJobStore
from tests.conftest import free_port
from tests.e2e.conftest import ALICE, CHANNEL, Stack, StackFactory
from tests.factories import make_job

TYLER = "Tyler-incasualsuit-20220721"
SLOW = {"poll_min_seconds": 600, "poll_max_seconds": 600}


async def _job(stack: Stack) -> Job:
    await stack.wait_for(lambda: _has_job(stack))
    [job] = await stack.jobs()
    return job


async def _has_job(stack: Stack) -> bool:
    return bool(await stack.jobs())


async def _at_provider(stack: Stack) -> Job:
    async def submitted() -> bool:
        jobs = await stack.jobs()
        return bool(jobs) and jobs[0].provider_ref is not None

    await stack.wait_for(submitted)
    return await _job(stack)


async def test_heygens_per_job_callback_makes_the_job_post_within_a_tick(
    make_stack: StackFactory,
) -> None:
    port = free_port()
    stack = await make_stack(
        heygen=True, port=port, public_url=f"http://127.0.0.1:{port}",
        heygen_default_avatar_id=TYLER, **SLOW,
    )  # fmt: skip
    assert stack.heygen is not None
    started = time.monotonic()
    await stack.slack.slash_command("/avatar", "Hello there", user_id=ALICE, channel_id=CHANNEL)
    [job] = await stack.wait_until_settled(seconds=15)
    assert job.state is JobState.DONE
    assert time.monotonic() - started < 10, "the callback, not the 600 s poll, finished it"
    [create] = stack.heygen.creates
    assert create["callback_url"] == (
        f"http://127.0.0.1:{port}/webhooks/heygen/{job.id}/{job.webhook_token}"
    )
    assert create["callback_id"] == job.id
    [root] = stack.sandbox.roots(CHANNEL)
    assert len(stack.sandbox.thread(CHANNEL, root.ts)) == 1


async def test_a_callback_with_a_wrong_token_changes_nothing_and_a_good_one_polls_now(
    make_stack: StackFactory,
) -> None:
    port = free_port()
    stack = await make_stack(
        aistudios=True, port=port, public_url=f"http://127.0.0.1:{port}",
        aistudios_default_model_id="M000045058", aistudios_default_clothes_id="BG00002320",
        **SLOW,
    )  # fmt: skip
    assert stack.aistudios is not None
    stack.aistudios.render_seconds = 120  # still rendering when the calls below arrive
    await stack.slack.slash_command("/avatar", "Hello there", user_id=ALICE, channel_id=CHANNEL)
    job = await _at_provider(stack)
    assert stack.aistudios.creates[0]["webhookUrl"].endswith(f"/{job.id}/{job.webhook_token}")
    await asyncio.sleep(0.5)
    polls = stack.aistudios.calls["progress"]
    before = await stack.runtime.store.get(job.id)
    assert before is not None
    base = f"http://127.0.0.1:{port}/webhooks/aistudios"
    async with httpx.AsyncClient() as http:
        forged = {"progress": 100, "download_url": "https://evil.example/x.mp4"}
        for url in (
            f"{base}/{job.id}/{'x' * len(job.webhook_token)}",
            f"{base}/{'0' * 32}/{job.webhook_token}",
            f"http://127.0.0.1:{port}/webhooks/heygen/{job.id}/{job.webhook_token}",
        ):
            answer = await http.post(url, json=forged)
            assert answer.status_code in (200, 404)
        await asyncio.sleep(1.0)
        after = await stack.runtime.store.get(job.id)
        assert after is not None and after.next_run_at == before.next_run_at
        assert after.next_run_at is not None and after.next_run_at > time.time() + 60
        assert stack.aistudios.calls["progress"] == polls, "no poll for a wrong token"
        assert after.state is not JobState.DONE and not after.outputs

        await http.post(f"{base}/{job.id}/{job.webhook_token}", json=forged)
    studio = stack.aistudios
    await stack.wait_for(lambda: studio.calls["progress"] > polls, seconds=5)
    still = await stack.runtime.store.get(job.id)
    assert still is not None and not still.outputs, "the body's link is never used"


async def test_heygens_signed_endpoint_refuses_a_bad_signature_and_heeds_a_good_one(
    make_stack: StackFactory,
) -> None:
    port = free_port()
    secret = "whsec_reelbot-test-secret"
    stack = await make_stack(
        heygen=True, port=port, heygen_default_avatar_id=TYLER, heygen_webhook_secret=secret,
        **SLOW,
    )  # fmt: skip
    assert stack.heygen is not None
    stack.heygen.render_seconds = 3.0
    endpoint = f"http://127.0.0.1:{port}/webhooks/heygen"
    # HeyGen probes the endpoint (OPTIONS) and shows its secret once; the admin sets it.
    shown = await stack.heygen.register_endpoint(endpoint)
    assert shown.startswith("whsec_")
    for hook in stack.heygen.endpoints.values():
        hook.secret = secret
    await stack.slack.slash_command("/avatar", "Hello there", user_id=ALICE, channel_id=CHANNEL)
    job = await _at_provider(stack)
    await asyncio.sleep(0.5)
    polls = stack.heygen.status_calls
    body = json.dumps(
        {"event_type": "avatar_video.success", "event_data": {"video_id": job.provider_ref}}
    ).encode()
    async with httpx.AsyncClient() as http:
        for signature in ("", "0" * 64, hmac.new(b"wrong", body, hashlib.sha256).hexdigest()):
            answer = await http.post(endpoint, content=body, headers={"Signature": signature})
            assert answer.status_code == 200
    await asyncio.sleep(1.0)
    assert stack.heygen.status_calls == polls, "an unsigned or forged call polls nothing"
    # HeyGen's own signed delivery when the render ends.
    [done] = await stack.wait_until_settled(seconds=15)
    assert done.state is JobState.DONE
    assert any(url == endpoint for url, _, _ in stack.heygen.deliveries)


async def test_a_callback_during_the_turn_that_holds_the_job_still_makes_it_due(
    redis_url: str, redis_prefix: str
) -> None:
    store = RedisJobStore.from_url(redis_url, redis_prefix)
    woken: list[float] = []
    hastener = Hastener(store, lambda: woken.append(time.time()), time.time, every=0.1)
    try:
        now = time.time()
        job = await store.add(
            make_job(state=JobState.SUBMITTED, provider_ref="v1", next_run_at=now)
        )
        held = await store.claim(job.id, now, 60, "turn-1")
        assert held is not None
        assert await hastener.hasten(job.id)
        await asyncio.sleep(0.3)
        assert await store.claim(job.id, time.time(), 60, "turn-2") is None, "lease kept"
        woken.clear()
        released = held.changed(next_run_at=time.time() + 600)
        assert await store.save(released, now=time.time(), owner="turn-1", release=True)
        await asyncio.sleep(0.5)
        assert woken, "made due once the turn ended"
        due = await store.next_due(["vizard"])
        assert due is not None and due <= time.time()
    finally:
        await hastener.aclose()
        await store.close()
