"""Shared fixtures: a real Redis (own server on a free port unless REDIS_URL is set)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from bot.sandbox.local_redis import NoRedis, free_port, redis_server

__all__ = ["free_port"]


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A Redis every test may use. Fails (never skips) when none can be had."""
    try:
        with redis_server() as (url, _):
            yield url
    except NoRedis as exc:
        pytest.fail(f"the Redis tests must run, but no Redis could be had: {exc}")


@pytest.fixture
def redis_prefix() -> str:
    """A key prefix of its own for each test, so tests never see each other's keys."""
    return f"reelbot-test:{uuid.uuid4().hex[:12]}:"
