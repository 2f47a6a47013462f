"""The local Slack speaks the Web API the way slack_sdk and Bolt use it."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import signal
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
import pytest_asyncio
from aiohttp import web
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.sandbox import SlackRequests, SlackSandbox, render_channel, sign
from bot.sandbox.transcript import render_blocks, render_ephemerals

SECRET = "sandbox-signing-secret"
GENERAL = "C0GENERAL"


@pytest_asyncio.fixture
async def sandbox() -> AsyncIterator[SlackSandbox]:
    box = SlackSandbox()
    await box.start()
    yield box
    await box.stop()


@pytest.fixture
def client(sandbox: SlackSandbox) -> AsyncWebClient:
    return AsyncWebClient(token=sandbox.bot_token, base_url=sandbox.api_url)


@dataclass
class Receiver:
    url: str
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)


@pytest_asyncio.fixture
async def receiver() -> AsyncIterator[Receiver]:
    """A stand-in for the bot's /slack/events that keeps exactly what arrived."""
    box = Receiver(url="")

    async def keep(request: web.Request) -> web.Response:
        box.requests.append((dict(request.headers), await request.read()))
        return web.json_response({})

    app = web.Application()
    app.router.add_post("/slack/events", keep)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    box.url = f"http://127.0.0.1:{runner.addresses[0][1]}/slack/events"
    yield box
    await runner.cleanup()


async def _error_of(call: Any) -> str:
    with pytest.raises(SlackApiError) as caught:
        await call
    return str(caught.value.response["error"])


def _payload(body: bytes) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(parse_qs(body.decode())["payload"][0])
    return loaded


# -- identity and auth -------------------------------------------------------------------


async def test_auth_test_names_the_bot_and_workspace(
    sandbox: SlackSandbox, client: AsyncWebClient
) -> None:
    answer = await client.auth_test()
    assert answer["team_id"] == "T0SANDBOX"
    assert answer["user_id"] == "U0REELBOT"
    assert answer["bot_id"] == "B0REELBOT"
    assert answer["url"].startswith("https://")
    assert sandbox.calls_to("auth.test")[0].error is None


async def test_missing_token_is_not_authed_and_wrong_token_is_invalid_auth(
    sandbox: SlackSandbox,
) -> None:
    async with httpx.AsyncClient() as http:
        missing = await http.post(sandbox.api_url + "auth.test")
        as_param = await http.post(sandbox.api_url + "auth.test", data={"token": sandbox.bot_token})
    assert missing.json() == {"ok": False, "error": "not_authed"}
    assert as_param.json()["ok"] is True
    wrong = AsyncWebClient(token="xoxb-someone-else", base_url=sandbox.api_url)
    assert await _error_of(wrong.auth_test()) == "invalid_auth"
    assert [c.error for c in sandbox.calls_to("auth.test")] == ["not_authed", None, "invalid_auth"]


async def test_unknown_method_is_refused(client: AsyncWebClient) -> None:
    assert await _error_of(client.api_call("reactions.add")) == "unknown_method"


# -- messages and threads ----------------------------------------------------------------


async def test_form_and_json_bodies_give_the_same_message(
    sandbox: SlackSandbox, client: AsyncWebClient
) -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*hi*"}}]
    as_json = await client.chat_postMessage(channel=GENERAL, text="hi", blocks=blocks)
    as_form = await client.api_call(
        "chat.postMessage",
        data={"channel": GENERAL, "text": "hi", "blocks": json.dumps(blocks)},
    )
    first, second = sandbox.messages(GENERAL)
    assert (first.ts, second.ts) == (as_json["ts"], as_form["ts"])
    assert first.blocks == second.blocks == blocks
    assert sandbox.calls_to("chat.postMessage")[1].params["blocks"] == blocks


async def test_replies_form_a_thread_with_unique_increasing_ts(
    sandbox: SlackSandbox, client: AsyncWebClient
) -> None:
    root = await client.chat_postMessage(
        channel=GENERAL,
        text="Job started",
        metadata={"event_type": "reelbot_job", "event_payload": {"job": "j1"}},
    )
    one = await client.chat_postMessage(channel=GENERAL, text="one", thread_ts=root["ts"])
    # A reply's ts joins the thread it is in.
    two = await client.chat_postMessage(channel=GENERAL, text="two", thread_ts=one["ts"])
    stamps = [root["ts"], one["ts"], two["ts"]]
    assert stamps == sorted(stamps, key=float) and len(set(stamps)) == 3
    assert all(len(ts.split(".")[1]) == 6 for ts in stamps)
    assert [m.text for m in sandbox.roots(GENERAL)] == ["Job started"]
    assert [m.text for m in sandbox.thread(GENERAL, root["ts"])] == ["one", "two"]
    assert sandbox.message(GENERAL, root["ts"]).metadata == {
        "event_type": "reelbot_job",
        "event_payload": {"job": "j1"},
    }
    assert two["message"]["thread_ts"] == root["ts"]


async def test_thread_ts_that_is_no_message_is_thread_not_found(client: AsyncWebClient) -> None:
    posting = client.chat_postMessage(channel=GENERAL, text="x", thread_ts="1700000000.000100")
    assert await _error_of(posting) == "thread_not_found"


