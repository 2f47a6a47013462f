"""RESULTS_AS_FILES: each clip also uploaded into the thread as a Slack file, exactly once,
whatever Slack answers; results too large for SLACK_UPLOAD_MAX_MB stay links."""

from __future__ import annotations

import json

from bot.jobs import DeliveryState, file_key
from tests.e2e.conftest import ALICE, CHANNEL, Stack, StackFactory


async def _clip_and_wait(stack: Stack) -> None:
    await stack.slack.slash_command(
        "/clip", "https://v.example.com/a.mp4", user_id=ALICE, channel_id=CHANNEL
    )

    await stack.wait_until_delivered()


def _files_in_thread(stack: Stack) -> list[dict[str, object]]:
    [root] = stack.sandbox.roots(CHANNEL)
    return [f for m in stack.sandbox.thread(CHANNEL, root.ts) for f in m.files]


async def test_each_clip_goes_into_the_thread_as_a_file_once(make_stack: StackFactory) -> None:
    stack = await make_stack(results_as_files=True)
    await _clip_and_wait(stack)
    [job] = await stack.jobs()
    files = _files_in_thread(stack)
    assert len(files) == 3, "one file per clip"
    uploads = [u for u in stack.sandbox.uploads.values() if u.completed]
    assert sorted(u.file_id for u in uploads) == sorted(str(f["id"]) for f in files)
    project = str(job.provider_ref)
    assert sorted(u.data or b"" for u in uploads) == sorted(
        b"\x00\x00\x00\x18ftypmp42" + f"{project}/{n}.mp4".encode() for n in range(3)
    ), "the bytes are the clips' own"
    for n in range(3):
        delivery = job.deliveries[file_key(n)]
        assert delivery.state is DeliveryState.POSTED and delivery.file_id
    [root] = stack.sandbox.roots(CHANNEL)
    replies = stack.sandbox.thread(CHANNEL, root.ts)
    assert len([m for m in replies if not m.files]) == 3, "the link replies stay too"
    assert all(u.thread_ts == root.ts for u in uploads)


async def test_an_upload_slack_completed_but_answered_500_for_appears_once(
    make_stack: StackFactory,
) -> None:
    stack = await make_stack(results_as_files=True)
    stack.sandbox.fail_next(
        "files.completeUploadExternal",
        error="internal_error",
        status=500,
        retry_after=None,
        after_commit=True,
    )
    await _clip_and_wait(stack)
    assert len(_files_in_thread(stack)) == 3, "the uncertain one was found, not sent again"
    assert stack.sandbox.calls_to("files.info"), "it was looked up by its file id"
    completes = stack.sandbox.calls_to("files.completeUploadExternal")
    assert len(completes) == 3


async def test_an_upload_whose_bytes_were_refused_is_uploaded_again_once(
    make_stack: StackFactory,
) -> None:
    stack = await make_stack(results_as_files=True)
    stack.sandbox.fail_next("upload", error="internal_error", status=500, retry_after=None)
    await _clip_and_wait(stack)
    assert len(_files_in_thread(stack)) == 3
    never = [u for u in stack.sandbox.uploads.values() if not u.completed]
    assert len(never) == 1, "the refused ticket is abandoned, never shared"


async def test_a_clip_over_the_upload_cap_stays_a_link(make_stack: StackFactory) -> None:
    stack = await make_stack(results_as_files=True, slack_upload_max_mb=0.00001)
    await _clip_and_wait(stack)
    [job] = await stack.jobs()
    assert _files_in_thread(stack) == []
    assert all(job.deliveries[file_key(n)].state is DeliveryState.SKIPPED for n in range(3))
    [root] = stack.sandbox.roots(CHANNEL)
    assert "Done: 3 clips" in json.dumps(root.blocks)
    assert len(stack.sandbox.thread(CHANNEL, root.ts)) == 3


async def test_an_upload_slack_keeps_refusing_is_given_up_and_the_job_settles(
    make_stack: StackFactory,
) -> None:
    stack = await make_stack(results_as_files=True)
    stack.sandbox.fail_next(
        "files.completeUploadExternal",
        error="invalid_arguments",
        status=200,
        retry_after=None,
        times=1000,
    )
    await stack.slack.slash_command(
        "/clip", "https://v.example.com/a.mp4", user_id=ALICE, channel_id=CHANNEL
    )

    async def given_up() -> bool:
        stack.clock.advance(600)  # past each retry's backoff
        jobs = await stack.jobs()
        return bool(jobs) and jobs[0].terminal and jobs[0].next_run_at is None

    await stack.wait_for(given_up, seconds=60)
    [root] = stack.sandbox.roots(CHANNEL)
    assert len(stack.sandbox.thread(CHANNEL, root.ts)) == 3, "the link replies are there"
    assert _files_in_thread(stack) == []
