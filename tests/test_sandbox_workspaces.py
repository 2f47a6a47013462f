"""The local Slack's workspaces: oauth.v2.access as slack_sdk calls it, a bot token per
workspace, and each token seeing only its own workspace."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.sandbox import SlackSandbox

CLIENT_ID = "1111.2222"
CLIENT_SECRET = "the-client-secret"


@pytest_asyncio.fixture
async def sandbox() -> AsyncIterator[SlackSandbox]:
    box = SlackSandbox()
    box.enable_oauth(CLIENT_ID, CLIENT_SECRET)
    box.add_workspace("T0BETA", "Beta Corp")
    box.add_channel("C0BETA", "beta", team="T0BETA")
    box.add_user("U0BETTY", "betty", team="T0BETA")
    await box.start()
    yield box
    await box.stop()


async def _install(sandbox: SlackSandbox, team: str, user: str, redirect: str | None) -> str:
    client = AsyncWebClient(base_url=sandbox.api_url)
    answer = await client.oauth_v2_access(
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        code=sandbox.authorize(team, user, redirect_uri=redirect),
        redirect_uri=redirect,
    )
    assert answer["team"]["id"] == team and answer["bot_user_id"] and answer["app_id"]
    assert answer["scope"].split(",") == sandbox.bot_scopes
    return str(answer["access_token"])


async def test_each_workspace_gets_its_own_token_that_sees_only_its_channels(
    sandbox: SlackSandbox,
) -> None:
    beta = AsyncWebClient(
        token=await _install(sandbox, "T0BETA", "U0BETTY", None), base_url=sandbox.api_url
    )
    alpha = AsyncWebClient(token=sandbox.bot_token, base_url=sandbox.api_url)

    assert (await beta.auth_test())["team_id"] == "T0BETA"
    assert (await alpha.auth_test())["team_id"] == sandbox.team_id
    await beta.chat_postMessage(channel="C0BETA", text="hello beta")
    with pytest.raises(SlackApiError) as refused:
        await alpha.chat_postMessage(channel="C0BETA", text="not yours")
    assert refused.value.response["error"] == "channel_not_found"
    with pytest.raises(SlackApiError):
        await beta.chat_postMessage(channel="C0GENERAL", text="not yours either")
    posted = [c for c in sandbox.calls_to("chat.postMessage") if c.error is None]
    assert [(c.params["channel"], c.team) for c in posted] == [("C0BETA", "T0BETA")]


async def test_an_uninstalled_workspaces_token_stops_working(sandbox: SlackSandbox) -> None:
    token = await _install(sandbox, "T0BETA", "U0BETTY", None)
    sandbox.uninstall("T0BETA")
    beta = AsyncWebClient(token=token, base_url=sandbox.api_url)

    with pytest.raises(SlackApiError) as refused:
        await beta.chat_postMessage(channel="C0BETA", text="gone")

    assert refused.value.response["error"] == "invalid_auth"


async def test_a_file_is_served_to_its_own_workspaces_token_only(sandbox: SlackSandbox) -> None:
    token = await _install(sandbox, "T0BETA", "U0BETTY", None)
    message = sandbox.person_uploads("C0BETA", "clip.mp4", b"video bytes")
    url = str(message.files[0]["url_private"])
    async with httpx.AsyncClient() as http:
        theirs = await http.get(url, headers={"Authorization": f"Bearer {token}"})
        other = await http.get(url, headers={"Authorization": f"Bearer {sandbox.bot_token}"})
    assert theirs.status_code == 200 and theirs.content == b"video bytes"
    assert other.status_code == 403


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"client_secret": "wrong"}, "bad_client_secret"),
        ({"client_id": "9999.0000"}, "invalid_client_id"),
        ({"code": "made-up"}, "invalid_code"),
        ({"redirect_uri": "https://elsewhere.example.com/cb"}, "bad_redirect_uri"),
    ],
)
async def test_oauth_v2_access_refuses_like_slack(
    sandbox: SlackSandbox, change: dict[str, str], error: str
) -> None:
    redirect = "https://reelbot.example.com/slack/oauth_redirect"
    asked = {
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "code": sandbox.authorize("T0BETA", "U0BETTY", redirect_uri=redirect),
        "redirect_uri": redirect,
    } | change
    client = AsyncWebClient(base_url=sandbox.api_url)

    with pytest.raises(SlackApiError) as refused:
        await client.oauth_v2_access(**asked)

    assert refused.value.response["error"] == error
    assert sandbox.bot_tokens("T0BETA") == set()
    assert "client_secret" not in sandbox.calls_to("oauth.v2.access")[0].params


async def test_client_credentials_as_form_parameters_are_taken_and_not_kept(
    sandbox: SlackSandbox,
) -> None:
    code = sandbox.authorize("T0BETA", "U0BETTY")
    async with httpx.AsyncClient() as http:
        answer = await http.post(
            f"{sandbox.api_url}oauth.v2.access",
            data={"client_id": CLIENT_ID, "client_secret": "wrong", "code": code},
        )
    assert answer.json() == {"ok": False, "error": "bad_client_secret"}
    assert "client_secret" not in sandbox.calls_to("oauth.v2.access")[0].params


async def test_a_code_works_once(sandbox: SlackSandbox) -> None:
    code = sandbox.authorize("T0BETA", "U0BETTY")
    client = AsyncWebClient(base_url=sandbox.api_url)
    await client.oauth_v2_access(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, code=code)

    with pytest.raises(SlackApiError) as refused:
        await client.oauth_v2_access(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, code=code)

    assert refused.value.response["error"] == "invalid_code"
    assert len(sandbox.bot_tokens("T0BETA")) == 1
