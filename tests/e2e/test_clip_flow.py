"""Stories a person tells: /clip or the modal -> one root message -> every clip in its thread."""

from __future__ import annotations

import json
import time
from typing import Any

from bot import ids
from bot.jobs import JobState
from tests.e2e.conftest import ALICE, BOB, CHANNEL, Stack


async def test_clip_command_becomes_clips_in_the_thread(stack: Stack) -> None:
    started = time.monotonic()
    answer = await stack.slack.slash_command(
        "/clip",
        "https://videos.example.com/all-hands.mp4 lang=en length=1,2",
        user_id=ALICE,
        channel_id=CHANNEL,
    )
    assert answer.status_code == 200
    assert time.monotonic() - started < 3.0
    jobs = await stack.jobs()
    assert len(jobs) == 1, "the job is stored before the ack returns"

    [job] = await stack.wait_until_settled()
    assert job.state is JobState.DONE
    assert len(stack.vizard.creates) == 1
    assert stack.vizard.creates[0]["preferLength"] == [1, 2]

    [root] = stack.sandbox.roots(CHANNEL)
    assert f"<@{ALICE}>" in json.dumps(root.blocks)
    assert "Done: 3 clips" in json.dumps(root.blocks)
    assert ids.CANCEL_ACTION not in json.dumps(root.blocks), "no Cancel once finished"
    replies = stack.sandbox.thread(CHANNEL, root.ts)
    assert len(replies) == 3
    titles = [o.title for o in job.outputs]
    for reply, title in zip(replies, titles, strict=True):
        text = json.dumps(reply.blocks)
        assert title in text
        assert "Viral score" in text and "Download the clip" in text
    updates = stack.sandbox.calls_to("chat.update")
    assert updates, "the root message is updated in place"
    assert len(stack.sandbox.calls_to("chat.postMessage")) == 4


async def test_modal_submission_becomes_clips_in_the_thread(stack: Stack) -> None:
    answer = await stack.slack.slash_command("/clip", "", user_id=ALICE, channel_id=CHANNEL)
    assert answer.status_code == 200
    await stack.wait_for(lambda: bool(stack.sandbox.views_opened))
    view = stack.sandbox.views_opened[-1]
    values: dict[str, dict[str, dict[str, Any]]] = {
        "url": {
            "url": {
                "type": "plain_text_input",
                "value": "https://www.youtube.com/watch?v=abc",
            }
        },
        "lang": {"lang": {"type": "static_select", "selected_option": {"value": "fr"}}},
        "length": {"length": {"type": "multi_static_select", "selected_options": [{"value": "3"}]}},
        ids.SWITCHES_BLOCK: {ids.SWITCHES_BLOCK: {"type": "checkboxes", "selected_options": []}},
        "name": {"name": {"type": "plain_text_input", "value": "Keynote"}},
    }
    submitted = await stack.slack.view_submission(view, values, user_id=ALICE)
    assert submitted.status_code == 200
    assert not submitted.content or "errors" not in submitted.json()
    [job] = await stack.wait_until_settled()
    assert job.state is JobState.DONE
    [create] = stack.vizard.creates
    assert (create["videoType"], create["lang"], create["preferLength"]) == (2, "fr", [3])
    assert (create["subtitleSwitch"], create["headlineSwitch"], create["projectName"]) == (
        0,
        0,
        "Keynote",
    )
    [root] = stack.sandbox.roots(CHANNEL)
    assert len(stack.sandbox.thread(CHANNEL, root.ts)) == 3


async def test_bad_modal_fields_come_back_as_field_errors(stack: Stack) -> None:
    await stack.slack.slash_command("/clip", "", user_id=ALICE, channel_id=CHANNEL)
    await stack.wait_for(lambda: bool(stack.sandbox.views_opened))
    view = stack.sandbox.views_opened[-1]
    values: dict[str, dict[str, dict[str, Any]]] = {
        "url": {"url": {"type": "plain_text_input", "value": "ftp://x/y.mp4"}},
        "length": {"length": {"type": "multi_static_select", "selected_options": []}},
    }
    answer = await stack.slack.view_submission(view, values, user_id=ALICE)
    assert answer.status_code == 200
    body = answer.json()
    assert body["response_action"] == "errors"
    assert set(body["errors"]) == {"url", "length"}
    assert await stack.jobs() == []
    assert stack.vizard.create_attempts == 0


async def test_requester_can_cancel_and_others_get_a_polite_no(stack: Stack) -> None:
    stack.vizard.render_seconds = 60
    await stack.slack.slash_command(
        "/clip", "https://v.example.com/long.mp4", user_id=ALICE, channel_id=CHANNEL
    )
    await stack.wait_for(lambda: bool(stack.sandbox.roots(CHANNEL)))
    [job] = await stack.jobs()
    root = stack.sandbox.roots(CHANNEL)[0]

    await stack.slack.block_action(
        ids.CANCEL_ACTION, job.id, user_id=BOB, channel_id=CHANNEL, message_ts=root.ts
    )
    await stack.wait_for(lambda: any(e.user == BOB for e in stack.sandbox.ephemerals))
    [no] = [e for e in stack.sandbox.ephemerals if e.user == BOB]
    assert f"Only <@{ALICE}>" in no.text
    assert not (await stack.jobs())[0].terminal

    await stack.slack.block_action(
        ids.CANCEL_ACTION, job.id, user_id=ALICE, channel_id=CHANNEL, message_ts=root.ts
    )

    async def cancelled() -> bool:
        return (await stack.jobs())[0].state is JobState.CANCELLED

    await stack.wait_for(cancelled)
    await stack.wait_for(
        lambda: "Cancelled" in json.dumps(stack.sandbox.message(CHANNEL, root.ts).blocks)
    )
    polls_after_cancel = stack.vizard.queries
    await stack.runtime.poller.tick()
    assert stack.vizard.queries == polls_after_cancel, "tracking stops"


async def test_help_explains_the_syntax(stack: Stack) -> None:
    answer = await stack.slack.slash_command("/clip", "help", user_id=ALICE, channel_id=CHANNEL)
    text = answer.json()["text"]
    assert "lang=" in text and "length=" in text
    assert stack.sandbox.calls_to("chat.postMessage") == []


async def test_a_modal_slack_refuses_to_open_is_explained_to_the_person(stack: Stack) -> None:
    stack.sandbox.fail_next("views.open", error="expired_trigger_id", status=200, retry_after=None)
    answer = await stack.slack.slash_command("/clip", "", user_id=ALICE, channel_id=CHANNEL)
    assert answer.status_code == 200
    await stack.wait_for(lambda: any(e.user == ALICE for e in stack.sandbox.ephemerals))
    [told] = [e for e in stack.sandbox.ephemerals if e.user == ALICE]
    assert "/clip https://" in told.text
    assert await stack.jobs() == []
