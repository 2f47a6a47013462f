"""Many workspaces over HTTP: the install round trip against the Slack sandbox
(oauth.v2.access), each workspace's job posted with that workspace's own bot token, a bad
OAuth state refused, and an uninstall that removes the workspace's tokens and settings."""

from __future__ import annotations

import asyncio
import json
import re
import socket
import sqlite3
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import redis.asyncio
import yaml
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore

from bot.jobs import JobState
from bot.sandbox import SlackRequests
from tests.e2e.conftest import ALICE, CHANNEL, Stack, StackFactory

CLIENT_ID = "1111.2222"
CLIENT_SECRET = "sandbox-client-secret-0123456789"  # made up, as the sandbox is
BETA = "T0BETA"
BETA_CHANNEL = "C0BETA"
BETTY = "U0BETTY"
ALPHA = "T0SANDBOX"
VIDEO = "https://videos.example.com/all-hands.mp4"
COOKIE = "slack-app-oauth-state"
MANIFEST_SCOPES = yaml.safe_load(
    (Path(__file__).parents[2] / "manifest.yml").read_text(encoding="utf-8")
)["oauth_config"]["scopes"]["bot"]


async def two_workspaces(
    make_stack: StackFactory, *, betty_is_admin: bool = False, **settings: object
) -> Stack:
    """A stack in OAuth mode with the sandbox's workspace (Alpha) and Beta, neither installed."""
    stack = await make_stack(
        slack_bot_token=None,
        slack_client_id=CLIENT_ID,
        slack_client_secret=CLIENT_SECRET,
        **settings,
    )
    sandbox = stack.sandbox
    sandbox.enable_oauth(CLIENT_ID, CLIENT_SECRET)
    # Only tokens issued at install work: the sandbox's own start-up token is dropped.
    sandbox.uninstall(ALPHA)
    sandbox.add_workspace(BETA, "Beta Corp")
    sandbox.add_channel(BETA_CHANNEL, "beta-general", team=BETA)
    sandbox.add_user(BETTY, "betty", is_admin=betty_is_admin, team=BETA)
    return stack


async def install_both(stack: Stack) -> None:
    async with httpx.AsyncClient(timeout=10.0) as http:
        await _install(http, stack, ALPHA, ALICE)
        await _install(http, stack, BETA, BETTY)


@pytest.fixture
async def oauth_stack(make_stack: StackFactory) -> Stack:
    return await two_workspaces(make_stack)


def _base(stack: Stack) -> str:
    return f"http://127.0.0.1:{stack.runtime.port}"


async def _start_install(http: httpx.AsyncClient, stack: Stack) -> str:
    """GET /slack/install: the Add to Slack page; returns the state it issued."""
    page = await http.get(f"{_base(stack)}/slack/install")
    assert page.status_code == 200
    link = re.search(r'href="(https://slack\.com/oauth/v2/authorize\?[^"]+)"', page.text)
    assert link is not None, page.text
    query = parse_qs(urlsplit(link.group(1).replace("&amp;", "&")).query)
    assert query["client_id"] == [CLIENT_ID]
    assert query["scope"][0].split(",") == MANIFEST_SCOPES
    [state] = query["state"]
    assert page.cookies.get(COOKIE) == state, "Bolt's state cookie names the same state"
    return state


async def _finish_install(
    http: httpx.AsyncClient, stack: Stack, state: str, code: str, *, cookie: str | None = None
) -> httpx.Response:
    """The installer's browser back from Slack at the redirect URL, with the state cookie."""
    return await http.get(
        f"{_base(stack)}/slack/oauth_redirect",
        params={"code": code, "state": state},
        headers={"Cookie": f"{COOKIE}={cookie or state}"},
    )


async def _install(http: httpx.AsyncClient, stack: Stack, team: str, user: str) -> str:
    state = await _start_install(http, stack)
    answer = await _finish_install(http, stack, state, stack.sandbox.authorize(team, user))
    assert answer.status_code == 200, answer.text
    assert "Thank you" in answer.text
    [token] = stack.sandbox.bot_tokens(team)
    return token


async def _stored(redis_url: str, prefix: str) -> str:
    """Everything Reelbot keeps about installations in Redis, as one string to search."""
    client = redis.asyncio.Redis.from_url(redis_url, decode_responses=True)
    try:
        found: list[str] = []
        async for key in client.scan_iter(f"{prefix}oauth:*"):
            assert isinstance(key, str)
            kind = await client.type(key)
            if kind == "string":
                found.append(f"{key}={await client.get(key)!s}")
            elif kind == "hash":
                found.append(f"{key}={json.dumps(await client.hgetall(key))}")
        return "\n".join(found)
    finally:
        await client.aclose()


