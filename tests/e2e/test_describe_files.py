"""The "Describe this video" shortcut on a video uploaded to Slack, end to end over HTTP: the
bot fetches the file from the sandbox's file host with its token, uploads it to the
ViddyScribe simulator (multipart, or the signed flow above the line), and the description
goes into that message's thread. Refusals (a deleted file, one over the size cap) are
sentences, with nothing sent to ViddyScribe."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest

from bot import ids
from bot.jobs import Job, JobState
from bot.sandbox.server import Message
from providers.base import File
from tests.e2e.conftest import ALICE, CHANNEL, Stack, StackFactory

# Bytes that look like an MP4 to the simulator (an ftyp box), about 70 KB.
VIDEO = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + bytes(range(256)) * 270


async def _shortcut_on_upload(stack: Stack, data: bytes = VIDEO) -> tuple[Message, dict[str, Any]]:
    message = stack.sandbox.person_uploads(CHANNEL, "all-hands.mp4", data, text="From today")
    await stack.slack.message_shortcut(
        "describe_video", user_id=ALICE, channel_id=CHANNEL, message_ts=message.ts,
        text=message.text, files=message.files,
    )  # fmt: skip
    await stack.wait_for(lambda: bool(stack.sandbox.views_opened))
    return message, stack.sandbox.views_opened[-1]


async def _submit(stack: Stack, view: dict[str, Any]) -> Job:
    values = {"format": {"format": {"type": "static_select", "selected_option": {"value": "srt"}}}}
    answer = await stack.slack.view_submission(view, values, user_id=ALICE)
    assert answer.status_code == 200 and not answer.content, answer.text
    [job] = await stack.wait_until_delivered()
    return job


async def _signed_with_files_info_failing(
    make_stack: StackFactory, error: str
) -> tuple[Stack, dict[str, Any]]:
    """The shortcut's form on an upload bound for the signed flow; files.info then answers
    `error` once (as Slack does, with HTTP 200)."""
    stack = await make_stack(viddyscribe=True, viddyscribe_multipart_max_mb=0.01)
    _, view = await _shortcut_on_upload(stack)
    stack.sandbox.fail_next("files.info", error=error, status=200, retry_after=None)
    return stack, view


def _digests(stack: Stack) -> set[str]:
    assert stack.viddyscribe is not None
    return {m.digest for m in stack.viddyscribe.media.values() if m.digest}


async def test_an_uploaded_video_goes_to_viddyscribe_multipart_and_back_into_its_thread(
    make_stack: StackFactory,
) -> None:
    stack = await make_stack(viddyscribe=True, results_as_files=True)
    scribe = stack.viddyscribe
    assert scribe is not None
    message, view = await _shortcut_on_upload(stack)
    shown = {b.get("block_id"): b for b in view["blocks"]}
    assert "url" not in shown, "the file is the video: no link field"
    assert "all-hands.mp4" in json.dumps(shown[ids.FILE_BLOCK])
    job = await _submit(stack, view)

    assert job.state is JobState.DONE, job.error
    assert job.thread_ts == message.ts and job.source == "the file all-hands.mp4"
    [file_id] = stack.sandbox.served_downloads
    assert file_id == message.files[0]["id"] and stack.sandbox.refused_downloads == 0
    assert scribe.uploads == [{"type": "file", "filename": "all-hands.mp4", "size": len(VIDEO)}]
    assert hashlib.sha256(VIDEO).hexdigest() in _digests(stack), "the very bytes"
    [generate] = scribe.generates
    assert generate["input"]["type"] == "media_id"
    thread = stack.sandbox.thread(CHANNEL, message.ts)
    names = [str(f["name"]) for m in thread for f in m.files]
    assert names == ["audio-description.srt"], "the description, once, in that thread"
    [text] = job.outputs
    assert isinstance(text, File) and " --> " in str(text.text)


async def test_a_large_upload_takes_the_signed_flow_and_waits_out_its_check(
    make_stack: StackFactory,
) -> None:
    stack = await make_stack(
        viddyscribe=True, viddyscribe_multipart_max_mb=0.01, viddyscribe_upload_wait_seconds=0
    )
    scribe = stack.viddyscribe
    assert scribe is not None
    scribe.desk.verify_seconds = 1.0
    _, view = await _shortcut_on_upload(stack)
    job = await _submit(stack, view)

    assert job.state is JobState.DONE, job.error
    assert scribe.uploads == [{"type": "signed_url", "filename": "all-hands.mp4"}]
    (headers,) = scribe.put_headers
    assert headers["Content-Length"] == str(len(VIDEO)) and "X-API-Key" not in headers
    assert hashlib.sha256(VIDEO).hexdigest() in _digests(stack)
    assert scribe.upload_status_calls >= 2, "still checking, then completed"
    assert len(stack.sandbox.served_downloads) == 1, "fetched from Slack once"
    assert len(scribe.generates) == 1
    shown = json.dumps([(m.text, m.blocks) for m in stack.sandbox.messages(CHANNEL)])
    assert "failed" not in shown.lower()


# Both upload paths: multipart (the file read first) and signed (upload_media comes first).
PATHS = pytest.mark.parametrize("multipart_max_mb", [32.0, 0.01], ids=["multipart", "signed"])


@PATHS
async def test_a_file_deleted_before_its_turn_is_a_sentence_and_nothing_is_sent(
    make_stack: StackFactory, multipart_max_mb: float
) -> None:
    stack = await make_stack(viddyscribe=True, viddyscribe_multipart_max_mb=multipart_max_mb)
    message, view = await _shortcut_on_upload(stack)
    stack.sandbox.uploads.pop(str(message.files[0]["id"]))
    job = await _submit(stack, view)

    assert job.state is JobState.FAILED
    assert job.error is not None and "no longer in Slack" in job.error
    assert stack.viddyscribe is not None
    assert stack.viddyscribe.uploads == [] and stack.viddyscribe.generate_attempts == 0


@PATHS
async def test_a_file_over_the_cap_is_refused_with_a_sentence_before_any_upload(
    make_stack: StackFactory, multipart_max_mb: float
) -> None:
    stack = await make_stack(
        viddyscribe=True, slack_file_max_mb=0.05, viddyscribe_multipart_max_mb=multipart_max_mb
    )
    _, view = await _shortcut_on_upload(stack)
    job = await _submit(stack, view)

    assert job.state is JobState.FAILED
    assert job.error is not None and "larger than the 0.05 MB" in job.error
    assert stack.viddyscribe is not None
    assert stack.viddyscribe.generate_attempts == 0 and stack.viddyscribe.bytes_received == 0
    assert stack.viddyscribe.uploads == []


async def test_a_slack_refusal_no_retry_mends_fails_at_once_naming_the_scope(
    make_stack: StackFactory,
) -> None:
    stack, view = await _signed_with_files_info_failing(make_stack, "missing_scope")
    job = await _submit(stack, view)

    assert job.state is JobState.FAILED
    assert job.error is not None and "files:read" in job.error
    assert stack.viddyscribe is not None and stack.viddyscribe.uploads == []


async def test_a_shortcut_on_a_message_with_only_other_files_opens_the_link_form(
    make_stack: StackFactory,
) -> None:
    stack = await make_stack(viddyscribe=True)
    message = stack.sandbox.person_uploads(CHANNEL, "notes.pdf", b"%PDF-1.4 notes")
    lean = [{"id": message.files[0]["id"], "file_access": "check_file_info"}]
    await stack.slack.message_shortcut(
        "describe_video", user_id=ALICE, channel_id=CHANNEL, message_ts=message.ts,
        text="", files=lean,
    )  # fmt: skip
    await stack.wait_for(lambda: bool(stack.sandbox.views_opened))
    shown = {b.get("block_id") for b in stack.sandbox.views_opened[-1]["blocks"]}
    assert "url" in shown and ids.FILE_BLOCK not in shown
    assert stack.sandbox.calls_to("files.info"), "the lean file was looked up"


async def test_slack_failing_once_while_the_file_is_fetched_waits_and_then_describes(
    make_stack: StackFactory,
) -> None:
    stack, view = await _signed_with_files_info_failing(make_stack, "service_unavailable")
    answer = await stack.slack.view_submission(view, {}, user_id=ALICE)
    assert answer.status_code == 200

    async def waiting() -> bool:
        jobs = await stack.jobs()
        return bool(jobs) and jobs[0].provider_retries == 1 and jobs[0].notice is not None

    await stack.wait_for(waiting)
    [job] = await stack.jobs()
    assert job.state is JobState.QUEUED and "try again" in str(job.notice)
    stack.clock.advance(10)  # past the retry's backoff
    stack.runtime.poller.wake()
    [done] = await stack.wait_until_delivered()
    assert done.state is JobState.DONE, done.error
    assert stack.viddyscribe is not None and len(stack.viddyscribe.generates) == 1
    assert len(stack.sandbox.served_downloads) == 1, "fetched once it could be"
