"""`reelbot check` as an operator runs it: a real process against the Slack sandbox, all five
provider simulators and Redis on loopback. All green exits 0; each failure is named in its row
and exits 1; no secret is ever printed."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest_asyncio

from bot.check import run_checks
from bot.demo import loopback_settings
from bot.sandbox import SlackSandbox
from providers.simulators.aistudios import AIStudiosSimulator
from providers.simulators.cuttr import CuttrSimulator
from providers.simulators.heygen import HeyGenSimulator
from providers.simulators.viddyscribe import ViddyScribeSimulator
from providers.simulators.vizard import VizardSimulator
from tests.conftest import free_port
from tests.e2e.processes import REPO, bot_env

BOT_TOKEN = "xoxb-1111-2222-CheckBotTokenValue71"
APP_TOKEN = "xapp-1-A0REELBOT-1-CheckAppTokenValue71"
# Slack's signing secrets are 32 hexadecimal characters.
SIGNING_SECRET = "7c0ffee5d1e2a3b4c5d6e7f8091a2b3c"
VIZARD_KEY = "vizard-check-key-71a"
CUTTR_KEY = "cuttr_check_key_71b"
HEYGEN_KEY = "heygen-check-key-71c"
AISTUDIOS_APP_ID = "check-app-71d"
AISTUDIOS_USER_KEY = "aistudios-user-key-71e"
VIDDYSCRIBE_KEY = "vsk_check_key_71f"
SECRETS = (
    BOT_TOKEN,
    APP_TOKEN,
    SIGNING_SECRET,
    VIZARD_KEY,
    CUTTR_KEY,
    HEYGEN_KEY,
    AISTUDIOS_USER_KEY,
    VIDDYSCRIBE_KEY,
)
# The manifest's bot scopes, as the sandbox grants them at install.
ROWS = (
    "Slack bot token",
    "Slack scopes",
    "Slack signing secret",
    "Store",
    "Vizard key",
    "Cuttr key",
    "HeyGen key",
    "AI Studios key",
    "ViddyScribe key",
)


@dataclass
class Checked:
    code: int
    out: str
    err: str

    def row(self, what: str) -> str:
        """The table line for `what` (its name, then OK or FAIL, then the detail)."""
        found = [line for line in self.out.splitlines() if line.startswith(what + "  ")]
        assert len(found) == 1, self.out
        return found[0]

    def ok(self, what: str) -> bool:
        return self.row(what).removeprefix(what).split()[0] == "OK"

    def failed(self, what: str) -> bool:
        return self.row(what).removeprefix(what).split()[0] == "FAIL"


@dataclass
class World:
    sandbox: SlackSandbox
    vizard: VizardSimulator
    cuttr: CuttrSimulator
    heygen: HeyGenSimulator
    aistudios: AIStudiosSimulator
    viddyscribe: ViddyScribeSimulator
    redis_url: str
    prefix: str

    def env(self, **extra: str) -> dict[str, str]:
        values = dict(
            PYTHONPATH=str(REPO),
            SLACK_BOT_TOKEN=BOT_TOKEN,
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            SLACK_API_URL=self.sandbox.api_url,
            REDIS_URL=self.redis_url,
            REELBOT_KEY_PREFIX=self.prefix,
            VIZARD_API_KEY=VIZARD_KEY,
            VIZARD_BASE_URL=self.vizard.base_url,
            CUTTR_API_KEY=CUTTR_KEY,
            CUTTR_BASE_URL=self.cuttr.base_url,
            HEYGEN_API_KEY=HEYGEN_KEY,
            HEYGEN_BASE_URL=self.heygen.base_url,
            AISTUDIOS_APP_ID=AISTUDIOS_APP_ID,
            AISTUDIOS_USER_KEY=AISTUDIOS_USER_KEY,
            AISTUDIOS_BASE_URL=self.aistudios.base_url,
            VIDDYSCRIBE_API_KEY=VIDDYSCRIBE_KEY,
            VIDDYSCRIBE_BASE_URL=self.viddyscribe.base_url,
        )
        return bot_env(**(values | extra))

    async def check(self, **extra: str) -> Checked:
        """`reelbot check` in its own process; this loop keeps serving while it runs."""
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "check",
            env=self.env(**extra),
            cwd=REPO,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        async with asyncio.timeout(60):
            out, err = await process.communicate()
        assert process.returncode is not None
        checked = Checked(process.returncode, out.decode(), err.decode())
        # Secrets given here carry "zz9"; none may show, nor any of the usual ones.
        for secret in (*SECRETS, *(v for v in extra.values() if "zz9" in v)):
            assert secret not in checked.out + checked.err
        assert "Traceback" not in checked.err, checked.err
        return checked


@pytest_asyncio.fixture
async def world(redis_url: str, redis_prefix: str) -> AsyncIterator[World]:
    sandbox = SlackSandbox(bot_token=BOT_TOKEN, app_token=APP_TOKEN)
    simulators = (
        VizardSimulator(VIZARD_KEY),
        CuttrSimulator(CUTTR_KEY),
        HeyGenSimulator(HEYGEN_KEY),
        AIStudiosSimulator(AISTUDIOS_APP_ID, AISTUDIOS_USER_KEY),
        ViddyScribeSimulator(VIDDYSCRIBE_KEY),
    )
    await sandbox.start()
    for simulator in simulators:
        await simulator.start()
    yield World(sandbox, *simulators, redis_url=redis_url, prefix=redis_prefix)
    for simulator in simulators:
        await simulator.stop()
    await sandbox.stop()


async def test_check_against_the_sandbox_and_every_simulator_is_all_ok(world: World) -> None:
    checked = await world.check()
    assert checked.code == 0, checked.out + checked.err
    for what in ROWS:
        assert checked.ok(what), checked.out
    assert "FAIL" not in checked.out
    assert f"All {len(ROWS)} checks passed." in checked.out
    # Each check really asked: Slack once for the token, each provider once with its key.
    assert [c.method for c in world.sandbox.calls] == ["auth.test"]
    assert world.vizard.queries == 1
    assert world.heygen.list_calls["looks"] == 1
    assert world.vizard.create_attempts == world.cuttr.create_attempts == 0
    assert world.heygen.create_attempts == 0
    assert "Redis at 127.0.0.1:" in checked.row("Store")


async def test_a_wrong_provider_key_names_that_provider_and_exits_1(world: World) -> None:
    checked = await world.check(CUTTR_API_KEY="cuttr_wrong_key_zz9")
    assert checked.code == 1
    assert checked.failed("Cuttr key")
    assert "CUTTR_API_KEY" in checked.row("Cuttr key")
    for what in ROWS:
        if what != "Cuttr key":
            assert checked.ok(what), checked.out
    assert "1 of 9 checks failed: Cuttr key." in checked.out
    assert world.cuttr.create_attempts == 0


async def test_a_wrong_ai_studios_user_key_is_named(world: World) -> None:
    checked = await world.check(AISTUDIOS_USER_KEY="aistudios-wrong-user-key-zz9")
    assert checked.code == 1
    assert checked.failed("AI Studios key")
    assert "AISTUDIOS_USER_KEY" in checked.row("AI Studios key")
    assert checked.ok("Vizard key") and checked.ok("HeyGen key")


async def test_a_scope_the_token_lacks_is_named(world: World) -> None:
    world.sandbox.bot_scopes.remove("files:read")
    world.sandbox.bot_scopes.remove("im:history")
    checked = await world.check()
    assert checked.code == 1
    assert checked.ok("Slack bot token")
    assert checked.failed("Slack scopes")
    assert "files:read" in checked.row("Slack scopes")
    assert "im:history" in checked.row("Slack scopes")
    assert "chat:write" not in checked.row("Slack scopes")


CLIENT_ID = "1111.2222"
CLIENT_SECRET = "c1e4750f00dbeefcafe0123456789abc"


async def test_many_workspaces_check_the_client_credentials_and_requested_scopes(
    world: World,
) -> None:
    world.sandbox.enable_oauth(CLIENT_ID, CLIENT_SECRET)
    oauth = {"SLACK_BOT_TOKEN": "", "SLACK_CLIENT_ID": CLIENT_ID}
    checked = await world.check(**oauth, SLACK_CLIENT_SECRET=CLIENT_SECRET)
    assert checked.code == 0, checked.out + checked.err
    assert checked.ok("Slack client id and secret") and checked.ok("Slack scopes")
    assert "Slack bot token" not in checked.out
    assert CLIENT_SECRET not in checked.out + checked.err
    exchanges = world.sandbox.calls_to("oauth.v2.access")
    assert [c.error for c in exchanges] == ["invalid_code"], "nothing was installed"

    wrong = await world.check(**oauth, SLACK_CLIENT_SECRET="0000000000000000000000000wrongzz9")
    assert wrong.code == 1
    assert wrong.failed("Slack client id and secret")
    assert "bad_client_secret" in wrong.row("Slack client id and secret")
    assert "SLACK_CLIENT_SECRET" in wrong.row("Slack client id and secret")
    unknown = await world.check(
        SLACK_BOT_TOKEN="", SLACK_CLIENT_ID="9999.0000", SLACK_CLIENT_SECRET=CLIENT_SECRET
    )
    assert unknown.code == 1 and "SLACK_CLIENT_ID" in unknown.row("Slack client id and secret")

    short = await world.check(
        **oauth, SLACK_CLIENT_SECRET=CLIENT_SECRET, SLACK_SCOPES="commands,chat:write"
    )
    assert short.code == 1
    assert short.failed("Slack scopes") and "files:write" in short.row("Slack scopes")
    assert short.ok("Slack client id and secret")


async def test_a_refused_bot_token_is_named(world: World) -> None:
    checked = await world.check(SLACK_BOT_TOKEN="xoxb-9-9-SomebodyElsesTokenZz9")
    assert checked.code == 1
    assert checked.failed("Slack bot token")
    assert "invalid_auth" in checked.row("Slack bot token")
    assert checked.failed("Slack scopes")
    assert checked.ok("Vizard key")


async def test_an_unreachable_redis_or_provider_is_named_without_a_password(
    world: World,
) -> None:
    port, vizard_port = free_port(), free_port()
    checked = await world.check(
        REDIS_URL=f"redis://:redis-password-zz9@127.0.0.1:{port}/2",
        VIZARD_BASE_URL=f"http://127.0.0.1:{vizard_port}/api",
    )
    assert checked.code == 1
    assert checked.failed("Store")
    assert f"127.0.0.1:{port}/2" in checked.row("Store")
    assert checked.failed("Vizard key")
    assert f"127.0.0.1:{vizard_port}" in checked.row("Vizard key")
    assert "2 of 9 checks failed: Store, Vizard key." in checked.out
    assert checked.ok("Slack bot token") and checked.ok("HeyGen key")


async def test_socket_mode_checks_the_app_token_instead_of_the_signing_secret(
    world: World,
) -> None:
    good = await world.check(SLACK_APP_TOKEN=APP_TOKEN, SLACK_SIGNING_SECRET="")
    assert good.code == 0, good.out
    assert good.ok("Slack app token")
    assert "Slack signing secret" not in good.out
    assert "apps.connections.open" in [c.method for c in world.sandbox.calls]

    wrong = await world.check(
        SLACK_APP_TOKEN="xapp-1-A0REELBOT-1-NotThisOneZz9", SLACK_SIGNING_SECRET=""
    )
    assert wrong.code == 1
    assert wrong.failed("Slack app token")
    assert "invalid_auth" in wrong.row("Slack app token")


async def test_checks_run_at_once_and_a_silent_provider_times_out_alone(
    world: World, tmp_path: Path
) -> None:
    world.vizard.inject("query", "timeout", delay=30)
    world.cuttr.inject("test", "timeout", delay=30)
    settings = loopback_settings(
        world.sandbox,
        world.vizard,
        SIGNING_SECRET,
        cuttr=world.cuttr,
        heygen=world.heygen,
        reelbot_db=str(tmp_path / "reelbot.db"),
    )
    started = time.monotonic()
    rows = {row.what: row for row in await run_checks(settings, seconds=1.5)}
    elapsed = time.monotonic() - started
    assert elapsed < 2.9, "two silent providers waited out one after the other"
    for silent in ("Vizard key", "Cuttr key"):
        assert not rows[silent].ok
        assert rows[silent].detail == "no answer within 1.5 s"
    for fine in ("Slack bot token", "Slack scopes", "Store", "HeyGen key"):
        assert rows[fine].ok, rows[fine]
