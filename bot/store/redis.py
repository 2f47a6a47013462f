"""The JobStore over Redis: what several replicas share.

Layout, every key under `prefix`:

    job:{id}            hash: data (the Job as JSON), version (authoritative)
    due                 sorted set: job id -> due time
    ref:{provider}      hash: provider_ref -> job id
    user:{user_id}      list: the user's job ids, newest first, at most 50
    rate:{key}:{secs}   sorted set per rate window: unique member -> time taken (with EXPIRE)

Every change touching more than one key is one Lua script, so no two replicas interleave
inside it. Times always come from the caller, never from the Redis clock, and the scripts
pass them on as the caller's strings: Lua would print a computed timestamp with 14
significant digits and lose the fraction.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Sequence
from typing import Any

import redis.asyncio
from redis.exceptions import RedisError

from bot.jobs import Job
from providers.base import RateWindow

_USER_HISTORY = 50

# KEYS: job hash, due set, ref hash of job.provider, user list
# ARGV: data, job id, due score or "" (not due), provider_ref or "", history length
_ADD = """
if redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end
redis.call('HSET', KEYS[1], 'data', ARGV[1], 'version', 1)
if ARGV[3] ~= '' then
  redis.call('ZADD', KEYS[2], ARGV[3], ARGV[2])
end
if ARGV[4] ~= '' then
  redis.call('HSET', KEYS[3], ARGV[4], ARGV[2])
end
redis.call('LPUSH', KEYS[4], ARGV[2])
redis.call('LTRIM', KEYS[4], 0, tonumber(ARGV[5]) - 1)
return 1
"""

# KEYS: job hash, due set, ref hash of job.provider
# ARGV: expected version, data, job id, due score or "" (leave the due set), provider_ref or ""
# Returns the new version, or nil when the stored version is not the expected one. A save
# ends any lease (the holder has recorded its step; the due set now says when to look again).
_SAVE = """
local stored = redis.call('HGET', KEYS[1], 'version')
if not stored or tonumber(stored) ~= tonumber(ARGV[1]) then
  return nil
end
local version = tonumber(stored) + 1
redis.call('HSET', KEYS[1], 'data', ARGV[2], 'version', version)
redis.call('HDEL', KEYS[1], 'leased_until')
if ARGV[4] == '' then
  redis.call('ZREM', KEYS[2], ARGV[3])
else
  redis.call('ZADD', KEYS[2], ARGV[4], ARGV[3])
end
if ARGV[5] ~= '' then
  redis.call('HSET', KEYS[3], ARGV[5], ARGV[3])
