"""Socket Mode: the bot dials the local Slack's websocket, and /clip arrives as envelopes.

Nothing here is signed: in Socket Mode the socket itself is authenticated with the app token,
so these stacks run without a signing secret at all.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import httpx
import pytest
import pytest_asyncio
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.demo import loopback_settings
from bot.jobs import JobState
from bot.runtime import Runtime, StartupError
from bot.sandbox import SlackSandbox
from bot.sandbox.server import SANDBOX_APP_TOKEN
from providers.simulators.vizard import VizardSimulator
from tests.e2e.conftest import ALICE, CHANNEL, Stack, StackFactory

APP_TOKEN = "xapp-1-A0REELBOT-123-abcdef"


async def _socket_stack(make_stack: StackFactory) -> Stack:
    stack = await make_stack(slack_app_token=APP_TOKEN, slack_signing_secret=None)
    async with asyncio.timeout(5):
        await stack.sandbox.socket_mode.wait_connected()
    return stack


@pytest_asyncio.fixture
async def sandbox() -> AsyncIterator[SlackSandbox]:
    box = SlackSandbox()
    await box.start()
    yield box
    await box.stop()


async def _error_of(client: AsyncWebClient, token: str) -> str:
    with pytest.raises(SlackApiError) as caught:
        await client.apps_connections_open(app_token=token)
    return str(caught.value.response["error"])


# -- the sandbox's side of the socket ------------------------------------------------------


async def test_connections_open_wants_the_registered_app_token(sandbox: SlackSandbox) -> None:
    assert APP_TOKEN == SANDBOX_APP_TOKEN, "the sandbox knows the token the stacks use"
    client = AsyncWebClient(token=sandbox.bot_token, base_url=sandbox.api_url)
    assert await _error_of(client, sandbox.bot_token) == "not_allowed_token_type"
    assert await _error_of(client, "xapp-1-A0OTHER-9-ffff") == "invalid_auth"

    sandbox.socket_mode.add_app_token("xapp-1-A0OTHER-9-ffff")
    answer = await client.apps_connections_open(app_token="xapp-1-A0OTHER-9-ffff")
    assert answer["url"].startswith(f"ws://127.0.0.1:{sandbox.port}/socket/")
    assert [c.error for c in sandbox.calls_to("apps.connections.open")] == [
        "not_allowed_token_type",
        "invalid_auth",
        None,
    ]


async def test_socket_says_hello_and_an_unacked_envelope_times_out(
    sandbox: SlackSandbox,
) -> None:
    client = AsyncWebClient(token=sandbox.bot_token, base_url=sandbox.api_url)
    url = (await client.apps_connections_open(app_token=APP_TOKEN))["url"]
    async with aiohttp.ClientSession() as http, http.ws_connect(url) as ws:
        hello = await ws.receive_json(timeout=2)
        assert hello["type"] == "hello"
        assert hello["num_connections"] == 1
        assert hello["connection_info"] == {"app_id": sandbox.app_id}
        assert sandbox.socket_mode.connected

        with pytest.raises(aiohttp.WSServerHandshakeError):
            await http.ws_connect(url)  # a URL is good for one connection only

        started = time.monotonic()
        with pytest.raises(TimeoutError, match="no ack"):
            await sandbox.socket_mode.send_slash_command({"command": "/clip", "text": ""})
        assert 2.9 < time.monotonic() - started < 5.0
        [envelope] = sandbox.socket_mode.envelopes
        assert await ws.receive_json(timeout=2) == envelope
        assert envelope["type"] == "slash_commands"
        assert envelope["accepts_response_payload"] is True
    async with asyncio.timeout(2):
        await sandbox.wait_for(lambda: not sandbox.socket_mode.connected)


# -- the bot over Socket Mode ----------------------------------------------------------


async def test_bot_connects_over_the_socket_and_reports_socket_mode(
    make_stack: StackFactory,
) -> None:
    stack = await _socket_stack(make_stack)
    assert stack.sandbox.socket_mode.connects == 1
    [opened] = stack.sandbox.calls_to("apps.connections.open")
    assert opened.error is None
    async with httpx.AsyncClient() as http:
        answer = await http.get(f"http://127.0.0.1:{stack.runtime.port}/healthz")
    assert answer.status_code == 200
    assert answer.json()["mode"] == "socket"
    assert answer.json()["socket"] == "alive"


async def test_clip_envelope_is_acked_and_becomes_clips_in_the_thread(
    make_stack: StackFactory,
) -> None:
    stack = await _socket_stack(make_stack)
    fields = stack.slack.slash_command_fields(
        "/clip", "https://v.example.com/a.mp4", user_id=ALICE, channel_id=CHANNEL
    )
    started = time.monotonic()
    ack = await stack.sandbox.socket_mode.send_slash_command(fields)
    assert time.monotonic() - started < 3.0
    assert ack == {}

    [job] = await stack.wait_until_settled()
    assert job.state is JobState.DONE
    assert job.source == "https://v.example.com/a.mp4"
    [root] = stack.sandbox.roots(CHANNEL)
    assert f"<@{ALICE}>" in json.dumps(root.blocks)
    assert "Done: 3 clips" in json.dumps(root.blocks)
    assert len(stack.sandbox.thread(CHANNEL, root.ts)) == 3
    [envelope] = stack.sandbox.socket_mode.envelopes
    [acked] = stack.sandbox.socket_mode.acks
    assert acked == {"envelope_id": envelope["envelope_id"]}


async def test_bad_clip_is_answered_in_the_ack_and_stores_nothing(
    make_stack: StackFactory,
) -> None:
    stack = await _socket_stack(make_stack)
    fields = stack.slack.slash_command_fields(
        "/clip", "ftp://x/y.mp4", user_id=ALICE, channel_id=CHANNEL
    )
    ack = await stack.sandbox.socket_mode.send_slash_command(fields)
    assert ack["response_type"] == "ephemeral"
    assert "http" in ack["text"] and "ftp" in ack["text"]
    await asyncio.sleep(0.3)  # anything started after the ack would have shown by now
    assert await stack.jobs() == []
    assert stack.vizard.create_attempts == 0
    assert stack.sandbox.calls_to("chat.postMessage") == []
    assert stack.sandbox.ephemerals == [], "the answer travels in the ack, not via Slack"


async def test_modal_opens_from_the_envelope_and_field_errors_come_back_in_the_ack(
    make_stack: StackFactory,
) -> None:
    stack = await _socket_stack(make_stack)
    socket = stack.sandbox.socket_mode
    fields = stack.slack.slash_command_fields("/clip", "", user_id=ALICE, channel_id=CHANNEL)
    assert await socket.send_slash_command(fields) == {}
    async with asyncio.timeout(3):
        await stack.sandbox.wait_for(lambda: bool(stack.sandbox.views_opened))
    view = stack.sandbox.views_opened[-1]
    values: dict[str, dict[str, dict[str, Any]]] = {
        "url": {"url": {"type": "plain_text_input", "value": "ftp://x/y.mp4"}},
        "length": {"length": {"type": "multi_static_select", "selected_options": []}},
    }
    ack = await socket.send_interactive(
        stack.slack.view_submission_payload(view, values, user_id=ALICE)
    )
    assert ack["response_action"] == "errors"
    assert set(ack["errors"]) == {"url", "length"}
    assert socket.envelopes[-1]["type"] == "interactive"
    assert socket.envelopes[-1]["accepts_response_payload"] is True
    assert await stack.jobs() == []


async def test_in_socket_mode_slack_events_are_not_served_over_http(
    make_stack: StackFactory,
) -> None:
    stack = await _socket_stack(make_stack)
    async with httpx.AsyncClient() as http:
        answer = await http.post(
            f"http://127.0.0.1:{stack.runtime.port}/slack/events",
            content=b"command=/clip&text=help&user_id=U0ALICE&channel_id=C0GENERAL",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
    assert answer.status_code in {404, 405}
    assert await stack.jobs() == []


async def test_a_refused_app_token_stops_startup_with_a_clear_error(
    sandbox: SlackSandbox,
) -> None:
    vizard = VizardSimulator()
    await vizard.start()
    settings = loopback_settings(
        sandbox,
        vizard,
        "",
        slack_app_token="xapp-1-A0OTHER-9-ffff",
        slack_signing_secret=None,
        reelbot_db=":memory:",
    )
    runtime = Runtime(settings, socket_connect_seconds=1.5)
    started = time.monotonic()
    with pytest.raises(StartupError, match="SLACK_APP_TOKEN"):
        await runtime.start("127.0.0.1", 0)
    assert time.monotonic() - started < 10
    assert not runtime.poller.running
    await vizard.stop()


async def test_healthz_goes_by_the_last_pong_not_by_is_connected(
    make_stack: StackFactory,
) -> None:
    stack = await make_stack(
        slack_app_token=APP_TOKEN, slack_signing_secret=None, socket_ping_seconds=0.2
    )
    async with asyncio.timeout(5):
        await stack.sandbox.socket_mode.wait_connected()
    url = f"http://127.0.0.1:{stack.runtime.port}/healthz"
    async with httpx.AsyncClient() as http:
        await asyncio.sleep(0.6)
        alive = (await http.get(url)).json()
        stack.sandbox.socket_mode.answer_pings = False
        await asyncio.sleep(1.4)
        stale = await http.get(url)
    assert alive["socket"] == "alive" and alive["socket_last_pong_seconds_ago"] < 0.6
    assert stale.status_code == 503 and stale.json()["socket"] == "stale"
