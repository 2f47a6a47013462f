"""One contract for both installation stores and both OAuth state stores (Redis, real; and
the SQLite file), with the semantics of slack_sdk's own SQLite3 store."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
import pytest_asyncio
import redis.asyncio
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.installation_store.models.bot import Bot
from slack_sdk.oauth.installation_store.models.installation import Installation
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore

from bot.oauth.records import TeamInstallationStore
from bot.oauth.redis_stores import RedisInstallationStore, RedisOAuthStateStore
from bot.oauth.sqlite_stores import OAuthDatabase, SqliteInstallationStore, SqliteOAuthStateStore

OpenInstallations = Callable[..., AsyncInstallationStore]
OpenStates = Callable[[float], AsyncOAuthStateStore]


@pytest_asyncio.fixture(params=["redis", "sqlite"])
async def opener(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[tuple[OpenInstallations, OpenStates]]:
    """Opens stores over the same data (another replica or process, each time)."""
    closers: list[Callable[[], object]] = []
    if request.param == "redis":
        url: str = request.getfixturevalue("redis_url")
        prefix: str = request.getfixturevalue("redis_prefix")

        def client() -> redis.asyncio.Redis:
            opened = redis.asyncio.Redis.from_url(url)
            closers.append(opened.aclose)
            return opened

        def installations(client_id: str = "111.222") -> AsyncInstallationStore:
            return RedisInstallationStore(client(), prefix, client_id)

        def states(seconds: float) -> AsyncOAuthStateStore:
            return RedisOAuthStateStore(client(), prefix, seconds)
    else:
        path = str(tmp_path / "db" / "reelbot.db")

        def database() -> OAuthDatabase:
            opened = OAuthDatabase(path)
            closers.append(opened.close)
            return opened

        def installations(client_id: str = "111.222") -> AsyncInstallationStore:
            return SqliteInstallationStore(database(), client_id)

        def states(seconds: float) -> AsyncOAuthStateStore:
            return SqliteOAuthStateStore(database(), seconds)

    yield installations, states
    for close in closers:
        result = close()
        if asyncio.iscoroutine(result):
            await result


@pytest.fixture
def store(opener: tuple[OpenInstallations, OpenStates]) -> AsyncInstallationStore:
    return opener[0]()


def _installation(
    team: str | None = "T0A",
    user: str = "U0ADMIN",
    *,
    bot_token: str | None = "xoxb-a-1",  # noqa: S107 - made up
    enterprise: str | None = None,
    org_wide: bool = False,
    installed_at: float = 1_700_000_000.0,
    user_token: str | None = None,
) -> Installation:
    return Installation(
        app_id="A0REELBOT",
        enterprise_id=enterprise,
        team_id=team,
        team_name=f"Team {team}",
        bot_token=bot_token,
        bot_id="B0BOT" if bot_token else None,
        bot_user_id="U0BOT" if bot_token else None,
        bot_scopes=["commands", "chat:write"] if bot_token else "",
        user_id=user,
        user_token=user_token,
        user_scopes=["search:read"] if user_token else "",
        is_enterprise_install=org_wide,
        token_type="bot",
        installed_at=installed_at,
    )


async def test_saved_installation_is_found_with_its_bot(store: AsyncInstallationStore) -> None:
    await store.async_save(_installation())

    bot = await store.async_find_bot(enterprise_id=None, team_id="T0A")
    found = await store.async_find_installation(enterprise_id=None, team_id="T0A")

    assert bot is not None and bot.bot_token == "xoxb-a-1"
    assert bot.bot_scopes == ["commands", "chat:write"] and bot.team_name == "Team T0A"
    assert found is not None and found.bot_token == "xoxb-a-1" and found.user_id == "U0ADMIN"
    assert found.installed_at == 1_700_000_000.0


async def test_nothing_is_found_for_a_workspace_never_installed(
    store: AsyncInstallationStore,
) -> None:
    await store.async_save(_installation())

    assert await store.async_find_bot(enterprise_id=None, team_id="T0OTHER") is None
    assert await store.async_find_installation(enterprise_id=None, team_id="T0OTHER") is None
    assert await store.async_find_bot(enterprise_id="E0ORG", team_id="T0A") is None


async def test_another_replica_sees_what_one_saved(
    opener: tuple[OpenInstallations, OpenStates],
) -> None:
    await opener[0]().async_save(_installation())

    bot = await opener[0]().async_find_bot(enterprise_id=None, team_id="T0A")

    assert bot is not None and bot.bot_token == "xoxb-a-1"


async def test_a_reinstall_replaces_the_bot_token(store: AsyncInstallationStore) -> None:
    await store.async_save(_installation(bot_token="xoxb-old"))
    await store.async_save(_installation(bot_token="xoxb-new", installed_at=1_700_000_100.0))

    bot = await store.async_find_bot(enterprise_id=None, team_id="T0A")

    assert bot is not None and bot.bot_token == "xoxb-new"


async def test_without_a_user_the_latest_installer_answers(store: AsyncInstallationStore) -> None:
    await store.async_save(_installation(user="U0FIRST", installed_at=100.0))
    await store.async_save(_installation(user="U0SECOND", installed_at=200.0))

    found = await store.async_find_installation(enterprise_id=None, team_id="T0A")
    first = await store.async_find_installation(
        enterprise_id=None, team_id="T0A", user_id="U0FIRST"
    )
    nobody = await store.async_find_installation(
        enterprise_id=None, team_id="T0A", user_id="U0NOBODY"
    )

    assert found is not None and found.user_id == "U0SECOND"
    assert first is not None and first.user_id == "U0FIRST"
    assert nobody is None


async def test_a_users_installation_carries_the_latest_bot_token(
    store: AsyncInstallationStore,
) -> None:
    await store.async_save(_installation(user="U0FIRST", bot_token="xoxb-old", installed_at=100.0))
    await store.async_save(_installation(user="U0SECOND", bot_token="xoxb-new", installed_at=200.0))

    first = await store.async_find_installation(
        enterprise_id=None, team_id="T0A", user_id="U0FIRST"
    )

    assert first is not None and first.user_id == "U0FIRST" and first.bot_token == "xoxb-new"


async def test_an_installation_without_a_bot_token_saves_no_bot(
    store: AsyncInstallationStore,
) -> None:
    await store.async_save(_installation(bot_token=None, user_token="xoxp-user"))

    assert await store.async_find_bot(enterprise_id=None, team_id="T0A") is None
    found = await store.async_find_installation(enterprise_id=None, team_id="T0A")
    assert found is not None and found.user_token == "xoxp-user" and found.bot_token is None


async def test_save_bot_alone(store: AsyncInstallationStore) -> None:
    bot = Bot(
        app_id="A0REELBOT", team_id="T0B", bot_token="xoxb-b", bot_id="B0B", bot_user_id="U0B",
        bot_scopes="commands,chat:write", installed_at=300.0,
    )  # fmt: skip
    await store.async_save_bot(bot)

    found = await store.async_find_bot(enterprise_id=None, team_id="T0B")

    assert found is not None and found.bot_token == "xoxb-b"
    assert found.bot_scopes == ["commands", "chat:write"]


async def test_org_wide_install_is_found_for_any_team_of_the_org(
    store: AsyncInstallationStore,
) -> None:
    await store.async_save(_installation(team=None, enterprise="E0ORG", org_wide=True))

    bot = await store.async_find_bot(
        enterprise_id="E0ORG", team_id="T0ANY", is_enterprise_install=True
    )
    found = await store.async_find_installation(
        enterprise_id="E0ORG", team_id=None, is_enterprise_install=True
    )

    assert bot is not None and bot.bot_token == "xoxb-a-1" and bot.is_enterprise_install
    assert found is not None and found.enterprise_id == "E0ORG"
    assert await store.async_find_bot(enterprise_id="E0ORG", team_id="T0ANY") is None


async def test_a_workspace_of_an_org_is_its_own_key(store: AsyncInstallationStore) -> None:
    await store.async_save(_installation(enterprise="E0ORG", bot_token="xoxb-grid"))
    await store.async_save(_installation(bot_token="xoxb-plain"))

    grid = await store.async_find_bot(enterprise_id="E0ORG", team_id="T0A")
    plain = await store.async_find_bot(enterprise_id=None, team_id="T0A")

    assert grid is not None and grid.bot_token == "xoxb-grid"
    assert plain is not None and plain.bot_token == "xoxb-plain"


async def test_delete_bot_leaves_the_installations(store: AsyncInstallationStore) -> None:
    await store.async_save(_installation())

    await store.async_delete_bot(enterprise_id=None, team_id="T0A")

    assert await store.async_find_bot(enterprise_id=None, team_id="T0A") is None
    assert await store.async_find_installation(enterprise_id=None, team_id="T0A") is not None


async def test_delete_installation_of_one_user(store: AsyncInstallationStore) -> None:
    await store.async_save(_installation(user="U0FIRST", installed_at=100.0))
    await store.async_save(_installation(user="U0SECOND", installed_at=200.0))

    await store.async_delete_installation(enterprise_id=None, team_id="T0A", user_id="U0SECOND")

    assert (
        await store.async_find_installation(enterprise_id=None, team_id="T0A", user_id="U0SECOND")
        is None
    )
    left = await store.async_find_installation(enterprise_id=None, team_id="T0A")
    assert left is not None and left.user_id == "U0FIRST"


async def test_delete_installation_without_user_removes_every_installer(
    store: AsyncInstallationStore,
) -> None:
    await store.async_save(_installation(user="U0FIRST"))
    await store.async_save(_installation(user="U0SECOND"))

    await store.async_delete_installation(enterprise_id=None, team_id="T0A")

    assert await store.async_find_installation(enterprise_id=None, team_id="T0A") is None


async def test_delete_all_removes_one_workspace_only(store: AsyncInstallationStore) -> None:
    await store.async_save(_installation(team="T0A", bot_token="xoxb-a"))
    await store.async_save(_installation(team="T0B", bot_token="xoxb-b"))

    await store.async_delete_all(enterprise_id=None, team_id="T0A")

    assert await store.async_find_bot(enterprise_id=None, team_id="T0A") is None
    assert await store.async_find_installation(enterprise_id=None, team_id="T0A") is None
    other = await store.async_find_bot(enterprise_id=None, team_id="T0B")
    assert other is not None and other.bot_token == "xoxb-b"


async def test_apps_with_other_client_ids_do_not_share_installations(
    opener: tuple[OpenInstallations, OpenStates],
) -> None:
    await opener[0]("111.222").async_save(_installation())

    other = opener[0]("333.444")

    assert await other.async_find_bot(enterprise_id=None, team_id="T0A") is None


async def test_a_state_is_consumed_once(opener: tuple[OpenInstallations, OpenStates]) -> None:
    states = opener[1](60.0)
    state = await states.async_issue()
    other = await states.async_issue()

    assert state != other and len(state) >= 20
    assert await opener[1](60.0).async_consume(state) is True  # another replica
    assert await states.async_consume(state) is False
    assert await states.async_consume(other) is True


async def test_unknown_state_is_refused(opener: tuple[OpenInstallations, OpenStates]) -> None:
    states = opener[1](60.0)

    assert await states.async_consume("made-up-state") is False
    assert await states.async_consume("") is False


async def test_an_expired_state_is_refused(opener: tuple[OpenInstallations, OpenStates]) -> None:
    states = opener[1](0.3)
    state = await states.async_issue()

    await asyncio.sleep(0.5)

    assert await states.async_consume(state) is False


async def test_a_workspace_is_found_by_its_team_id_alone_in_an_org_or_not(
    store: AsyncInstallationStore,
) -> None:
    assert isinstance(store, TeamInstallationStore)
    await store.async_save(_installation(team="T0GRID", enterprise="E0ORG", bot_token="xoxb-g"))
    await store.async_save(_installation(team="T0PLAIN", bot_token="xoxb-p"))
    await store.async_save(_installation(team=None, enterprise="E0ORG", org_wide=True))

    grid = await store.async_find_bot_for_team("T0GRID")
    plain = await store.async_find_bot_for_team("T0PLAIN")

    assert grid is not None and grid.bot_token == "xoxb-g" and grid.enterprise_id == "E0ORG"
    assert plain is not None and plain.bot_token == "xoxb-p"
    assert await store.async_find_bot_for_team("T0NEVER") is None
    assert await store.async_find_bot_for_team("") is None
    await store.async_delete_all(enterprise_id="E0ORG", team_id="T0GRID")
    assert await store.async_find_bot_for_team("T0GRID") is None