async def test_message_needs_text_or_blocks_and_block_limits_hold(client: AsyncWebClient) -> None:
    assert await _error_of(client.api_call("chat.postMessage", json={"channel": GENERAL})) == (
        "no_text"
    )
    divider = {"type": "divider"}
    too_many = client.chat_postMessage(channel=GENERAL, text="x", blocks=[divider] * 51)
    assert await _error_of(too_many) == "invalid_blocks"
    header = {"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}
    with pytest.raises(SlackApiError) as caught:
        await client.chat_postMessage(channel=GENERAL, text="x", blocks=[header])
    messages = caught.value.response["response_metadata"]["messages"]
    assert messages == ["must be less than 151 characters [json-pointer:/blocks/0/text/text]"]


async def test_membership_errors_match_slack(sandbox: SlackSandbox, client: AsyncWebClient) -> None:
    sandbox.add_channel("C0RANDOM", "random", member=False)
    sandbox.add_channel("G0SECRET", "secret", member=False, private=True)
    expected = {
        "C0NOWHERE": "channel_not_found",
        "C0RANDOM": "not_in_channel",
        "G0SECRET": "channel_not_found",
    }
    for channel, error in expected.items():
        assert await _error_of(client.chat_postMessage(channel=channel, text="x")) == error
        ephemeral = client.chat_postEphemeral(channel=channel, user="U0ALICE", text="x")
        assert await _error_of(ephemeral) == error
    assert await _error_of(client.conversations_join(channel="G0SECRET")) == (
        "method_not_supported_for_channel_type"
    )
    await client.conversations_join(channel="C0RANDOM")
    await client.chat_postMessage(channel="C0RANDOM", text="now a member")
    assert [m.text for m in sandbox.messages("C0RANDOM")] == ["now a member"]


async def test_dm_opened_by_conversations_open_is_stable_and_accepts_posts(
    sandbox: SlackSandbox, client: AsyncWebClient
) -> None:
    first = await client.conversations_open(users="U0BOB")
    again = await client.conversations_open(users=["U0BOB"])
    dm = first["channel"]["id"]
    assert dm.startswith("D") and again["channel"]["id"] == dm
    assert again["already_open"] is True
    posted = await client.chat_postMessage(channel=dm, text="Invite me to #secret")
    assert posted["channel"] == dm
    by_user_id = await client.chat_postMessage(channel="U0BOB", text="straight to the DM")
    assert by_user_id["channel"] == dm
    assert [m.text for m in sandbox.messages(dm)] == ["Invite me to #secret", "straight to the DM"]


async def test_chat_update_changes_the_message_and_keeps_its_edits(
    sandbox: SlackSandbox, client: AsyncWebClient
) -> None:
    root = await client.chat_postMessage(channel=GENERAL, text="queued")
    await client.chat_update(channel=GENERAL, ts=root["ts"], text="rendering")
    done = [{"type": "section", "text": {"type": "mrkdwn", "text": "*done*"}}]
    answer = await client.chat_update(channel=GENERAL, ts=root["ts"], text="done", blocks=done)
    message = sandbox.message(GENERAL, root["ts"])
    assert (message.text, message.blocks) == ("done", done)
    assert [e.text for e in message.edits] == ["rendering", "done"]
    assert answer["ts"] == root["ts"] and answer["message"]["text"] == "done"
    assert len(sandbox.messages(GENERAL)) == 1
    missing = client.chat_update(channel=GENERAL, ts="1700000000.000001", text="x")
    assert await _error_of(missing) == "message_not_found"


async def test_post_ephemeral_is_seen_by_one_person(
    sandbox: SlackSandbox, client: AsyncWebClient
) -> None:
    answer = await client.chat_postEphemeral(channel=GENERAL, user="U0ALICE", text="Only you")
    assert answer["message_ts"]
    [seen] = sandbox.ephemerals
    assert (seen.channel, seen.user, seen.text, seen.via) == (
        GENERAL,
        "U0ALICE",
        "Only you",
        "chat.postEphemeral",
    )
    assert sandbox.messages(GENERAL) == []
    assert render_ephemerals(sandbox, "U0ALICE", users={"U0ALICE": "alice"}) == (
        "only @alice sees, in #general:\n  Only you"
    )
    assert render_ephemerals(sandbox, "U0BOB") == ""


async def test_wait_for_returns_once_the_bot_has_posted(
    sandbox: SlackSandbox, client: AsyncWebClient
) -> None:
    async def post_later() -> None:
        await asyncio.sleep(0.05)
        await client.chat_postMessage(channel=GENERAL, text="late")

    task = asyncio.create_task(post_later())
    async with asyncio.timeout(5):
        await sandbox.wait_for(lambda: len(sandbox.messages(GENERAL)) == 1)
    await task
    assert sandbox.messages(GENERAL)[0].text == "late"


# -- reading back: conversations.history and conversations.replies -----------------------

JOB_METADATA = {"event_type": "reelbot_job", "event_payload": {"job": "j1", "clips": 3}}


async def _post_roots(client: AsyncWebClient, *texts: str) -> list[str]:
    return [(await client.chat_postMessage(channel=GENERAL, text=t))["ts"] for t in texts]


async def _post_thread(client: AsyncWebClient, parent: str, count: int) -> list[str]:
    return [
        (await client.chat_postMessage(channel=GENERAL, text=f"r{n}", thread_ts=parent))["ts"]
        for n in range(1, count + 1)
    ]


def _texts(answer: Any) -> list[str]:
    return [m["text"] for m in answer["messages"]]


async def test_history_lists_top_level_messages_newest_first_and_no_replies(
    sandbox: SlackSandbox, client: AsyncWebClient
) -> None:
    first, _, _ = await _post_roots(client, "one", "two", "three")
    replies = await _post_thread(client, first, 2)
    answer = await client.conversations_history(channel=GENERAL)
    assert _texts(answer) == ["three", "two", "one"]
    assert answer["has_more"] is False
    assert answer["response_metadata"] == {"next_cursor": ""}
    # A parent carries its thread's summary; a message without replies has no thread_ts.
    parent = answer["messages"][2]
    assert (parent["ts"], parent["thread_ts"], parent["reply_count"]) == (first, first, 2)
    assert parent["latest_reply"] == replies[-1]
    assert "thread_ts" not in answer["messages"][0]
    assert [c.method for c in sandbox.calls][-1] == "conversations.history"


async def test_history_pages_with_opaque_cursors_until_the_cursor_is_empty(
    client: AsyncWebClient,
) -> None:
    stamps = await _post_roots(client, "m1", "m2", "m3", "m4", "m5")
    pages: list[list[str]] = []
    cursor: str | None = None
    for _ in range(4):  # a cursor that never moves on must fail, not hang
        answer = await client.conversations_history(channel=GENERAL, limit=2, cursor=cursor)
        pages.append(_texts(answer))
        cursor = answer["response_metadata"]["next_cursor"]
        assert answer["has_more"] is bool(cursor)
        assert all(ts not in cursor for ts in stamps)
        if not cursor:
            break
        if len(pages) == 1:
            # A message posted while paging is newer than the cursor: it is not on later pages.
            await client.chat_postMessage(channel=GENERAL, text="late")
    assert pages == [["m5", "m4"], ["m3", "m2"], ["m1"]]
    everything = await client.conversations_history(channel=GENERAL, limit=5000)
    assert len(everything["messages"]) == 6 and everything["has_more"] is False
    bad = client.conversations_history(channel=GENERAL, cursor="not-a-cursor")
    assert await _error_of(bad) == "invalid_cursor"


async def test_history_bounds_are_exclusive_unless_inclusive(client: AsyncWebClient) -> None:
    a, _, _, d = await _post_roots(client, "a", "b", "c", "d")
    between = await client.conversations_history(channel=GENERAL, oldest=a, latest=d)
    assert _texts(between) == ["c", "b"]
    inclusive = await client.conversations_history(
        channel=GENERAL, oldest=a, latest=d, inclusive=True
    )
    assert _texts(inclusive) == ["d", "c", "b", "a"]
    assert _texts(await client.conversations_history(channel=GENERAL, oldest=a)) == [
        "d",
        "c",
        "b",
    ]
    assert _texts(await client.conversations_history(channel=GENERAL, latest=d, limit=2)) == [
        "c",
        "b",
    ]
    assert await _error_of(client.conversations_history(channel=GENERAL, oldest="soon")) == (
        "invalid_ts_oldest"
    )


async def test_replies_are_the_parent_then_the_thread_oldest_first_from_any_of_its_ts(
    client: AsyncWebClient,
) -> None:
    [parent, lonely] = await _post_roots(client, "parent", "lonely")
    replies = await _post_thread(client, parent, 3)
    by_parent = await client.conversations_replies(channel=GENERAL, ts=parent)
    assert _texts(by_parent) == ["parent", "r1", "r2", "r3"]
    assert by_parent["messages"][0]["reply_count"] == 3
    assert all(m["thread_ts"] == parent for m in by_parent["messages"])
    assert by_parent["messages"][1]["parent_user_id"] == "U0REELBOT"
    assert (by_parent["has_more"], by_parent["response_metadata"]) == (
        False,
        {"next_cursor": ""},
    )
    by_reply = await client.conversations_replies(channel=GENERAL, ts=replies[1])
    assert by_reply["messages"] == by_parent["messages"]
    alone = await client.conversations_replies(channel=GENERAL, ts=lonely)
    assert _texts(alone) == ["lonely"] and "thread_ts" not in alone["messages"][0]
    unknown = client.conversations_replies(channel=GENERAL, ts="1700000000.000100")
    assert await _error_of(unknown) == "thread_not_found"
    no_ts = client.api_call("conversations.replies", params={"channel": GENERAL})
    assert await _error_of(no_ts) == "invalid_arguments"


async def test_replies_page_with_cursors_and_bound_the_replies_by_time(
    client: AsyncWebClient,
) -> None:
    [parent] = await _post_roots(client, "parent")
    r1, r2, _, r4, _ = await _post_thread(client, parent, 5)
    pages: list[list[str]] = []
    cursor: str | None = None
    for _ in range(4):  # a cursor that never moves on must fail, not hang
        answer = await client.conversations_replies(
            channel=GENERAL, ts=parent, limit=2, cursor=cursor
        )
        pages.append(_texts(answer))
        cursor = answer["response_metadata"]["next_cursor"]
        assert answer["has_more"] is bool(cursor)
        if not cursor:
            break
    assert pages == [["parent", "r1"], ["r2", "r3"], ["r4", "r5"]]
    # The parent leads whatever the bounds; the bounds choose among the replies.
    after_r2 = await client.conversations_replies(channel=GENERAL, ts=parent, oldest=r2)
    assert _texts(after_r2) == ["parent", "r3", "r4", "r5"]
    window = await client.conversations_replies(
        channel=GENERAL, ts=parent, oldest=r1, latest=r4, inclusive=True
    )
    assert _texts(window) == ["parent", "r1", "r2", "r3", "r4"]
    before_r4 = await client.conversations_replies(channel=GENERAL, ts=parent, latest=r4)
    assert _texts(before_r4) == ["parent", "r1", "r2", "r3"]


async def test_metadata_is_listed_only_with_include_all_metadata(
    client: AsyncWebClient,
) -> None:
    root = await client.chat_postMessage(channel=GENERAL, text="job", metadata=JOB_METADATA)
    assert root["message"]["metadata"] == JOB_METADATA
    await client.chat_postMessage(
        channel=GENERAL, text="clip", thread_ts=root["ts"], metadata=JOB_METADATA
    )
    plain = await client.conversations_history(channel=GENERAL)
    assert "metadata" not in plain["messages"][0]
    full = await client.conversations_history(channel=GENERAL, include_all_metadata=True)
    assert full["messages"][0]["metadata"] == JOB_METADATA
    off = await client.conversations_history(channel=GENERAL, include_all_metadata=False)
    assert "metadata" not in off["messages"][0]
    thread = await client.conversations_replies(channel=GENERAL, ts=root["ts"])
    assert all("metadata" not in m for m in thread["messages"])
    as_json = await client.api_call(
        "conversations.replies",
        json={"channel": GENERAL, "ts": root["ts"], "include_all_metadata": True},
    )
    assert [m["metadata"] for m in as_json["messages"]] == [JOB_METADATA, JOB_METADATA]


async def test_reading_a_channel_follows_membership_rules(
    sandbox: SlackSandbox, client: AsyncWebClient
) -> None:
    sandbox.add_channel("C0RANDOM", "random", member=False)
    sandbox.add_channel("G0SECRET", "secret", member=False, private=True)
    expected = {
        "C0NOWHERE": "channel_not_found",
        "C0RANDOM": "not_in_channel",
        "G0SECRET": "channel_not_found",
    }
    for channel, error in expected.items():
        assert await _error_of(client.conversations_history(channel=channel)) == error
        replies = client.conversations_replies(channel=channel, ts="1700000000.000100")
        assert await _error_of(replies) == error
    await client.conversations_join(channel="C0RANDOM")
    assert (await client.conversations_history(channel="C0RANDOM"))["messages"] == []


async def test_reading_is_recorded_and_can_be_failed(
    sandbox: SlackSandbox, client: AsyncWebClient
) -> None:
    [root] = await _post_roots(client, "root")
    sandbox.fail_next("conversations.history", error="internal_error", status=500)
    sandbox.fail_next("conversations.replies", error="ratelimited", status=429)
    with pytest.raises(SlackApiError) as failed:
        await client.conversations_history(channel=GENERAL)
    assert failed.value.response.status_code == 500
    assert await _error_of(client.conversations_replies(channel=GENERAL, ts=root)) == (
        "ratelimited"
    )
    assert _texts(await client.conversations_history(channel=GENERAL)) == ["root"]
    assert _texts(await client.conversations_replies(channel=GENERAL, ts=root)) == ["root"]
    history = sandbox.calls_to("conversations.history")
    assert [c.error for c in history] == ["internal_error", None]
    assert history[1].params == {"channel": GENERAL}
    assert [c.error for c in sandbox.calls_to("conversations.replies")] == ["ratelimited", None]


# -- message metadata --------------------------------------------------------------------


@pytest.mark.parametrize(
    "metadata",
    [
        "reelbot_job",
        ["reelbot_job"],
        {"event_payload": {"job": "j1"}},
        {"event_type": "", "event_payload": {"job": "j1"}},
        {"event_type": 7, "event_payload": {"job": "j1"}},
        {"event_type": "reelbot_job"},
        {"event_type": "reelbot_job", "event_payload": ["j1"]},
        {"event_type": "reelbot_job", "event_payload": {"job": {"id": "j1"}}},
        {"event_type": "reelbot_job", "event_payload": {"clips": [1, 2]}},
        {"event_type": "reelbot_job", "event_payload": {"job": None}},
    ],
)
async def test_malformed_metadata_is_refused_by_post_and_update(
    sandbox: SlackSandbox, client: AsyncWebClient, metadata: Any
) -> None:
    root = await client.chat_postMessage(channel=GENERAL, text="job", metadata=JOB_METADATA)
    post = client.api_call(
        "chat.postMessage", json={"channel": GENERAL, "text": "x", "metadata": metadata}
    )
    assert await _error_of(post) == "invalid_metadata_format"
    update = client.api_call(
        "chat.update",
        json={"channel": GENERAL, "ts": root["ts"], "text": "changed", "metadata": metadata},
    )
    assert await _error_of(update) == "invalid_metadata_format"
    [message] = sandbox.messages(GENERAL)
    assert (message.text, message.metadata, message.edits) == ("job", JOB_METADATA, [])


async def test_metadata_as_a_form_field_is_parsed_kept_and_replaced_by_update(
    sandbox: SlackSandbox, client: AsyncWebClient
) -> None:
    posted = await client.api_call(
        "chat.postMessage",
        data={"channel": GENERAL, "text": "job", "metadata": json.dumps(JOB_METADATA)},
    )
    assert sandbox.message(GENERAL, posted["ts"]).metadata == JOB_METADATA
    broken = client.api_call(
        "chat.postMessage", data={"channel": GENERAL, "text": "x", "metadata": "{not json"}
    )
    assert await _error_of(broken) == "invalid_metadata_format"
    await client.chat_update(channel=GENERAL, ts=posted["ts"], text="rendering")
    assert sandbox.message(GENERAL, posted["ts"]).metadata == JOB_METADATA
    done = {"event_type": "reelbot_job", "event_payload": {"job": "j1", "done": True}}
    await client.chat_update(channel=GENERAL, ts=posted["ts"], text="done", metadata=done)
    assert sandbox.message(GENERAL, posted["ts"]).metadata == done
    assert len(sandbox.messages(GENERAL)) == 1


# -- modals and App Home -----------------------------------------------------------------

CLIP_MODAL = {
    "type": "modal",
    "callback_id": "clip_modal",
    "title": {"type": "plain_text", "text": "New clip"},
    "submit": {"type": "plain_text", "text": "Clip it"},
    "private_metadata": json.dumps({"channel": GENERAL}),
    "blocks": [
        {
            "type": "input",
            "block_id": "url",
            "label": {"type": "plain_text", "text": "Video URL"},
            "element": {"type": "plain_text_input", "action_id": "url"},
        }
    ],
}


async def test_a_trigger_id_opens_one_modal_once(
    sandbox: SlackSandbox, client: AsyncWebClient
) -> None:
    trigger = sandbox.issue_trigger_id("U0ALICE")
    opened = await client.views_open(trigger_id=trigger, view=CLIP_MODAL)
    view = opened["view"]
    assert view["id"].startswith("V") and view["hash"]
    assert view["callback_id"] == "clip_modal"
    assert view["private_metadata"] == CLIP_MODAL["private_metadata"]
    assert sandbox.views_opened == [view]
    again = client.views_open(trigger_id=trigger, view=CLIP_MODAL)
    assert await _error_of(again) == "exchanged_trigger_id"
    assert await _error_of(client.views_open(trigger_id="", view=CLIP_MODAL)) == (
        "invalid_arguments"
    )


async def test_a_trigger_id_expires_after_three_seconds(
    sandbox: SlackSandbox, client: AsyncWebClient
) -> None:
    sandbox.trigger_seconds = 0.01
    trigger = sandbox.issue_trigger_id("U0ALICE")
    await asyncio.sleep(0.05)
    late = client.views_open(trigger_id=trigger, view=CLIP_MODAL)
    assert await _error_of(late) == "expired_trigger_id"


async def test_views_update_by_id_or_external_id_checks_the_hash(
    sandbox: SlackSandbox, client: AsyncWebClient
) -> None:
    first = dict(CLIP_MODAL, external_id="job-1")
    opened = (await client.views_open(trigger_id=sandbox.issue_trigger_id("U0A"), view=first))[
        "view"
    ]
    waiting = dict(CLIP_MODAL, title={"type": "plain_text", "text": "Working on it"})
    updated = (await client.views_update(view_id=opened["id"], hash=opened["hash"], view=waiting))[
        "view"
    ]
    assert updated["id"] == opened["id"] and updated["hash"] != opened["hash"]
    assert sandbox.views_opened[0]["title"]["text"] == "Working on it"
    stale = client.views_update(view_id=opened["id"], hash=opened["hash"], view=waiting)
    assert await _error_of(stale) == "hash_conflict"
    by_external = await client.views_update(external_id="job-1", view=CLIP_MODAL)
    assert by_external["view"]["title"]["text"] == "New clip"
    assert await _error_of(client.views_update(view_id="V0NOPE", view=CLIP_MODAL)) == "not_found"
    long_title = dict(CLIP_MODAL, title={"type": "plain_text", "text": "x" * 25})
    assert await _error_of(client.views_update(view_id=opened["id"], view=long_title)) == (
        "invalid_arguments"
    )


async def test_views_publish_keeps_one_home_per_user(
    sandbox: SlackSandbox, client: AsyncWebClient
) -> None:
    home = {
        "type": "home",
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "1"}}],
    }
    first = await client.views_publish(user_id="U0ALICE", view=home)
    second = await client.views_publish(user_id="U0ALICE", view=home)
    assert first["view"]["id"] == second["view"]["id"]
    assert sandbox.home_views["U0ALICE"]["blocks"] == home["blocks"]
    assert await _error_of(client.views_publish(user_id="U0ALICE", view=CLIP_MODAL)) == (
        "invalid_arguments"
    )


