"""TeamWebClient against the Slack sandbox: each call carries the bot token of the workspace in
hand, a workspace without an installation is refused before any call, and a token Slack
refuses is looked up again."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from slack_sdk.errors import SlackApiError
from slack_sdk.oauth.installation_store.models.bot import Bot

from bot.oauth.sqlite_stores import OAuthDatabase, SqliteInstallationStore
from bot.oauth.teams import NOT_INSTALLED, TeamTokens, TeamWebClient, for_team
from bot.sandbox import SlackSandbox

BETA = "T0BETA"


@pytest_asyncio.fixture
async def sandbox() -> AsyncIterator[SlackSandbox]:
    box = SlackSandbox()
    box.enable_oauth("1.2", "secret")
    box.add_workspace(BETA, "Beta Corp")
    box.add_channel("C0BETA", "beta", team=BETA)
    await box.start()
    yield box
    await box.stop()


@pytest_asyncio.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteInstallationStore]:
    database = OAuthDatabase(str(tmp_path / "reelbot.db"))
    yield SqliteInstallationStore(database, "1.2")
    await database.close()


async def _install(sandbox: SlackSandbox, store: SqliteInstallationStore, team: str) -> str:
    answer = await TeamWebClient(TeamTokens(store), base_url=sandbox.api_url).oauth_v2_access(
        client_id="1.2", client_secret="secret", code=sandbox.authorize(team, "U0")
    )
    token = str(answer["access_token"])
    await store.async_save_bot(
        Bot(team_id=team, bot_token=token, bot_id="B0", bot_user_id="U0BOT", installed_at=1.0)
    )
    return token


async def test_each_call_carries_the_token_of_the_workspace_in_hand(
    sandbox: SlackSandbox, store: SqliteInstallationStore
) -> None:
    await _install(sandbox, store, BETA)
    await _install(sandbox, store, sandbox.team_id)
    client = TeamWebClient(TeamTokens(store), base_url=sandbox.api_url)

    with for_team(BETA):
        await client.chat_postMessage(channel="C0BETA", text="for beta")
    with for_team(sandbox.team_id):
        await client.chat_postMessage(channel="C0GENERAL", text="for alpha")

    posts = sandbox.calls_to("chat.postMessage")
    assert [(c.params["channel"], c.team, c.error) for c in posts] == [
        ("C0BETA", BETA, None),
        ("C0GENERAL", sandbox.team_id, None),
    ]


@pytest.mark.parametrize("team", [None, "T0NEVER"])
async def test_a_workspace_without_an_installation_is_refused_before_any_call(
    sandbox: SlackSandbox, store: SqliteInstallationStore, team: str | None
) -> None:
    client = TeamWebClient(TeamTokens(store), base_url=sandbox.api_url)

    with for_team(team), pytest.raises(SlackApiError) as refused:
        await client.chat_postMessage(channel="C0GENERAL", text="nobody's")

    assert refused.value.response["error"] == NOT_INSTALLED
    assert sandbox.calls == []


async def test_a_token_of_the_call_itself_is_left_alone(
    sandbox: SlackSandbox, store: SqliteInstallationStore
) -> None:
    client = TeamWebClient(TeamTokens(store), base_url=sandbox.api_url)

    answer = await client.auth_test(token=sandbox.bot_token)

    assert answer["team_id"] == sandbox.team_id


async def test_a_token_slack_refuses_is_looked_up_again(
    sandbox: SlackSandbox, store: SqliteInstallationStore
) -> None:
    await _install(sandbox, store, BETA)
    client = TeamWebClient(TeamTokens(store, ttl=3600), base_url=sandbox.api_url)
    with for_team(BETA):
        await client.auth_test()
        sandbox.uninstall(BETA)
        await _install(sandbox, store, BETA)  # reinstalled: a new token in the store
        with pytest.raises(SlackApiError) as refused:
            await client.auth_test()  # the kept token is refused once...
        answer = await client.auth_test()  # ...then the new one is read
    assert refused.value.response["error"] == "invalid_auth"
    assert answer["team_id"] == BETA
