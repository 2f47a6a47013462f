"""`reelbot demo`: the whole flow on loopback with no account: Slack sandbox, every provider's
simulator, the bot, a request to each provider (a priced one confirmed), and the channel
printed as a person would read it."""

from __future__ import annotations

import asyncio
import contextlib
import re
import secrets
import tempfile
import time
from pathlib import Path
from typing import Any, TextIO

from bot import ids
from bot.jobs import JobState
from bot.runtime import Runtime
from bot.sandbox import SlackRequests, SlackSandbox, render_channel
from bot.sandbox.transcript import render_ephemerals
from bot.settings import Settings, load_settings
from providers.simulators.aistudios import AIStudiosSimulator
from providers.simulators.cuttr import CuttrSimulator
from providers.simulators.heygen import HeyGenSimulator
from providers.simulators.viddyscribe import ViddyScribeSimulator
from providers.simulators.vizard import VizardSimulator

CHANNEL = "C0GENERAL"
USER = "U0ALICE"
DEMO_COMMANDS = (
    ("/clip", "ftp://files.example.com/talk.mp4"),
    (
        "/clip",
        'https://videos.example.com/all-hands.mp4 lang=en length=1,2 name="All-hands highlights"',
    ),
    ("/avatar", "Welcome to the team! Your first week starts with a tour at 10."),
    ("/avatar", 'provider=aistudios title="Q3 update" Revenue grew 12% this quarter.'),
    ("/describe", "https://videos.example.com/all-hands.mp4 lang=en-US category=Documentary"),
    ("/clip", "https://videos.example.com/all-hands.mp4 provider=cuttr clips=2 style=business"),
)
# The simulators' own avatars and voices, as a workspace admin would set its defaults.
DEMO_DEFAULTS: dict[str, Any] = {
    "heygen_default_avatar_id": "Tyler-incasualsuit-20220721",
    "heygen_default_voice_id": "2d5b0e6cf36f460aa7fc47e3eee4ba54",
    "aistudios_default_model_id": "M000045058",
    "aistudios_default_clothes_id": "BG00002320",
}


def loopback_settings(
    sandbox: SlackSandbox,
    simulator: VizardSimulator,
    signing_secret: str,
    *,
    heygen: HeyGenSimulator | None = None,
    aistudios: AIStudiosSimulator | None = None,
    viddyscribe: ViddyScribeSimulator | None = None,
    cuttr: CuttrSimulator | None = None,
    **overrides: Any,
) -> Settings:
    """Settings that point the bot at a local Slack and the provider simulators given,
    polling fast. The environment and `.env` are ignored: a loopback stack must not reach a
    real workspace or provider."""
    avatar: dict[str, Any] = {
        "heygen_api_key": None,
        "aistudios_app_id": None,
        "aistudios_user_key": None,
        "viddyscribe_api_key": None,
        "cuttr_api_key": None,
    }
    if cuttr is not None:
        avatar |= {"cuttr_api_key": cuttr.api_key, "cuttr_base_url": cuttr.base_url}
    if heygen is not None:
        avatar |= {"heygen_api_key": heygen.api_key, "heygen_base_url": heygen.base_url}
    if viddyscribe is not None:
        avatar |= {
            "viddyscribe_api_key": viddyscribe.api_key,
            "viddyscribe_base_url": viddyscribe.base_url,
        }
    if aistudios is not None:
        avatar |= {
            "aistudios_app_id": aistudios.app_id,
            "aistudios_user_key": aistudios.user_key,
            "aistudios_base_url": aistudios.base_url,
        }
    values: dict[str, Any] = {
        **avatar,
        "slack_bot_token": sandbox.bot_token,
        "slack_signing_secret": signing_secret,
        "slack_app_token": None,
        "slack_api_url": sandbox.api_url,
        "vizard_api_key": simulator.api_key,
        "vizard_base_url": simulator.base_url,
        "redis_url": None,
        "public_url": None,
        "poll_tick_seconds": 0.5,
        "poll_min_seconds": 0.5,
        "poll_max_seconds": 1.0,
        # The sandbox does not limit posts; Slack's own pace (1 a second) would only slow this.
        "slack_channel_posts_per_second": 20.0,
        # Each result as a link reply only, unless a test or the demo asks for files too.
        "results_as_files": False,
        "_env_file": None,
        **overrides,
    }
    return load_settings(**values)