def _beta_requests(stack: Stack) -> SlackRequests:
    return SlackRequests(stack.slack.events_url, stack.signing_secret, stack.sandbox, team_id=BETA)


async def test_install_then_each_workspaces_job_posts_with_its_own_token(
    oauth_stack: Stack, redis_url: str, redis_prefix: str
) -> None:
    stack = oauth_stack
    async with httpx.AsyncClient(timeout=10.0) as http:
        alpha_token = await _install(http, stack, ALPHA, ALICE)
        beta_token = await _install(http, stack, BETA, BETTY)
    assert alpha_token != beta_token
    exchanges = stack.sandbox.calls_to("oauth.v2.access")
    assert [c.team for c in exchanges] == [ALPHA, BETA] and not any(c.error for c in exchanges)
    stored = await _stored(redis_url, redis_prefix)
    assert alpha_token in stored and beta_token in stored, "installations are kept in Redis"

    beta = _beta_requests(stack)
    async with beta:
        first = await stack.slack.slash_command("/clip", VIDEO, user_id=ALICE, channel_id=CHANNEL)
        second = await beta.slash_command(
            "/clip", VIDEO, user_id=BETTY, user_name="betty", channel_id=BETA_CHANNEL
        )
    assert first.status_code == 200 and second.status_code == 200
    [alpha_job] = await stack.wait_until_delivered(ALICE)
    [beta_job] = await stack.wait_until_delivered(BETTY)
    assert alpha_job.state is JobState.DONE and beta_job.state is JobState.DONE
    assert alpha_job.team_id == ALPHA and beta_job.team_id == BETA

    [alpha_root] = stack.sandbox.roots(CHANNEL)
    [beta_root] = stack.sandbox.roots(BETA_CHANNEL)
    assert len(stack.sandbox.thread(CHANNEL, alpha_root.ts)) == 3
    assert len(stack.sandbox.thread(BETA_CHANNEL, beta_root.ts)) == 3
    writes = [
        c
        for c in stack.sandbox.calls
        if c.method in ("chat.postMessage", "chat.update") and c.error is None
    ]
    by_channel: dict[str, set[str | None]] = {CHANNEL: set(), BETA_CHANNEL: set()}
    for call in writes:
        by_channel[str(call.params["channel"])].add(call.team)
    assert by_channel == {CHANNEL: {ALPHA}, BETA_CHANNEL: {BETA}}
    assert not [c for c in stack.sandbox.calls if c.error in ("invalid_auth", "not_authed")]


async def test_a_reused_or_made_up_state_is_refused_with_a_friendly_page(
    oauth_stack: Stack,
) -> None:
    stack = oauth_stack
    async with httpx.AsyncClient(timeout=10.0) as http:
        state = await _start_install(http, stack)
        done = await _finish_install(http, stack, state, stack.sandbox.authorize(ALPHA, ALICE))
        assert done.status_code == 200

        again = await _finish_install(http, stack, state, stack.sandbox.authorize(ALPHA, ALICE))
        made_up = await _finish_install(
            http, stack, "made-up-state", stack.sandbox.authorize(ALPHA, ALICE)
        )
        fresh = await _start_install(http, stack)
        no_cookie = await http.get(
            f"{_base(stack)}/slack/oauth_redirect",
            params={"code": stack.sandbox.authorize(ALPHA, ALICE), "state": fresh},
        )

    for refused in (again, made_up, no_cookie):
        assert refused.status_code in (400, 401)
        assert "text/html" in refused.headers["Content-Type"]
        assert "This install link has expired or was already used." in refused.text
        assert 'Start again from <a href="/slack/install">' in refused.text
        assert CLIENT_SECRET not in refused.text
    assert len(stack.sandbox.calls_to("oauth.v2.access")) == 1, "no code exchanged on a bad state"


async def test_an_install_cancelled_in_slack_says_so(oauth_stack: Stack) -> None:
    stack = oauth_stack
    async with httpx.AsyncClient(timeout=10.0) as http:
        state = await _start_install(http, stack)
        cancelled = await http.get(
            f"{_base(stack)}/slack/oauth_redirect",
            params={"error": "access_denied", "state": state},
            headers={"Cookie": f"{COOKIE}={state}"},
        )
    assert "The install was cancelled in Slack, so nothing changed." in cancelled.text
    assert stack.sandbox.calls_to("oauth.v2.access") == []


