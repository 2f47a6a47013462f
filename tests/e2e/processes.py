"""Run `python -m bot run` as real processes against the test's sandbox, simulator and Redis."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx

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


def bot_env(**values: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "VIZARD_", "REELBOT_", "REDIS_", "POLL_"))
    }
    env.update(values)
    return env


async def start_bot(env: dict[str, str], log_path: Path) -> BotProcess:
    port = free_port()
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