# -- files -------------------------------------------------------------------------------


async def test_files_upload_v2_shares_the_file_in_the_thread(
    sandbox: SlackSandbox, client: AsyncWebClient
) -> None:
    root = await client.chat_postMessage(channel=GENERAL, text="Job started")
    content = b"\x00\x00\x00\x18ftypmp42 clip bytes"
    answer = await client.files_upload_v2(
        channel=GENERAL,
        thread_ts=root["ts"],
        content=content,
        filename="clip.mp4",
        title="Clip 1",
        initial_comment="Clip 1 is ready",
    )
    file_id = answer["file"]["id"]
    assert answer["file"]["title"] == "Clip 1"
    assert [c.method for c in sandbox.calls][-3:] == [
        "files.getUploadURLExternal",
        "upload",
        "files.completeUploadExternal",
    ]
    upload = sandbox.uploads[file_id]
    assert (upload.data, upload.filename, upload.length) == (content, "clip.mp4", len(content))
    assert (upload.channel, upload.thread_ts) == (GENERAL, root["ts"])
    [shared] = sandbox.thread(GENERAL, root["ts"])
    assert shared.text == "Clip 1 is ready"
    assert [(f["id"], f["title"], f["mimetype"]) for f in shared.files] == [
        (file_id, "Clip 1", "video/mp4")
    ]
    async with httpx.AsyncClient() as http:
        refused = await http.get(shared.files[0]["url_private"])
        wrong = await http.get(
            shared.files[0]["url_private"], headers={"Authorization": "Bearer xoxb-wrong"}
        )
        downloaded = await http.get(
            shared.files[0]["url_private"],
            headers={"Authorization": f"Bearer {sandbox.bot_token}"},
        )
    assert (refused.status_code, wrong.status_code) == (403, 403), "the token is required"
    assert sandbox.refused_downloads == 2
    assert downloaded.content == content
    info = await client.files_info(file=file_id)
    assert info["file"]["shares"]["public"][GENERAL][0]["thread_ts"] == root["ts"]