async def test_a_wrong_client_secret_or_used_code_is_refused_by_the_sandbox(
    oauth_stack: Stack,
) -> None:
    sandbox = oauth_stack.sandbox
    code = sandbox.authorize(BETA, BETTY)
    auth = (CLIENT_ID, "not-the-secret")
    async with httpx.AsyncClient(timeout=10.0) as http:
        wrong = await http.post(f"{sandbox.api_url}oauth.v2.access", data={"code": code}, auth=auth)
        right = await http.post(
            f"{sandbox.api_url}oauth.v2.access",
            data={"code": code},
            auth=(CLIENT_ID, CLIENT_SECRET),
        )
        reused = await http.post(
            f"{sandbox.api_url}oauth.v2.access",
            data={"code": code},
            auth=(CLIENT_ID, CLIENT_SECRET),
        )
    assert wrong.json() == {"ok": False, "error": "bad_client_secret"}
    answer = right.json()
    assert answer["ok"] and answer["access_token"].startswith("xoxb-")
    assert answer["team"] == {"id": BETA, "name": "Beta Corp"} and answer["enterprise"] is None
    assert answer["token_type"] == "bot" and answer["authed_user"] == {"id": BETTY}
    assert reused.json() == {"ok": False, "error": "invalid_code"}


async def test_uninstall_removes_tokens_and_settings_and_later_commands_are_refused(
    oauth_stack: Stack, redis_url: str, redis_prefix: str
) -> None:
    stack = oauth_stack
    store = stack.runtime.store
    async with httpx.AsyncClient(timeout=10.0) as http:
        alpha_token = await _install(http, stack, ALPHA, ALICE)
        beta_token = await _install(http, stack, BETA, BETTY)
    await store.config_put(BETA, "preset:C0BETA", '{"provider": "vizard"}')
    await store.config_put(ALPHA, "preset:C0GENERAL", '{"provider": "vizard"}')

    stack.sandbox.uninstall(BETA)  # Slack revokes the tokens, then sends the event
    async with _beta_requests(stack) as beta:
        event = await beta.event({"type": "app_uninstalled", "event_ts": "1700000000.000100"})
        assert event.status_code == 200
        await stack.wait_for(lambda: _no_config(stack, BETA))
        stored = await _stored(redis_url, redis_prefix)
        assert beta_token not in stored and BETA not in stored
        assert alpha_token in stored, "the other workspace keeps its installation"
        assert await store.config_all(ALPHA) != {}

        later = await beta.slash_command(
            "/clip", VIDEO, user_id=BETTY, user_name="betty", channel_id=BETA_CHANNEL
        )
    assert later.status_code == 200
    await stack.wait_for(lambda: any(e.user == BETTY for e in stack.sandbox.ephemerals))
    [refusal] = [e for e in stack.sandbox.ephemerals if e.user == BETTY]
    assert "not installed in this workspace" in refusal.text
    assert await stack.jobs(BETTY) == []
    assert stack.sandbox.roots(BETA_CHANNEL) == []


async def _no_config(stack: Stack, team: str) -> bool:
    return await stack.runtime.store.config_all(team) == {}


