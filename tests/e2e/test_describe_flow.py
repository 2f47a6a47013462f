"""/describe end to end over HTTP: ViddyScribe's audio descriptions as Slack files in the
thread; the modal with its refusals; the message shortcut; waiting out 429s and
upload_not_ready; expiring links with a Fresh link."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx

from bot import ids
from bot.jobs import Job, JobState
from providers.base import File
from tests.e2e.conftest import ALICE, BOB, CHANNEL, Stack, StackFactory

VIDEO = "https://videos.example.com/all-hands.mp4"


async def _describe(stack: Stack, text: str) -> httpx.Response:
    return await stack.slack.slash_command("/describe", text, user_id=ALICE, channel_id=CHANNEL)


async def _done(stack: Stack) -> Job:
    [job] = await stack.wait_until_delivered()
    return job


def _thread(stack: Stack) -> list[Any]:
    [root] = [m for m in stack.sandbox.roots(CHANNEL) if m.via != "person"]
    return stack.sandbox.thread(CHANNEL, root.ts)


async def test_a_described_video_arrives_as_a_vtt_file_with_a_readable_preview(
    make_stack: StackFactory,
) -> None:
    stack = await make_stack(viddyscribe=True, results_as_files=True)
    assert stack.viddyscribe is not None
    answer = await _describe(stack, f"{VIDEO} lang=en-US category=Documentary format=vtt")
    assert answer.status_code == 200 and not answer.content
    job = await _done(stack)
    assert job.state is JobState.DONE, job.error
    assert len(stack.viddyscribe.generates) == 1
    [text] = job.outputs
    assert isinstance(text, File) and text.name.endswith(".vtt") and text.text
    thread = _thread(stack)
    [preview] = [m for m in thread if not m.files]
    shown = json.dumps(preview.blocks)
    assert "The first descriptions" in shown and "WEBVTT" not in shown
    assert "0:00.5\u20130:03.1 A woman in a yellow top" in json.loads(shown)[1]["text"]["text"], (
        "the first descriptions, time and text"
    )
    [shared] = [f for m in thread for f in m.files]
    upload = stack.sandbox.uploads[str(shared["id"])]
    assert str(shared["name"]).endswith(".vtt")
    assert upload.data == text.text.encode(), "the whole description, as a file"


async def test_the_modal_refuses_audio_with_extended_description_under_the_field(
    make_stack: StackFactory,
) -> None:
    stack = await make_stack(viddyscribe=True)
    await _describe(stack, "")
    await stack.wait_for(lambda: bool(stack.sandbox.views_opened))
    view = stack.sandbox.views_opened[-1]
    blocks = {b["block_id"]: b for b in view["blocks"]}
    assert len(blocks["lang"]["element"]["options"]) == 53
    assert len(blocks["category"]["element"]["options"]) == 14
    values: dict[str, dict[str, dict[str, Any]]] = {
        "url": {"url": {"type": "plain_text_input", "value": VIDEO}},
        "output": {"output": {"type": "static_select", "selected_option": {"value": "audio"}}},
        "type": {"type": {"type": "static_select", "selected_option": {"value": "extended"}}},
    }
    answer = await stack.slack.view_submission(view, values, user_id=ALICE)
    body = answer.json()
    assert body["response_action"] == "errors"
    assert "Standard" in body["errors"]["type"]
    assert stack.viddyscribe is not None and len(stack.viddyscribe.generates) == 0


async def test_the_shortcut_on_a_message_with_a_link_describes_it_in_that_thread(
    make_stack: StackFactory,
) -> None:
    stack = await make_stack(viddyscribe=True)
    message = stack.sandbox.person_posts(CHANNEL, f"Our all-hands: <{VIDEO}|recording>")
    await stack.slack.message_shortcut(
        "describe_video", user_id=ALICE, channel_id=CHANNEL, message_ts=message.ts,
        text=message.text,
    )  # fmt: skip
    await stack.wait_for(lambda: bool(stack.sandbox.views_opened))
    view = stack.sandbox.views_opened[-1]
    url_block = next(b for b in view["blocks"] if b.get("block_id") == "url")
    assert url_block["element"]["initial_value"] == VIDEO
    values = {"url": {"url": {"type": "plain_text_input", "value": VIDEO}}}
    answer = await stack.slack.view_submission(view, values, user_id=ALICE)
    assert answer.status_code == 200 and not answer.content
    job = await _done(stack)
    assert job.state is JobState.DONE and job.thread_ts == message.ts
    thread = stack.sandbox.thread(CHANNEL, message.ts)
    assert len(thread) == 3, "status, preview, the description file (always a file)"
    assert [f["name"] for m in thread for f in m.files] == ["audio-description.vtt"]


async def test_every_call_refused_once_with_429_and_upload_not_ready_still_finish(
    make_stack: StackFactory,
) -> None:
    stack = await make_stack(viddyscribe=True, poll_max_seconds=0.5)
    scribe = stack.viddyscribe
    assert scribe is not None
    scribe.inject("any", "first_call", code="rate_limit_exceeded", retry_after=1, times=None)
    scribe.inject("generate", "error", code="upload_not_ready", times=2)
    await _describe(stack, VIDEO)

    async def skip_waits() -> bool:
        jobs = await stack.jobs()
        if jobs and not jobs[0].settled:
            stack.clock.advance(2)  # each retry_after of 1 s, without waiting for it
        return bool(jobs) and jobs[0].settled

    await stack.wait_for(skip_waits, seconds=30)
    [job] = await stack.jobs()
    assert job.state is JobState.DONE, job.error
    shown = json.dumps([(m.text, m.blocks) for m in stack.sandbox.messages(CHANNEL)])
    shown += json.dumps([e.text for e in stack.sandbox.ephemerals])
    assert "failed" not in shown.lower(), shown
    assert len(scribe.generates) == 1


async def test_an_audio_track_is_posted_as_a_file_and_fresh_link_still_works_after_expiry(
    make_stack: StackFactory,
) -> None:
    stack = await make_stack(viddyscribe=True, results_as_files=True)
    scribe = stack.viddyscribe
    assert scribe is not None
    scribe.links.seconds = 1
    await _describe(stack, f"{VIDEO} output=audio")
    job = await _done(stack)
    assert job.state is JobState.DONE, job.error
    index, audio = next((n, o) for n, o in enumerate(job.outputs) if isinstance(o, File) and o.url)
    files = [f for m in _thread(stack) for f in m.files]
    assert any(str(f["name"]).endswith(".wav") for f in files), "the track is in Slack"
    await asyncio.sleep(1.5)
    async with httpx.AsyncClient() as http:
        assert (await http.get(str(audio.url))).status_code == 403, "the provider link expired"
    value = f"{job.id}:{index}"
    reply = next(m for m in _thread(stack) if value in json.dumps(m.blocks))
    button = next(
        b["accessory"] for b in reply.blocks if (b.get("accessory") or {}).get("value") == value
    )
    assert button["action_id"] == ids.FRESH_LINK_ACTION
    await stack.slack.block_action(
        ids.FRESH_LINK_ACTION, f"{job.id}:{index}", user_id=BOB, channel_id=CHANNEL,
        message_ts=reply.ts,
    )  # fmt: skip
    await stack.wait_for(lambda: any(e.user == BOB for e in stack.sandbox.ephemerals))
    [fresh] = [e for e in stack.sandbox.ephemerals if e.user == BOB]
    link = fresh.text.split("<", 1)[1].split("|", 1)[0]
    async with httpx.AsyncClient() as http:
        assert (await http.get(link)).status_code == 200, "the fresh link works"


async def test_a_link_that_expired_before_the_upload_is_asked_again_and_the_file_posted(
    make_stack: StackFactory,
) -> None:
    stack = await make_stack(viddyscribe=True, results_as_files=True)
    scribe = stack.viddyscribe
    assert scribe is not None
    scribe.links.seconds = 2
    # Slack fails the first upload, so the next try comes after the link died.
    stack.sandbox.fail_next(
        "files.getUploadURLExternal", error="internal_error", status=500, retry_after=None
    )
    await _describe(stack, f"{VIDEO} output=audio")
    job = await _done(stack)
    assert job.state is JobState.DONE, job.error
    audio = next(o for o in job.outputs if isinstance(o, File) and o.url)
    [wav] = [f for m in _thread(stack) for f in m.files if str(f["name"]).endswith(".wav")]
    [sent] = [c for c in stack.sandbox.calls_to("upload") if c.params["file_id"] == wav["id"]]
    assert audio.expires_at is not None and sent.at > audio.expires_at, "the first link was dead"
    data = stack.sandbox.uploads[str(wav["id"])].data
    assert data is not None and data.startswith(b"RIFF"), "the track itself, not an error page"