async def test_completing_an_upload_that_never_arrived_is_file_not_found(
    sandbox: SlackSandbox, client: AsyncWebClient
) -> None:
    unknown = client.files_completeUploadExternal(files=[{"id": "F0NOPE", "title": "x"}])
    assert await _error_of(unknown) == "file_not_found"
    ticket = await client.files_getUploadURLExternal(filename="clip.mp4", length=3)
    assert ticket["upload_url"].startswith(sandbox.base_url + "/upload/")
    not_sent = client.files_completeUploadExternal(
        files=[{"id": ticket["file_id"], "title": "x"}], channel_id=GENERAL
    )
    assert await _error_of(not_sent) == "file_not_found"
    assert sandbox.messages(GENERAL) == []


async def test_a_file_is_shared_once_even_if_completion_is_repeated(
    sandbox: SlackSandbox, client: AsyncWebClient
) -> None:
    answer = await client.files_upload_v2(channel=GENERAL, content=b"abc", filename="a.mp4")
    repeat = client.files_completeUploadExternal(
        files=[{"id": answer["file"]["id"], "title": "a"}], channel_id=GENERAL
    )
    assert await _error_of(repeat) == "file_not_found"
    assert len(sandbox.messages(GENERAL)) == 1


async def test_a_failed_byte_upload_shares_nothing(
    sandbox: SlackSandbox, client: AsyncWebClient
) -> None:
    sandbox.fail_next("upload", error="internal_error", status=500, retry_after=None)
    with pytest.raises(SlackRequestError, match="status: 500"):
        await client.files_upload_v2(channel=GENERAL, content=b"abc", filename="a.mp4")
    assert sandbox.messages(GENERAL) == []
    assert sandbox.calls_to("upload")[0].error == "internal_error"