async def test_a_job_in_flight_when_its_workspace_uninstalls_stops_quietly(
    oauth_stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    stack = oauth_stack
    async with httpx.AsyncClient(timeout=10.0) as http:
        await _install(http, stack, ALPHA, ALICE)
        await _install(http, stack, BETA, BETTY)
    stack.vizard.render_seconds = 2.0
    async with _beta_requests(stack) as beta:
        await beta.slash_command(
            "/clip", VIDEO, user_id=BETTY, user_name="betty", channel_id=BETA_CHANNEL
        )
        await stack.wait_for(lambda: len(stack.sandbox.roots(BETA_CHANNEL)) == 1)
        stack.sandbox.uninstall(BETA)
        await beta.event({"type": "app_uninstalled", "event_ts": "1700000000.000200"})

    await stack.wait_for(lambda: "no installation in workspace T0BETA" in caplog.text, seconds=20.0)
    # A call that took the token just before the uninstall may still be on its way.
    await asyncio.sleep(0.5)
    uninstalled_at = len(stack.sandbox.calls)
    # The other workspace goes on as before.
    await stack.slack.slash_command("/clip", VIDEO, user_id=ALICE, channel_id=CHANNEL)
    [alpha_job] = await stack.wait_until_delivered(ALICE)
    assert alpha_job.state is JobState.DONE
    later = stack.sandbox.calls[uninstalled_at:]
    assert not [c for c in later if c.params.get("channel") == BETA_CHANNEL], (
        "nothing more reaches the uninstalled workspace, not even with a revoked token"
    )
    assert not [c for c in later if c.error in ("invalid_auth", "not_authed")]
    assert "Traceback" not in caplog.text


async def test_tokens_revoked_removes_the_bot_token(oauth_stack: Stack) -> None:
    stack = oauth_stack
    async with httpx.AsyncClient(timeout=10.0) as http:
        await _install(http, stack, BETA, BETTY)
    installations = stack.runtime.oauth.installations if stack.runtime.oauth else None
    assert installations is not None
    stack.sandbox.uninstall(BETA)
    async with _beta_requests(stack) as beta:
        answer = await beta.event(
            {"type": "tokens_revoked", "tokens": {"bot": ["U0REELBOT"]}, "event_ts": "1.2"}
        )
        assert answer.status_code == 200
        await stack.wait_for(lambda: _no_bot(installations))
        await beta.slash_command(
            "/clip", VIDEO, user_id=BETTY, user_name="betty", channel_id=BETA_CHANNEL
        )
    await stack.wait_for(lambda: any(e.user == BETTY for e in stack.sandbox.ephemerals))
    assert "not installed in this workspace" in stack.sandbox.ephemerals[-1].text
    assert await stack.jobs(BETTY) == []


async def _no_bot(installations: AsyncInstallationStore) -> bool:
    return await installations.async_find_bot(enterprise_id=None, team_id=BETA) is None


async def test_install_round_trip_with_the_sqlite_store(
    make_stack: StackFactory, tmp_path: Path
) -> None:
    stack = await make_stack(
        slack_bot_token=None,
        slack_client_id=CLIENT_ID,
        slack_client_secret=CLIENT_SECRET,
        redis_url=None,
        reelbot_db=str(tmp_path / "reelbot.db"),
    )
    assert stack.runtime.store_kind == "sqlite"
    stack.sandbox.enable_oauth(CLIENT_ID, CLIENT_SECRET)
    stack.sandbox.uninstall(ALPHA)
    async with httpx.AsyncClient(timeout=10.0) as http:
        token = await _install(http, stack, ALPHA, ALICE)
    with sqlite3.connect(tmp_path / "reelbot.db") as db:
        stored = "\n".join(str(row) for row in db.execute("SELECT data FROM oauth_bots"))
    assert token in stored

    await stack.slack.slash_command("/clip", VIDEO, user_id=ALICE, channel_id=CHANNEL)
    [job] = await stack.wait_until_delivered(ALICE)
    assert job.state is JobState.DONE
    posts = stack.sandbox.calls_to("chat.postMessage")
    assert posts and {c.team for c in posts} == {ALPHA} and not any(c.error for c in posts)


async def test_a_slack_file_is_read_for_a_provider_with_its_workspaces_token(
    make_stack: StackFactory,
) -> None:
    """Vizard fetches a video uploaded to the beta workspace at the bot's signed link: the bot
    reads it from Slack with beta's token (the sandbox serves a file to its own workspace's
    token only)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    stack = await make_stack(
        slack_bot_token=None,
        slack_client_id=CLIENT_ID,
        slack_client_secret=CLIENT_SECRET,
        vizard_fetches=True,
        port=port,
        public_url=f"http://127.0.0.1:{port}",
    )
    sandbox = stack.sandbox
    sandbox.enable_oauth(CLIENT_ID, CLIENT_SECRET)
    sandbox.add_workspace(BETA, "Beta Corp")
    sandbox.add_channel(BETA_CHANNEL, "beta-general", team=BETA)
    sandbox.add_user(BETTY, "betty", team=BETA)
    async with httpx.AsyncClient(timeout=10.0) as http:
        await _install(http, stack, BETA, BETTY)
    [exchange] = sandbox.calls_to("oauth.v2.access")
    assert exchange.params["redirect_uri"] == f"http://127.0.0.1:{port}/slack/oauth_redirect"
    video = b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 64
    message = sandbox.person_uploads(BETA_CHANNEL, "keynote.mp4", video, text="The keynote")
    async with _beta_requests(stack) as beta:
        await beta.message_shortcut(
            "clip_video", user_id=BETTY, channel_id=BETA_CHANNEL, message_ts=message.ts,
            text=message.text, files=message.files,
        )  # fmt: skip
        await stack.wait_for(lambda: bool(sandbox.views_opened))
        auto = {"type": "multi_static_select", "selected_options": [{"value": "0"}]}
        answer = await beta.view_submission(
            sandbox.views_opened[-1], {"length": {"length": auto}}, user_id=BETTY
        )
    assert answer.status_code == 200 and not answer.content, answer.text
    [done] = await stack.wait_until_delivered(BETTY)
    assert done.state is JobState.DONE, done.error
    [create] = stack.vizard.creates
    link = str(create["videoUrl"])
    assert link.endswith(f"?team={BETA}")
    assert stack.vizard.fetches == [(link, 200, len(video))]
    assert sandbox.refused_downloads == 0
    [info] = sandbox.calls_to("files.info")[-1:]
    assert info.team == BETA
    async with httpx.AsyncClient(timeout=10.0) as http:
        other = link.replace(f"team={BETA}", f"team={ALPHA}")
        assert (await http.get(other)).status_code == 410, "the workspace is signed too"


async def test_listeners_call_slack_with_their_workspaces_token(oauth_stack: Stack) -> None:
    """A listener that calls Slack through the bot's own client (App Home's views.publish, the
    Cancel refusal's DM) does so for the workspace its request came from."""
    stack = oauth_stack
    async with httpx.AsyncClient(timeout=10.0) as http:
        await _install(http, stack, ALPHA, ALICE)
        await _install(http, stack, BETA, BETTY)
    beta = _beta_requests(stack)
    async with beta:
        for _ in range(2):
            opened = await beta.app_home_opened(BETTY)
            assert opened.status_code == 200
            alpha_opened = await stack.slack.app_home_opened(ALICE)
            assert alpha_opened.status_code == 200

    def published() -> bool:
        return len([c for c in stack.sandbox.calls_to("views.publish") if c.error is None]) >= 4

    await stack.wait_for(published, 10)
    publishes = stack.sandbox.calls_to("views.publish")
    assert {(c.params["user_id"], c.team) for c in publishes} == {(BETTY, BETA), (ALICE, ALPHA)}
    assert not [c for c in publishes if c.error], [c.error for c in publishes]


async def test_uninstall_cancels_the_workspaces_jobs_so_a_waiting_one_is_never_created(
    oauth_stack: Stack,
) -> None:
    """Vizard takes 3 creates a minute: Betty's 4th job waits in the queue. The workspace
    uninstalls: every unfinished job of it is cancelled, and the waiting one never reaches
    Vizard, even once its window opens. The other workspace is untouched."""
    stack = oauth_stack
    async with httpx.AsyncClient(timeout=10.0) as http:
        await _install(http, stack, ALPHA, ALICE)
        await _install(http, stack, BETA, BETTY)
    stack.vizard.render_seconds = 30.0
    async with _beta_requests(stack) as beta:
        for n in range(4):
            await beta.slash_command(
                "/clip", f"{VIDEO}?n={n}", user_id=BETTY, user_name="betty",
                channel_id=BETA_CHANNEL,
            )  # fmt: skip
        await stack.wait_for(lambda: len(stack.vizard.creates) == 3)
        stack.sandbox.uninstall(BETA)
        answer = await beta.event({"type": "app_uninstalled", "event_ts": "1700000000.000300"})
        assert answer.status_code == 200

    async def all_cancelled() -> bool:
        jobs = await stack.jobs(BETTY)
        return len(jobs) == 4 and all(j.state is JobState.CANCELLED for j in jobs)

    await stack.wait_for(all_cancelled)
    assert all("uninstalled" in (j.notice or "") for j in await stack.jobs(BETTY))
    stack.clock.advance(120)
    stack.runtime.poller.wake()
    await stack.slack.slash_command("/clip", VIDEO, user_id=ALICE, channel_id=CHANNEL)
    stack.vizard.render_seconds = 0.5
    [alpha_job] = await stack.wait_until_delivered(ALICE, 60.0)
    assert alpha_job.state is JobState.DONE
    beta_creates = [c for c in stack.vizard.creates if "n=" in str(c.get("videoUrl"))]
    assert len(beta_creates) == 3, "the waiting job was never created"