async def run_demo(out: TextIO, *, redis_url: str | None = None, wait_seconds: float = 60.0) -> int:
    async with contextlib.AsyncExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="reelbot-demo-")))
        sandbox = SlackSandbox()
        await sandbox.start()
        stack.push_async_callback(sandbox.stop)
        simulator = VizardSimulator(clips_per_job=3, render_seconds=2.0)
        heygen = HeyGenSimulator(render_seconds=2.0)
        aistudios = AIStudiosSimulator(render_seconds=2.0)
        viddyscribe = ViddyScribeSimulator(render_seconds=2.0)
        cuttr = CuttrSimulator(render_seconds=2.0)
        for each in (simulator, heygen, aistudios, viddyscribe, cuttr):
            await each.start()
            stack.push_async_callback(each.stop)
        signing_secret = secrets.token_hex(16)
        settings = loopback_settings(
            sandbox,
            simulator,
            signing_secret,
            heygen=heygen,
            aistudios=aistudios,
            viddyscribe=viddyscribe,
            cuttr=cuttr,
            **DEMO_DEFAULTS,
            redis_url=redis_url,
            reelbot_db=str(workdir / "demo.db"),
            key_prefix=f"reelbot-demo:{secrets.token_hex(4)}:",
        )
        runtime = Runtime(settings)
        port = await runtime.start("127.0.0.1", 0)
        stack.push_async_callback(runtime.stop)
        slack = SlackRequests(f"http://127.0.0.1:{port}/slack/events", signing_secret, sandbox)
        stack.push_async_callback(slack.aclose)
        outcome = await _converse(out, runtime, sandbox, slack, wait_seconds)
    return outcome


async def _converse(
    out: TextIO, runtime: Runtime, sandbox: SlackSandbox, slack: SlackRequests, wait: float
) -> int:
    for command, text in DEMO_COMMANDS:
        out.write(f"alice types: {command} {text}\n")
        answer = await slack.slash_command(command, text, user_id=USER, channel_id=CHANNEL)
        if answer.status_code != 200:
            out.write(f"Slack got HTTP {answer.status_code}\n")
            return 1
        if answer.content:
            out.write(f"  (only alice sees) {answer.json().get('text', '')}\n")
    await _confirm_priced(out, runtime, slack, wait)
    finished = await _wait_until_done(runtime, wait)
    out.write("\n" + render_channel(sandbox, CHANNEL, users={USER: "alice"}) + "\n")
    for history in _root_histories(sandbox):
        out.write("\nA status message was updated in place: " + " → ".join(history) + "\n")
    extra = render_ephemerals(sandbox, USER)
    if extra.strip():
        out.write("\n" + extra + "\n")
    if not finished:
        out.write(f"\nThe job did not finish within {wait:.0f} s.\n")
        return 1
    return 0


async def _confirm_priced(
    out: TextIO, runtime: Runtime, slack: SlackRequests, wait_seconds: float
) -> None:
    """Alice confirms each priced request once its price is posted."""
    deadline = time.monotonic() + wait_seconds
    while time.monotonic() < deadline:
        jobs = await runtime.store.recent_for_user(USER, 10)
        waiting = [j for j in jobs if j.state is JobState.AWAITING_CONFIRMATION]
        if not waiting:
            return
        for job in waiting:
            if job.root_ts is None:
                continue
            out.write(f"alice clicks Confirm ({job.notice})\n")
            await slack.block_action(
                ids.CONFIRM_ACTION, job.id, user_id=USER, channel_id=CHANNEL,
                message_ts=job.root_ts,
            )  # fmt: skip
        await asyncio.sleep(0.2)


def _state_line(blocks: list[dict[str, Any]]) -> str:
    text = str(blocks[1]["text"]["text"]) if len(blocks) > 1 else ""
    first = text.split("\n", 1)[0].replace("*", "")
    return re.sub(r":[a-z_]+:\s*", "", first).strip()


def _root_histories(sandbox: SlackSandbox) -> list[list[str]]:
    posts = [
        c
        for c in sandbox.calls_to("chat.postMessage")
        if c.params.get("channel") == CHANNEL and not c.params.get("thread_ts")
    ]
    histories = []
    for root, first in zip(sandbox.roots(CHANNEL), posts, strict=False):
        versions = [first.params.get("blocks") or []] + [e.blocks for e in root.edits]
        lines = [_state_line(list(v)) for v in versions]
        histories.append([line for n, line in enumerate(lines) if n == 0 or line != lines[n - 1]])
    return histories


async def _wait_until_done(runtime: Runtime, wait_seconds: float) -> bool:
    deadline = time.monotonic() + wait_seconds
    while time.monotonic() < deadline:
        jobs = await runtime.store.recent_for_user(USER, 5)
        if jobs and all(j.settled for j in jobs):
            return True
        await asyncio.sleep(0.2)
    return False