async def test_a_file_for_a_channel_without_the_bot_follows_membership_rules(
    sandbox: SlackSandbox, client: AsyncWebClient
) -> None:
    sandbox.add_channel("C0RANDOM", "random", member=False)
    upload = client.files_upload_v2(channel="C0RANDOM", content=b"abc", filename="a.mp4")
    assert await _error_of(upload) == "not_in_channel"


# -- rate limits and injected faults -----------------------------------------------------


async def test_rate_limit_handler_waits_out_an_injected_429(sandbox: SlackSandbox) -> None:
    patient = AsyncWebClient(
        token=sandbox.bot_token,
        base_url=sandbox.api_url,
        retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=2)],
    )
    sandbox.fail_next("chat.postMessage")
    started = time.monotonic()
    answer = await patient.chat_postMessage(channel=GENERAL, text="after the wait")
    assert time.monotonic() - started >= 1.0
    assert answer["ok"] is True
    assert [c.error for c in sandbox.calls_to("chat.postMessage")] == ["ratelimited", None]
    assert [m.text for m in sandbox.messages(GENERAL)] == ["after the wait"]


async def test_an_injected_fault_answers_with_status_header_and_error(
    sandbox: SlackSandbox, client: AsyncWebClient
) -> None:
    sandbox.fail_next("chat.update", times=2)
    sandbox.fail_next("views.open", error="internal_error", status=200, retry_after=None)
    root = await client.chat_postMessage(channel=GENERAL, text="x")
    for _ in range(2):
        with pytest.raises(SlackApiError) as caught:
            await client.chat_update(channel=GENERAL, ts=root["ts"], text="y")
        assert caught.value.response.status_code == 429
        assert caught.value.response.headers["Retry-After"] == "1"
        assert caught.value.response["error"] == "ratelimited"
    await client.chat_update(channel=GENERAL, ts=root["ts"], text="y")
    broken = client.views_open(trigger_id=sandbox.issue_trigger_id("U0A"), view=CLIP_MODAL)
    assert await _error_of(broken) == "internal_error"
    assert sandbox.views_opened == []


async def test_posts_beyond_the_channel_rate_get_429(
    sandbox: SlackSandbox, client: AsyncWebClient
) -> None:
    sandbox.post_rate_per_channel = 1.0
    sandbox.add_channel("C0OTHER", "other")
    await client.chat_postMessage(channel=GENERAL, text="first")
    with pytest.raises(SlackApiError) as caught:
        await client.chat_postMessage(channel=GENERAL, text="second")
    assert caught.value.response.status_code == 429
    assert caught.value.response.headers["Retry-After"] == "1"
    await client.chat_postMessage(channel="C0OTHER", text="elsewhere")
    assert [m.text for m in sandbox.messages(GENERAL)] == ["first"]


async def test_a_fault_after_commit_stores_the_message_and_still_answers_500(
    sandbox: SlackSandbox, client: AsyncWebClient
) -> None:
    sandbox.fail_next(
        "chat.postMessage", error="internal_error", status=500, retry_after=None, after_commit=True
    )
    with pytest.raises(SlackApiError) as caught:
        await client.chat_postMessage(channel=GENERAL, text="did Slack post this?")
    assert caught.value.response.status_code == 500
    assert caught.value.response["error"] == "internal_error"
    assert [m.text for m in sandbox.messages(GENERAL)] == ["did Slack post this?"]
    [call] = sandbox.calls_to("chat.postMessage")
    assert (call.error, call.committed) == ("internal_error", True)
    # Spent: the next post is answered normally.
    await client.chat_postMessage(channel=GENERAL, text="again")
    assert len(sandbox.messages(GENERAL)) == 2


