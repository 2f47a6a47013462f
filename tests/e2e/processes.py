"""Run `python -m bot run` as real processes against the test's sandbox, simulator and Redis."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx

from bot.sandbox import SlackSandbox
from bot.store import RedisJobStore
from providers.simulators.vizard import VizardSimulator
from tests.conftest import free_port

REPO = Path(__file__).resolve().parents[2]


@dataclass
class BotProcess:
    process: asyncio.subprocess.Process
    port: int
    log_path: Path
    log_file: IO[bytes]

    @property
    def events_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/slack/events"

    async def stop(self) -> None:
        if self.process.returncode is None:
            self.process.terminate()
            try:
                await asyncio.wait_for(self.process.wait(), 15)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
        self.log_file.close()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def freeze(self) -> None:
        """SIGSTOP: the process stops at once, mid-call, and hears no answer."""
        if self.process.returncode is None:
            os.kill(self.process.pid, signal.SIGSTOP)

    async def kill(self) -> None:
        """SIGKILL (after a freeze too): no handler runs, nothing is cleaned up."""
        if self.process.returncode is None:
            os.kill(self.process.pid, signal.SIGKILL)
        await self.process.wait()


def bot_env(**values: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(
            (
                "SLACK_",
                "VIZARD_",
                "HEYGEN_",
                "AISTUDIOS_",
                "REELBOT_",
                "REDIS_",
                "POLL_",
                "AVATAR_",
                "VIDDYSCRIBE_",
                "CUTTR_",
                "BUDGET_",
                "CLIP_",
                "RESULTS_",
            )
        )
    }
    env.update(values)
    return env


async def start_bot(env: dict[str, str], log_path: Path) -> BotProcess:
    port = int(env["PORT"]) if "PORT" in env else free_port()
    env = {**env, "PORT": str(port)}
    log_file = open(log_path, "wb")  # noqa: ASYNC230, SIM115 - closed in BotProcess.stop
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=log_file,
        stderr=log_file,
        cwd=REPO,
    )
    bot = BotProcess(process, port, log_path, log_file)
    deadline = time.monotonic() + 30
    async with httpx.AsyncClient() as http:
        while time.monotonic() < deadline:
            if process.returncode is not None:
                raise AssertionError(f"bot exited with {process.returncode}:\n{bot.log()}")
            try:
                if (await http.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200:
                    return bot
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    await bot.stop()
    raise AssertionError(f"bot did not become healthy:\n{bot.log()}")


BOT_TOKEN = "xoxb-1111111111-2222222222-KnownBotTokenValue42"
SIGNING_SECRET = "known-signing-secret-5f2a9c0d7e"
VIZARD_KEY = "known-vizard-key-8c1b7e93aa"


@dataclass
class Stage:
    """A Slack sandbox and a Vizard simulator in this process, and the environment that points
    `reelbot run` processes at them and at one Redis."""

    sandbox: SlackSandbox
    vizard: VizardSimulator
    redis_url: str
    prefix: str
    logs: Path

    def env(self, **extra: str) -> dict[str, str]:
        """The replicas' environment; `extra` adds to it or overrides it."""
        values = dict(
            SLACK_BOT_TOKEN=BOT_TOKEN,
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            SLACK_API_URL=self.sandbox.api_url,
            VIZARD_API_KEY=VIZARD_KEY,
            VIZARD_BASE_URL=self.vizard.base_url,
            REDIS_URL=self.redis_url,
            REELBOT_KEY_PREFIX=self.prefix,
            RESULTS_AS_FILES="false",
            POLL_TICK_SECONDS="0.2",
            POLL_MIN_SECONDS="0.3",
            POLL_MAX_SECONDS="1",
            VIZARD_PER_MINUTE="100000",
            VIZARD_PER_HOUR="1000000",
        )
        return bot_env(**(values | extra))

    def store(self) -> RedisJobStore:
        """The replicas' store, read from this process (close it when done)."""
        return RedisJobStore.from_url(self.redis_url, self.prefix)

    async def start(self, name: str, **extra: str) -> BotProcess:
        return await start_bot(self.env(**extra), self.logs / f"{name}.log")