end
return version
"""

# KEYS: due set
# ARGV: now, limit, lease end (the new due score), job key prefix
# Returns a flat list id, data, version per leased job, earliest due first. The job hashes
# are named inside the script because their ids are only known here; one server holds them.
_CLAIM_DUE = """
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
local out = {}
for _, id in ipairs(ids) do
  local fields = redis.call('HMGET', ARGV[4] .. id, 'data', 'version')
  if fields[1] then
    redis.call('ZADD', KEYS[1], ARGV[3], id)
    redis.call('HSET', ARGV[4] .. id, 'leased_until', ARGV[3])
    out[#out + 1] = id
    out[#out + 1] = fields[1]
    out[#out + 1] = fields[2]
  else
    redis.call('ZREM', KEYS[1], id)
  end
end
return out
"""

# KEYS: due set, job hash
# ARGV: now, lease end, job id
# Returns {data, version}, or nil when the job is not due (or someone holds its lease).
_CLAIM = """
local score = redis.call('ZSCORE', KEYS[1], ARGV[3])
if not score or tonumber(score) > tonumber(ARGV[1]) then
  return nil
end
local fields = redis.call('HMGET', KEYS[2], 'data', 'version')
if not fields[1] then
  redis.call('ZREM', KEYS[1], ARGV[3])
  return nil
end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
redis.call('HSET', KEYS[2], 'leased_until', ARGV[2])
return fields
"""

# KEYS: due set, job hash
# ARGV: now, job id
# Returns 1 when the job is in the due set, else 0. It becomes due no later than `now`, unless
# someone holds its lease: a lease is never cut short, so no two runners poll one job.
_MAKE_DUE = """
local score = redis.call('ZSCORE', KEYS[1], ARGV[2])
if not score then
  return 0
end
local leased = redis.call('HGET', KEYS[2], 'leased_until')
if leased and tonumber(leased) > tonumber(ARGV[1]) then
  return 1
end
if tonumber(score) > tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], 'XX', ARGV[1], ARGV[2])
end
return 1
"""

# KEYS: one sorted set per window
# ARGV: now, unique member, then per window: window start (entries at or before it have
#       left), limit, window seconds, EXPIRE seconds
# Returns "0" when a slot was taken in every window, otherwise the seconds (as a string, to
# keep the fraction) until the slowest full window has room; then nothing was added anywhere.
_TAKE_RATE_SLOT = """
local now = tonumber(ARGV[1])
local wait = 0
for i, key in ipairs(KEYS) do
  local base = 2 + (i - 1) * 4
  redis.call('ZREMRANGEBYSCORE', key, '-inf', ARGV[base + 1])
  local limit = tonumber(ARGV[base + 2])
  if redis.call('ZCARD', key) >= limit then
    local seconds = tonumber(ARGV[base + 3])
    local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
    local until_free = seconds
    if oldest[2] then
      until_free = tonumber(oldest[2]) + seconds - now
    end
    if until_free > wait then
      wait = until_free
    end
  end
end
if wait > 0 then
  return tostring(wait)
end
for i, key in ipairs(KEYS) do
  local base = 2 + (i - 1) * 4
  redis.call('ZADD', key, ARGV[1], ARGV[2])
  redis.call('EXPIRE', key, ARGV[base + 4])
end
return '0'
"""


def _text(value: Any) -> str:
    """A reply as str, whether or not the client decodes responses."""
    if isinstance(value, bytes):
        return value.decode()
    return str(value)


def _score(value: float) -> str:
    return repr(float(value))


def _due_score(job: Job) -> str:
    if job.next_run_at is None:
        return ""
    return _score(job.next_run_at)


def _job(data: Any, version: Any) -> Job:
    job = Job.model_validate_json(_text(data))
    job.version = int(_text(version))
    return job


class RedisJobStore:
    def __init__(self, client: redis.asyncio.Redis, prefix: str = "reelbot:") -> None:
        self._client = client
        self._prefix = prefix
        self._add = client.register_script(_ADD)
        self._save = client.register_script(_SAVE)
        self._claim_due = client.register_script(_CLAIM_DUE)
        self._claim = client.register_script(_CLAIM)
        self._make_due = client.register_script(_MAKE_DUE)
        self._take_rate_slot = client.register_script(_TAKE_RATE_SLOT)

    @classmethod
    def from_url(cls, url: str, prefix: str = "reelbot:") -> RedisJobStore:
        # Bounded waits: a hung Redis must not hold a Slack ack past its 3 s.
        client = redis.asyncio.Redis.from_url(
            url, decode_responses=True, socket_timeout=5.0, socket_connect_timeout=2.0
        )
        return cls(client, prefix)

    def _job_key(self, job_id: str) -> str:
        return f"{self._prefix}job:{job_id}"

    @property
    def _due_key(self) -> str:
        return f"{self._prefix}due"

    def _ref_key(self, provider: str) -> str:
        return f"{self._prefix}ref:{provider}"

    def _user_key(self, user_id: str) -> str:
        return f"{self._prefix}user:{user_id}"

    async def add(self, job: Job) -> Job:
        stored = job.model_copy(update={"version": 1})
        added = await self._add(
            keys=[
                self._job_key(job.id),
                self._due_key,
                self._ref_key(job.provider),
                self._user_key(job.user_id),
            ],
            args=[
                stored.model_dump_json(),
                job.id,
                _due_score(job),
                job.provider_ref or "",
                _USER_HISTORY,
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

    async def save(self, job: Job) -> Job | None:
        stored = job.model_copy(update={"version": job.version + 1})
        version = await self._save(
            keys=[self._job_key(job.id), self._due_key, self._ref_key(job.provider)],
            args=[
                job.version,
                stored.model_dump_json(),
                job.id,
                _due_score(job),
                job.provider_ref or "",
            ],
        )
        if version is None:
            return None
        stored.version = int(version)
        return stored

    async def claim_due(self, now: float, limit: int, lease_seconds: float) -> list[Job]:
        if limit <= 0:
            return []
        reply = await self._claim_due(
            keys=[self._due_key],
            args=[_score(now), limit, _score(now + lease_seconds), self._job_key("")],
        )
        return [_job(reply[i + 1], reply[i + 2]) for i in range(0, len(reply), 3)]

    async def claim(self, job_id: str, now: float, lease_seconds: float) -> Job | None:
        reply = await self._claim(
            keys=[self._due_key, self._job_key(job_id)],
            args=[_score(now), _score(now + lease_seconds), job_id],
        )
        if reply is None:
            return None
        return _job(reply[0], reply[1])

    async def make_due(self, job_id: str, now: float) -> bool:
        found = await self._make_due(
            keys=[self._due_key, self._job_key(job_id)], args=[_score(now), job_id]
        )
        return bool(int(found))

    async def find_by_ref(self, provider: str, ref: str) -> str | None:
        job_id = await self._client.hget(self._ref_key(provider), ref)
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

    async def ping(self) -> bool:
        try:
            return bool(await self._client.ping())
        except (RedisError, OSError):
            return False

    async def close(self) -> None:
        await self._client.aclose()
