"""Logging set-up: every line passes a redactor, so no secret reaches a log. With
LOG_FORMAT=json, one JSON object a line, carrying the job a line is about (its id, team,
provider and state, set for each turn by `about`)."""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from bot.jobs import Job

_ABOUT: contextvars.ContextVar[dict[str, str | None] | None] = contextvars.ContextVar(
    "reelbot_job", default=None
)


def state_in_turn() -> str | None:
    """The state this task last knew its job in (see `about`)."""
    known = _ABOUT.get()
    return None if known is None else known.get("state")


def about(job: Job) -> None:
    """The job this task's log lines are about, from now on (a turn is one task)."""
    _ABOUT.set(
        {"job": job.id, "team": job.team_id, "provider": job.provider, "state": job.state.value}
    )


REDACTED = "[redacted]"
# Secrets learnt while running (a workspace's own provider keys), redacted like configured ones.
_LEARNT: set[str] = set()


def redact_also(secrets: Iterable[str]) -> None:
    """Redact these from every log line from now on (the configured secrets always are)."""
    _LEARNT.update(s for s in secrets if len(s) >= 4)


# Slack token shapes, in case one arrives that is not among the configured secrets.
_TOKEN_SHAPES = re.compile(r"\bxox[abposr]-[A-Za-z0-9-]+|\bxapp-[A-Za-z0-9-]+")


class RedactingFormatter(logging.Formatter):
    """Formats as usual, then removes every known secret from the whole text (tracebacks too)."""

    def __init__(self, secrets: Iterable[str], fmt: str | None = None) -> None:
        super().__init__(fmt or "%(asctime)s %(levelname)s %(name)s: %(message)s")
        # Longest first, so a secret containing another is removed whole.
        self._secrets = sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        for secret in sorted(_LEARNT, key=len, reverse=True):
            text = text.replace(secret, REDACTED)
        return _TOKEN_SHAPES.sub(REDACTED, text)

    def format(self, record: logging.LogRecord) -> str:
        return self.redact(super().format(record))


class JsonFormatter(RedactingFormatter):
    """One JSON object a line: time, level, logger, message, the job it is about, and the
    traceback when there is one; redacted like every other line."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        line |= {k: v for k, v in (_ABOUT.get() or {}).items() if v is not None}
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return self.redact(json.dumps(line, ensure_ascii=False))


def configure_logging(
    level: str, secrets: Iterable[str], stream: TextIO | None = None, fmt: str = "text"
) -> None:
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter(secrets) if fmt == "json" else RedactingFormatter(secrets))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # Third-party chatter stays at INFO unless asked for.
    if level != "DEBUG":
        for name in ("apscheduler", "httpx", "aiohttp.access", "slack_bolt", "slack_sdk"):
            logging.getLogger(name).setLevel(logging.WARNING)