async def test_a_fault_after_commit_applies_an_update_and_answers_ok_false(
    sandbox: SlackSandbox, client: AsyncWebClient
) -> None:
    root = await client.chat_postMessage(channel=GENERAL, text="queued")
    sandbox.fail_next(
        "chat.update", error="internal_error", status=200, retry_after=None, after_commit=True
    )
    sandbox.fail_next("chat.update", error="internal_error", status=200, retry_after=None)
    applied = client.chat_update(channel=GENERAL, ts=root["ts"], text="done")
    assert await _error_of(applied) == "internal_error"
    assert sandbox.message(GENERAL, root["ts"]).text == "done"
    # A fault without after_commit changes nothing.
    refused = client.chat_update(channel=GENERAL, ts=root["ts"], text="never")
    assert await _error_of(refused) == "internal_error"
    assert sandbox.message(GENERAL, root["ts"]).text == "done"
    assert [c.committed for c in sandbox.calls_to("chat.update")] == [True, False]


async def test_a_fault_after_commit_waits_for_a_call_that_takes_effect(
    sandbox: SlackSandbox, client: AsyncWebClient
) -> None:
    sandbox.add_channel("C0RANDOM", "random", member=False)
    sandbox.fail_next("chat.postMessage", error="internal_error", status=500, after_commit=True)
    elsewhere = client.chat_postMessage(channel="C0RANDOM", text="x")
    assert await _error_of(elsewhere) == "not_in_channel"
    with pytest.raises(SlackApiError):
        await client.chat_postMessage(channel=GENERAL, text="stored")
    await client.chat_postMessage(channel=GENERAL, text="answered")
    assert [m.text for m in sandbox.messages(GENERAL)] == ["stored", "answered"]
    assert [c.error for c in sandbox.calls_to("chat.postMessage")] == [
        "not_in_channel",
        "internal_error",
        None,
    ]


async def test_a_byte_upload_failed_after_commit_keeps_the_bytes_but_shares_nothing(
    sandbox: SlackSandbox, client: AsyncWebClient
) -> None:
    sandbox.fail_next("upload", error="internal_error", status=500, after_commit=True)
    with pytest.raises(SlackRequestError, match="status: 500"):
        await client.files_upload_v2(channel=GENERAL, content=b"abc", filename="a.mp4")
    [upload] = sandbox.uploads.values()
    assert (upload.data, upload.completed) == (b"abc", False)
    assert sandbox.messages(GENERAL) == []


async def test_on_call_fires_once_for_the_call_its_predicate_picks(
    sandbox: SlackSandbox, client: AsyncWebClient
) -> None:
    root = await client.chat_postMessage(channel=GENERAL, text="Job started")
    seen: list[tuple[int, str | None]] = []

    def action() -> None:
        # The call has taken effect and is recorded; its answer is not written yet.
        seen.append((len(sandbox.thread(GENERAL, root["ts"])), sandbox.calls[-1].error))

    def in_thread(params: dict[str, Any], result: dict[str, Any] | None) -> bool:
        return params.get("thread_ts") == root["ts"] and result is not None

    hook = sandbox.on_call("chat.postMessage", action, when=in_thread)
    await client.chat_postMessage(channel=GENERAL, text="another root")
    sandbox.fail_next("chat.postMessage", error="internal_error", status=500)
    with pytest.raises(SlackApiError):
        await client.chat_postMessage(channel=GENERAL, text="refused", thread_ts=root["ts"])
    assert (seen, hook.fired) == ([], 0)
    await client.chat_postMessage(channel=GENERAL, text="Clip 1", thread_ts=root["ts"])
    await client.chat_postMessage(channel=GENERAL, text="Clip 2", thread_ts=root["ts"])
    assert (seen, hook.fired) == ([(1, None)], 1)


async def test_on_call_fires_with_an_after_commit_fault_and_for_updates(
    sandbox: SlackSandbox, client: AsyncWebClient
) -> None:
    root = await client.chat_postMessage(channel=GENERAL, text="queued")
    texts: list[str] = []
    results: list[dict[str, Any] | None] = []

    def updated(params: dict[str, Any], result: dict[str, Any] | None) -> bool:
        results.append(result)
        return True

    hook = sandbox.on_call(
        "chat.update", lambda: texts.append(sandbox.message(GENERAL, root["ts"]).text), times=2
    )
    sandbox.on_call("chat.update", lambda: None, when=updated)
    sandbox.fail_next("chat.update", error="internal_error", status=500, after_commit=True)
    with pytest.raises(SlackApiError):
        await client.chat_update(channel=GENERAL, ts=root["ts"], text="rendering")
    await client.chat_update(channel=GENERAL, ts=root["ts"], text="done")
    await client.chat_update(channel=GENERAL, ts=root["ts"], text="after")
    assert (texts, hook.fired) == (["rendering", "done"], 2)
    assert results and results[0] is not None and results[0]["text"] == "rendering"
    with pytest.raises(ValueError, match="no method"):
        sandbox.on_call("chat.posMessage", lambda: None)
    with pytest.raises(ValueError, match="no method"):
        sandbox.fail_next("chat.posMessage")


async def test_on_call_can_stop_the_calling_process_before_it_hears_back(
    sandbox: SlackSandbox,
) -> None:
    script = (
        "import sys, httpx\n"
        "answer = httpx.post(sys.argv[1] + 'chat.postMessage', timeout=30,\n"
        "    headers={'Authorization': 'Bearer ' + sys.argv[2]},\n"
        "    json={'channel': 'C0GENERAL', 'text': 'from the bot'})\n"
        "print(answer.json()['ok'], flush=True)\n"
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", script, sandbox.api_url, sandbox.bot_token,
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert proc.stdout is not None
    sandbox.on_call("chat.postMessage", lambda: os.kill(proc.pid, signal.SIGSTOP))
    try:
        async with asyncio.timeout(10):
            await sandbox.wait_for(lambda: bool(sandbox.messages(GENERAL)))
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.3):
                await proc.stdout.readline()
        assert proc.returncode is None
    finally:
        os.kill(proc.pid, signal.SIGCONT)
    async with asyncio.timeout(10):
        out, _ = await proc.communicate()
    assert out.decode().strip() == "True"
    assert [m.text for m in sandbox.messages(GENERAL)] == ["from the bot"]


async def test_post_burst_sizes_the_bucket_and_retry_after_counts_whole_seconds(
    sandbox: SlackSandbox, client: AsyncWebClient
) -> None:
    async def retry_after(channel: str) -> str:
        with pytest.raises(SlackApiError) as caught:
            await client.chat_postMessage(channel=channel, text="one too many")
        assert caught.value.response.status_code == 429
        return str(caught.value.response.headers["Retry-After"])

    sandbox.add_channel("C0SLOW", "slow")
    sandbox.add_channel("C0FAST", "fast")
    sandbox.post_rate_per_channel = 0.5
    sandbox.post_burst = 3
    for n in range(3):
        await client.chat_postMessage(channel=GENERAL, text=f"burst {n}")
    assert await retry_after(GENERAL) == "2"
    sandbox.post_burst = None  # capacity max(1, rate): one post
    await client.chat_postMessage(channel="C0SLOW", text="only one")
    assert await retry_after("C0SLOW") == "2"
    sandbox.post_rate_per_channel = 20.0
    sandbox.post_burst = 2
    for n in range(2):
        await client.chat_postMessage(channel="C0FAST", text=f"fast {n}")
    assert await retry_after("C0FAST") == "1"  # a token in 50 ms, but never less than 1 s
    await asyncio.sleep(0.1)
    await client.chat_postMessage(channel="C0FAST", text="refilled")
    assert len(sandbox.messages("C0FAST")) == 3 and len(sandbox.messages(GENERAL)) == 3
    with pytest.raises(ValueError, match="post_burst"):
        SlackSandbox(post_rate_per_channel=1.0, post_burst=0.5)


