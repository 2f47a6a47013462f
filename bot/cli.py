"""`reelbot run | demo | check` (and plain `reelbot`: run with Slack credentials, else demo)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys

from bot.logs import configure_logging
from bot.runtime import Runtime, StartupError
from bot.settings import Settings, SettingsError, load_settings


def _fail(message: str) -> int:
    print(f"reelbot: {message}", file=sys.stderr)
    return 2


async def _serve(settings: Settings) -> None:
    runtime = Runtime(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        # Some event loops (Windows) have no signal handlers; Ctrl-C still ends the run there.
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await runtime.start()
    try:
        await stop.wait()
    finally:
        await runtime.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="reelbot", description=__doc__)
    parser.add_argument(
        "command",
        nargs="?",
        choices=["run", "demo", "check"],
        help=(
            "default: run when SLACK_BOT_TOKEN (or SLACK_CLIENT_ID and SLACK_CLIENT_SECRET) "
            "is set, otherwise demo"
        ),
    )
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        return _fail(str(exc))
    command = args.command or ("run" if settings.has_slack else "demo")
    configure_logging(
        settings.log_level if command != "demo" else "WARNING",
        settings.secrets(),
        fmt=settings.log_format,
    )
    if command == "demo":
        from bot.demo import run_demo

        return asyncio.run(run_demo(sys.stdout, redis_url=settings.redis_url))
    try:
        settings.require_slack()
    except SettingsError as exc:
        return _fail(str(exc))
    if command == "check":
        from bot.check import run_check

        return asyncio.run(run_check(settings, sys.stdout))
    try:
        asyncio.run(_serve(settings))
    except KeyboardInterrupt:
        pass
    except OSError as exc:
        return _fail(f"cannot start: {exc.strerror or exc}")
    except StartupError as exc:
        return _fail(str(exc))
    return 0


if __name__ == "__main__":
    sys.exit(main())
