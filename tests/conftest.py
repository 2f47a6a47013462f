"""Shared fixtures: a real Redis (own server on a free port unless REDIS_URL is set)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator

import pytest
import redis


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for_redis(url: str, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            redis.Redis.from_url(url).ping()
            return
        except redis.RedisError as exc:
            last = exc
            time.sleep(0.05)
    raise RuntimeError(f"redis at {url} did not answer: {last}")


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A Redis every test may use. Fails (never skips) when none can be had."""
    given = os.environ.get("REDIS_URL")
    if given:
        try:
            _wait_for_redis(given, 5.0)
        except RuntimeError as exc:
            pytest.fail(f"REDIS_URL is set but unusable: {exc}")
        yield given
        return
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail(
            "redis-server is not installed and REDIS_URL is unset: the Redis tests must run"
        )
    port = free_port()
    workdir = tempfile.mkdtemp(prefix="reelbot-redis-")
    proc = subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            workdir,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        _wait_for_redis(url)
    except RuntimeError as exc:
        proc.kill()
        pytest.fail(f"could not start redis-server: {exc}")
    yield url
    proc.terminate()
    proc.wait(10)
    shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture
def redis_prefix() -> str:
    """A key prefix of its own for each test, so tests never see each other's keys."""
    return f"reelbot-test:{uuid.uuid4().hex[:12]}:"