# -- response_url ------------------------------------------------------------------------


async def test_response_url_posts_ephemerals_and_in_channel_messages(
    sandbox: SlackSandbox,
) -> None:
    hook = AsyncWebhookClient(sandbox.response_url(GENERAL, "U0ALICE"))
    first = await hook.send(text="Working on it")
    assert (first.status_code, first.body) == (200, "ok")
    await hook.send(text="Queued as job 1", replace_original=True)
    [seen] = sandbox.ephemerals
    assert (seen.text, seen.via, seen.user) == ("Queued as job 1", "response_url", "U0ALICE")
    await hook.send(text="Everyone sees this", response_type="in_channel")
    assert [(m.text, m.via) for m in sandbox.roots(GENERAL)] == [
        ("Everyone sees this", "response_url")
    ]
    await hook.send_dict({"delete_original": True})
    assert sandbox.ephemerals == []
    assert (await hook.send(text="fifth")).status_code == 200
    used_up = await hook.send(text="sixth")
    assert (used_up.status_code, used_up.body) == (404, "used_url")
    unknown = await AsyncWebhookClient(sandbox.base_url + "/response/nope").send(text="x")
    assert unknown.status_code == 404


async def test_response_url_of_a_message_replaces_or_deletes_that_message(
    sandbox: SlackSandbox, client: AsyncWebClient
) -> None:
    root = await client.chat_postMessage(channel=GENERAL, text="Cancel?")
    hook = AsyncWebhookClient(sandbox.response_url(GENERAL, "U0ALICE", message_ts=root["ts"]))
    await hook.send(text="Cancelled", replace_original=True)
    message = sandbox.message(GENERAL, root["ts"])
    assert message.text == "Cancelled" and [e.text for e in message.edits] == ["Cancelled"]
    await hook.send_dict({"delete_original": True})
    assert sandbox.messages(GENERAL) == []


# -- signing and the requests Slack sends ------------------------------------------------


def test_sign_matches_slacks_published_example_and_plain_hmac() -> None:
    body = (
        b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow"
        b"&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner"
        b"&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2F"
        b"commands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
        b"&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
    )
    secret, timestamp = "8f742231b10e8888abcd99yyyzzz85a5", "1531420618"
    by_hand = hmac.new(
        secret.encode(), b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256
    ).hexdigest()
    assert sign(secret, timestamp, body) == "v0=" + by_hand
    assert by_hand == "a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"


async def test_signature_verifier_accepts_every_request_sent(
    sandbox: SlackSandbox, receiver: Receiver
) -> None:
    root = await AsyncWebClient(token=sandbox.bot_token, base_url=sandbox.api_url).chat_postMessage(
        channel=GENERAL,
        text="Job 1",
        blocks=[
            {
                "type": "actions",
                "block_id": "job_actions",
                "elements": [
                    {
                        "type": "button",
                        "action_id": "cancel_job",
                        "text": {"type": "plain_text", "text": "Cancel"},
                        "value": "j1",
                    }
                ],
            }
        ],
    )
    async with SlackRequests(receiver.url, SECRET, sandbox) as slack:
        await slack.slash_command("/clip", "https://v.example.com/a.mp4 length=1")
        await slack.block_action(
            "cancel_job", "j1", user_id="U0ALICE", channel_id=GENERAL, message_ts=root["ts"]
        )
        await slack.view_submission(
            dict(CLIP_MODAL, id="V0001", hash="1.abc"),
            {"url": {"url": {"type": "plain_text_input", "value": "https://v.example.com/b"}}},
            user_id="U0ALICE",
        )
        await slack.message_shortcut(
            "clip_message",
            user_id="U0ALICE",
            channel_id=GENERAL,
            message_ts="1763900000.000100",
            text="https://v.example.com/c.mp4",
            thread_ts="1763800000.000100",
        )
        await slack.app_home_opened("U0ALICE")
        await slack.event({"type": "app_mention"}, event_id="Ev1", retry_num=1)
    verifier = SignatureVerifier(SECRET)
    assert len(receiver.requests) == 6
    for headers, body in receiver.requests:
        assert verifier.is_valid_request(body, headers)

    command = {k: v[0] for k, v in parse_qs(receiver.requests[0][1].decode(), True).items()}
    assert list(command) == [
        "token", "team_id", "team_domain", "channel_id", "channel_name", "user_id", "user_name",
        "command", "text", "api_app_id", "is_enterprise_install", "response_url", "trigger_id",
    ]  # fmt: skip
    assert command["text"] == "https://v.example.com/a.mp4 length=1"
    assert command["response_url"].startswith(sandbox.base_url + "/response/")
    assert command["trigger_id"] == slack.trigger_ids[0]

    action = _payload(receiver.requests[1][1])
    assert action["type"] == "block_actions"
    assert action["container"] == {
        "type": "message",
        "message_ts": root["ts"],
        "channel_id": GENERAL,
        "is_ephemeral": False,
    }
    assert action["actions"][0]["block_id"] == "job_actions"
    assert action["actions"][0]["text"]["text"] == "Cancel"
    assert action["message"]["ts"] == root["ts"]

    submission = _payload(receiver.requests[2][1])
    assert submission["view"]["id"] == "V0001"
    assert submission["view"]["state"]["values"]["url"]["url"]["value"] == "https://v.example.com/b"

    shortcut = _payload(receiver.requests[3][1])
    assert shortcut["type"] == "message_action"
    assert shortcut["message"]["thread_ts"] == "1763800000.000100"
    assert shortcut["trigger_id"] == slack.trigger_ids[3] == slack.last_trigger_id

    event_headers, event_body = receiver.requests[5]
    assert event_headers["X-Slack-Retry-Num"] == "1"
    assert json.loads(event_body)["event_id"] == "Ev1"


