"""The JobStore over Redis: what several replicas share.

Layout, every key under `prefix`:

    job:{id}              hash: data (the Job as JSON), version (authoritative), provider,
                          ref (the indexed provider_ref), leased_until and lease_owner
                          (kept after a lease runs out, until its owner releases it)
    due:{provider}        sorted set: job id -> due time (the lease end while leased)
    active:{provider}     set: ids of the provider's jobs at the provider (in flight)
    finished              sorted set: job id -> finished_at, for terminal jobs in no due
                          set (what purge may delete)
    ref:{provider}:{ref}  string: the job id behind a provider's job id
    user:{user_id}        list: the user's job ids, newest first, at most 50 (purged ids
                          stay until pushed out; recent_for_user skips them)
    rate:{key}:{secs}     sorted set per rate window: unique member -> time taken (EXPIRE)
    pace:{key}            string: the next free time (EXPIRE, so idle keys vanish)
    shared:{key}          string: a provider's shared state or a cached catalog (PX)
    config:{team}         hash: the workspace's lasting settings (bot/store/team_config.py)
    unfinished:{team}     sorted set: the team's jobs not in a terminal state -> created_at
                          (team "-" for jobs without one), kept by add and save
    line:{provider}       sorted set: jobs waiting for their create -> when they joined
                          (bot/store/redis_line.py; "provider" is the account's line name)

Every change touching more than one key is one Lua script (bot/store/redis_scripts.py), so
no two replicas interleave inside it. Times always come from the caller, never from the
Redis clock, and the scripts pass them on as the caller's strings: Lua would print a
computed timestamp with 14 significant digits and lose the fraction.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Sequence
from typing import Any

import redis.asyncio
from redis.exceptions import RedisError

from bot.jobs import Job
from bot.store import redis_scripts as lua
from bot.store.base import ActiveJobs, InFlightFull
from bot.store.redis_line import RedisLine
from bot.store.redis_spend import RedisSpend
from bot.store.team_config import RedisTeamConfig
from providers.base import RateWindow

_USER_HISTORY = 50


def _text(value: Any) -> str:
    """A reply as str, whether or not the client decodes responses."""
    if isinstance(value, bytes):
        return value.decode()
    return str(value)


def _score(value: float) -> str:
    return repr(float(value))


def _optional_score(value: float | None) -> str:
    return "" if value is None else _score(value)


def _finished_score(job: Job) -> str:
    """finished_at for a terminal job (what purge goes by), else ""."""
    return _optional_score(job.finished_at) if job.terminal else ""


def _unfinished_score(job: Job) -> str:
    """created_at for a job not in a terminal state (the team's unfinished set), else ""."""
    return "" if job.terminal else _score(job.created_at)


def _flag(value: bool) -> str:
    return "1" if value else "0"


def _job(data: Any, version: Any) -> Job:
    job = Job.model_validate_json(_text(data))
    job.version = int(_text(version))
    return job


class RedisJobStore(RedisSpend, RedisTeamConfig, RedisLine):
    def __init__(self, client: redis.asyncio.Redis, prefix: str = "reelbot:") -> None:
        self._client = client
        self._prefix = prefix
        self._add = client.register_script(lua.ADD)
        self._save = client.register_script(lua.SAVE)
        self._claim_due = client.register_script(lua.CLAIM_DUE)
        self._claim = client.register_script(lua.CLAIM)
        self._renew = client.register_script(lua.RENEW)
        self._make_due = client.register_script(lua.MAKE_DUE)
        self._pace = client.register_script(lua.PACE)
        self._purge = client.register_script(lua.PURGE)
        self._take_rate_slot = client.register_script(lua.TAKE_RATE_SLOT)
        self._delete_if = client.register_script(lua.DELETE_IF)
        self._active_for_team = client.register_script(lua.ACTIVE_FOR_TEAM)

    @classmethod
    def from_url(
        cls, url: str, prefix: str = "reelbot:", *, max_connections: int = 512
    ) -> RedisJobStore:
        # Bounded waits: a hung Redis must not hold a Slack ack past its 3 s. A busy poller
        # waits for a free connection instead of failing with "Too many connections".
        pool = redis.asyncio.BlockingConnectionPool.from_url(
            url,
            decode_responses=True,
            socket_timeout=5.0,
            socket_connect_timeout=2.0,
            max_connections=max_connections,
            timeout=5.0,
        )
        return cls(redis.asyncio.Redis(connection_pool=pool), prefix)

    def _job_key(self, job_id: str) -> str:
        return f"{self._prefix}job:{job_id}"

    def _due_key(self, provider: str) -> str:
        return f"{self._prefix}due:{provider}"

    def _active_key(self, provider: str) -> str:
        return f"{self._prefix}active:{provider}"

    @property
    def _finished_key(self) -> str:
        return f"{self._prefix}finished"

    def _ref_key(self, provider: str, ref: str) -> str:
        return f"{self._prefix}ref:{provider}:{ref}"

    def _user_key(self, user_id: str) -> str:
        return f"{self._prefix}user:{user_id}"

    def _job_keys(self, job: Job) -> list[str]:
        """Job hash, due set, active set, finished set (the keys add and save share)."""
        return [
            self._job_key(job.id),
            self._due_key(job.provider),
            self._active_key(job.provider),
            self._finished_key,
        ]

    def _unfinished_key(self, team_id: str | None) -> str:
        return f"{self._prefix}unfinished:{team_id or '-'}"

    def _ref_keys(self, job: Job) -> list[str]:
        return [] if job.provider_ref is None else [self._ref_key(job.provider, job.provider_ref)]

    async def add(
        self, job: Job, *, owner: str | None = None, lease_until: float | None = None
    ) -> Job:
        if (owner is None) != (lease_until is None):
            raise ValueError("owner and lease_until go together")
        stored = job.model_copy(update={"version": 1})
        added = await self._add(
            keys=[
                *self._job_keys(job),
                self._user_key(job.user_id),
                self._unfinished_key(job.team_id),
                *self._ref_keys(job),
            ],
            args=[
                stored.model_dump_json(),
                job.id,
                _optional_score(job.next_run_at),
                job.provider,
                job.provider_ref or "",
                _USER_HISTORY,
                _flag(job.state.at_provider),
                _finished_score(job),
                owner or "",
                _optional_score(lease_until),
                _unfinished_score(job),
            ],
        )
        if not int(added):
            raise ValueError(f"job {job.id} already exists")
        return stored

    async def get(self, job_id: str) -> Job | None:
        data, version = await self._client.hmget(self._job_key(job_id), ["data", "version"])
        if data is None or version is None:
            return None
        return _job(data, version)

    async def save(
        self,
        job: Job,
        *,
        now: float,
        owner: str | None = None,
        release: bool = False,
        in_flight_limit: int | None = None,
    ) -> Job | None:
        stored = job.model_copy(update={"version": job.version + 1})
        reply = await self._save(
            keys=[*self._job_keys(job), self._unfinished_key(job.team_id), *self._ref_keys(job)],
            args=[
                job.version,
                stored.model_dump_json(),
                job.id,
                job.provider,
                job.provider_ref or "",
                _score(now),
                _optional_score(job.next_run_at),
                _flag(job.state.at_provider),
                _finished_score(job),
                owner or "",
                _flag(release),
                "" if in_flight_limit is None else in_flight_limit,
                _unfinished_score(job),
            ],
        )
        if reply is None:
            return None
        if isinstance(reply, list):
            if _text(reply[0]) == "full":
                raise InFlightFull(int(_text(reply[1])))
            raise ValueError(f"job {job.id} belongs to {_text(reply[1])}, not {job.provider}")
        stored.version = int(reply)
        return stored

    async def claim_due(
        self, provider: str, now: float, limit: int, lease_seconds: float, owner: str
    ) -> list[Job]:
        if limit <= 0:
            return []
        reply = await self._claim_due(
            keys=[self._due_key(provider)],
            args=[_score(now), limit, _score(now + lease_seconds), self._job_key(""), owner],
        )
        return [_job(reply[i + 1], reply[i + 2]) for i in range(0, len(reply), 3)]

    async def claim(self, job_id: str, now: float, lease_seconds: float, owner: str) -> Job | None:
        reply = await self._claim(
            keys=[self._job_key(job_id)],
            args=[_score(now), _score(now + lease_seconds), job_id, self._prefix, owner],
        )
        if reply is None:
            return None
        return _job(reply[0], reply[1])

    async def renew(self, job_id: str, owner: str, until: float) -> bool:
        renewed = await self._renew(
            keys=[self._job_key(job_id), self._finished_key],
            args=[owner, _score(until), job_id, self._prefix],
        )
        return bool(int(renewed))

    async def make_due(self, job_id: str, now: float) -> bool:
        found = await self._make_due(
            keys=[self._job_key(job_id)], args=[_score(now), job_id, self._prefix]
        )
        return bool(int(found))

    async def lease_end(self, job_id: str) -> float | None:
        value = await self._client.hget(self._job_key(job_id), "leased_until")
        return None if value in (None, b"", "") else float(_text(value))

    async def next_due(self, providers: Sequence[str]) -> float | None:
        if not providers:
            return None
        async with self._client.pipeline(transaction=False) as pipe:
            for provider in providers:
                pipe.zrange(self._due_key(provider), 0, 0, withscores=True)
            replies = await pipe.execute()
        firsts = [float(reply[0][1]) for reply in replies if reply]
        return min(firsts, default=None)

    async def queue_depth(self, provider: str, now: float) -> int:
        return int(await self._client.zcount(self._due_key(provider), "-inf", _score(now)))

    async def in_flight(self, provider: str) -> int:
        return int(await self._client.scard(self._active_key(provider)))

    async def find_by_ref(self, provider: str, ref: str) -> str | None:
        job_id = await self._client.get(self._ref_key(provider, ref))
        return None if job_id is None else _text(job_id)

    async def recent_for_user(self, user_id: str, limit: int = 10) -> list[Job]:
        if limit <= 0:
            return []
        ids = await self._client.lrange(self._user_key(user_id), 0, limit - 1)
        if not ids:
            return []
        async with self._client.pipeline(transaction=False) as pipe:
            for job_id in ids:
                pipe.hmget(self._job_key(_text(job_id)), ["data", "version"])
            replies = await pipe.execute()
        return [_job(data, version) for data, version in replies if data is not None]

    async def active_for_team(self, team_id: str | None, limit: int = 20) -> ActiveJobs:
        key = self._unfinished_key(team_id)
        if limit <= 0:
            return ActiveJobs([], int(await self._client.zcard(key)))
        reply = await self._active_for_team(keys=[key], args=[limit, self._job_key("")])
        jobs = [_job(reply[i + 1], reply[i + 2]) for i in range(1, len(reply), 3)]
        return ActiveJobs(jobs, int(reply[0]))

    async def take_rate_slot(self, key: str, windows: Sequence[RateWindow], now: float) -> float:
        if not windows:
            return 0.0
        keys = [f"{self._prefix}rate:{key}:{window.seconds}" for window in windows]
        args: list[str | int] = [_score(now), uuid.uuid4().hex]
        for window in windows:
            args += [
                _score(now - window.seconds),
                window.limit,
                window.seconds,
                math.ceil(window.seconds) + 1,
            ]
        wait = await self._take_rate_slot(keys=keys, args=args)
        return float(_text(wait))

    async def pace(self, key: str, interval: float, now: float, max_wait: float) -> float:
        wait = await self._pace(
            keys=[f"{self._prefix}pace:{key}"],
            args=[_score(now), _score(interval), _score(max_wait)],
        )
        return float(_text(wait))

    async def purge(self, before: float, limit: int = 500) -> int:
        if limit <= 0:
            return 0
        gone = await self._purge(
            keys=[self._finished_key], args=[_score(before), limit, self._prefix]
        )
        return int(gone)

    # --- shared state (providers.base.SharedState) -----------------------------------------
    def _shared_key(self, key: str) -> str:
        return f"{self._prefix}shared:{key}"

    async def shared_get(self, key: str) -> str | None:
        value = await self._client.get(self._shared_key(key))
        return None if value is None else _text(value)

    async def shared_put(self, key: str, value: str, ttl: float) -> None:
        await self._client.set(self._shared_key(key), value, px=max(1, math.ceil(ttl * 1000)))

    async def shared_put_new(self, key: str, value: str, ttl: float) -> bool:
        px = max(1, math.ceil(ttl * 1000))
        return bool(await self._client.set(self._shared_key(key), value, px=px, nx=True))

    async def shared_delete(self, key: str, value: str | None = None) -> bool:
        if value is None:
            return bool(await self._client.delete(self._shared_key(key)))
        return bool(await self._delete_if(keys=[self._shared_key(key)], args=[value]))

    async def purge_shared(self) -> int:
        return 0  # Redis expires shared keys itself (PX)

    async def ping(self) -> bool:
        try:
            return bool(await self._client.ping())
        except (RedisError, OSError):
            return False

    async def close(self) -> None:
        await self._client.aclose()
