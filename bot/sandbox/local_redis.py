"""A Redis for tests and benchmarks: REDIS_URL when set, else a throwaway redis-server on a free
loopback port that keeps nothing on disk."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager

import redis


class NoRedis(RuntimeError):
    """No Redis could be had; the message says why."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_redis(url: str, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    last: Exception | None = None
    while time.monotonic() < deadline:
        client = redis.Redis.from_url(url, socket_timeout=1.0)
        try:
            if client.ping():
                return
        except (redis.RedisError, OSError) as exc:
            last = exc
        finally:
            client.close()
        time.sleep(0.05)
    raise NoRedis(f"redis at {url} did not answer within {seconds:g} s: {last}")


@contextmanager
def redis_server() -> Iterator[tuple[str, str]]:
    """Yields (url, where it came from)."""
    given = os.environ.get("REDIS_URL")
    if given:
        wait_for_redis(given, 5.0)
        yield given, "REDIS_URL"
        return
    binary = shutil.which("redis-server")
    if binary is None:
        raise NoRedis("redis-server is not on PATH and REDIS_URL is unset")
    port = free_port()
    workdir = tempfile.mkdtemp(prefix="reelbot-redis-")
    command = [
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
    ]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603
    url = f"redis://127.0.0.1:{port}/0"
    try:
        wait_for_redis(url)
        yield url, f"own redis-server on 127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        shutil.rmtree(workdir, ignore_errors=True)