async def test_forged_signatures_and_stale_timestamps_are_sent_as_given(
    sandbox: SlackSandbox, receiver: Receiver
) -> None:
    body = b"command=%2Fclip&text="
    async with SlackRequests(receiver.url, SECRET, sandbox) as slack:
        await slack.post(body, "application/x-www-form-urlencoded", signature="v0=forged")
        await slack.post(
            body, "application/x-www-form-urlencoded", timestamp=int(time.time()) - 600
        )
    verifier = SignatureVerifier(SECRET)
    (forged_headers, _), (stale_headers, _) = receiver.requests
    assert forged_headers["X-Slack-Signature"] == "v0=forged"
    assert not verifier.is_valid_request(body, forged_headers)
    # Correctly signed, but ten minutes old.
    stamp = stale_headers["X-Slack-Request-Timestamp"]
    assert stale_headers["X-Slack-Signature"] == sign(SECRET, stamp, body)
    assert not verifier.is_valid_request(body, stale_headers)


async def test_a_bolt_app_answers_requests_and_opens_its_modal_in_the_sandbox(
    sandbox: SlackSandbox,
) -> None:
    """Bolt parses what SlackRequests sends and its client works against the sandbox."""
    client = AsyncWebClient(token=sandbox.bot_token, base_url=sandbox.api_url)
    app = AsyncApp(client=client, signing_secret=SECRET)
    seen: list[str] = []

    @app.command("/clip")
    async def clip(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        await client.views_open(trigger_id=body["trigger_id"], view=CLIP_MODAL)
        seen.append("command " + body["text"])

    @app.view("clip_modal")
    async def submitted(ack: AsyncAck, view: dict[str, Any]) -> None:
        await ack()
        seen.append("view " + view["state"]["values"]["url"]["url"]["value"])

    @app.shortcut("clip_message")
    async def shortcut(ack: AsyncAck, shortcut: dict[str, Any]) -> None:
        await ack()
        seen.append("shortcut " + shortcut["message"]["text"])

    runner = web.AppRunner(app.web_app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/slack/events"
    try:
        async with SlackRequests(url, SECRET, sandbox) as slack:
            answer = await slack.slash_command("/clip", "now")
            assert answer.status_code == 200
            [opened] = sandbox.views_opened
            values = {"url": {"url": {"type": "plain_text_input", "value": "https://v/1"}}}
            assert (await slack.view_submission(opened, values)).status_code == 200
            shortcut_answer = await slack.message_shortcut(
                "clip_message", message_ts="1763900000.000100", text="https://v/2"
            )
            assert shortcut_answer.status_code == 200
            forged = await slack.post(
                b"command=%2Fclip", "application/x-www-form-urlencoded", signature="v0=forged"
            )
            assert forged.status_code == 401
    finally:
        await runner.cleanup()
    assert seen == ["command now", "view https://v/1", "shortcut https://v/2"]
    assert sandbox.calls[0].method == "auth.test"


# -- transcripts -------------------------------------------------------------------------


async def test_transcript_shows_a_root_with_blocks_and_its_two_replies(
    sandbox: SlackSandbox, client: AsyncWebClient
) -> None:
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": "Clips for all-hands.mp4"}},
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": "*Rendering* <https://v.example.com/a.mp4|all-hands.mp4> for <@U0ALICE>",
            },
            "fields": [
                {"type": "mrkdwn", "text": "*Provider*\nVizard"},
                {"type": "plain_text", "text": "Clips: 3"},
            ],
        },
        {
            "type": "context",
            "elements": [
                {"type": "mrkdwn", "text": "Job j1"},
                {"type": "mrkdwn", "text": "<!date^1763900000^{date_short}|Nov 23, 2025>"},
                {"type": "image", "image_url": "https://i.example.com/v.png", "alt_text": "vizard"},
            ],
        },
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "action_id": "cancel",
                    "text": {"type": "plain_text", "text": "Cancel"},
                },
                {
                    "type": "button",
                    "action_id": "open",
                    "text": {"type": "plain_text", "text": "Open"},
                    "url": "https://v.example.com",
                },
            ],
        },
        {"type": "image", "image_url": "https://i.example.com/t.png", "alt_text": "thumbnail"},
    ]
    root = await client.chat_postMessage(channel=GENERAL, text="Clips", blocks=blocks)
    await client.chat_postMessage(
        channel=GENERAL,
        thread_ts=root["ts"],
        text="Clip 1 is ready: <https://c.example.com/1.mp4> in <#C0GENERAL>",
    )
    await client.files_upload_v2(
        channel=GENERAL,
        thread_ts=root["ts"],
        content=b"mp4",
        filename="clip2.mp4",
        title="Clip 2",
        initial_comment="_Clip 2_ &amp; more",
    )
    assert render_channel(sandbox, GENERAL, users={"U0ALICE": "alice"}) == (
        "#general\n"
        "\n"
        "Clips for all-hands.mp4\n"
        "*Rendering* all-hands.mp4 (https://v.example.com/a.mp4) for @alice\n"
        "*Provider*\n"
        "Vizard\n"
        "Clips: 3\n"
        "Job j1 · Nov 23, 2025 · [image: vizard]\n"
        "[Cancel] [Open]\n"
        "[image: thumbnail]\n"
        "  └ Clip 1 is ready: https://c.example.com/1.mp4 in #general\n"
        "  └ _Clip 2_ & more\n"
        "    [file: Clip 2]"
    )


@pytest.mark.parametrize(
    ("mrkdwn", "readable"),
    [
        ("<https://x.example/a|the talk>", "the talk (https://x.example/a)"),
        ("<https://x.example/a>", "https://x.example/a"),
        ("<https://x.example/a|https://x.example/a>", "https://x.example/a"),
        ("<@U0ALICE> and <@U0BOB>", "@alice and @U0BOB"),
        ("<#C0GENERAL> <#C0X|ops>", "#general #ops"),
        ("<!date^1763900000^{date_short}|Nov 23>", "Nov 23"),
        ("<!here> <!subteam^S1|@video-team>", "@here @video-team"),
        ("*bold* _italic_ 1 &lt; 2 &amp;&amp; 3 &gt; 2", "*bold* _italic_ 1 < 2 && 3 > 2"),
    ],
)
def test_mrkdwn_reads_as_a_person_sees_it(mrkdwn: str, readable: str) -> None:
    block = {"type": "section", "text": {"type": "mrkdwn", "text": mrkdwn}}
    lines = render_blocks([block], users={"U0ALICE": "alice"}, channels={"C0GENERAL": "general"})
    assert lines == [readable]


async def test_users_info_answers_for_known_people(
    sandbox: SlackSandbox, client: AsyncWebClient
) -> None:
    sandbox.add_user("U0ADMIN", "ada", is_admin=True)
    info = await client.users_info(user="U0ADMIN")
    assert (info["user"]["name"], info["user"]["is_admin"]) == ("ada", True)
    assert await _error_of(client.users_info(user="U0NOBODY")) == "user_not_found"
