"""The queue line in Redis (see bot/store/line.py): one sorted set per provider,
`line:{provider}`, job id -> the time it joined. Asking a place is one script, so the look
at the line ahead and the dropping of entries that no longer wait are one atomic step; it
reads only the entries ahead of the job, never the provider's other jobs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import redis.asyncio

from providers.base import RateWindow

# KEYS: the provider's line
# ARGV: job id, since (the join score, kept when already in line), job key prefix
# Returns how many entries ahead (by score, then id) belong to jobs still QUEUED; the others
# (a job that moved on or is gone) leave the line.
LINE_POSITION = """
redis.call('ZADD', KEYS[1], 'NX', ARGV[2], ARGV[1])
local rank = redis.call('ZRANK', KEYS[1], ARGV[1])
if not rank or rank == 0 then
  return 0
end
local count = 0
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, rank - 1)) do
  local data = redis.call('HGET', ARGV[3] .. id, 'data')
  local waiting = false
  if data then
    local ok, job = pcall(cjson.decode, data)
    waiting = ok and type(job) == 'table' and job['state'] == 'queued'
  end
  if waiting then
    count = count + 1
  else
    redis.call('ZREM', KEYS[1], id)
  end
end
return count
"""


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class RedisLine:
    """Mixed into RedisJobStore, which sets `_client` and `_prefix`."""

    _client: redis.asyncio.Redis
    _prefix: str

    def _line_key(self, provider: str) -> str:
        return f"{self._prefix}line:{provider}"

    async def line_position(self, provider: str, job_id: str, since: float) -> int:
        script = self._client.register_script(LINE_POSITION)
        ahead = await script(
            keys=[self._line_key(provider)],
            args=[job_id, repr(float(since)), f"{self._prefix}job:"],
        )
        return int(_text(ahead))

    async def leave_line(self, provider: str, job_id: str) -> float | None:
        async with self._client.pipeline(transaction=True) as pipe:
            pipe.zscore(self._line_key(provider), job_id)
            pipe.zrem(self._line_key(provider), job_id)
            since, _ = await pipe.execute()
        return None if since is None else float(since)

    async def rate_slots_taken(
        self, key: str, windows: Sequence[RateWindow], now: float
    ) -> list[list[float]]:
        if not windows:
            return []
        async with self._client.pipeline(transaction=False) as pipe:
            for window in windows:
                # take_rate_slot drops a slot taken at or before now - seconds.
                pipe.zrangebyscore(
                    f"{self._prefix}rate:{key}:{window.seconds}",
                    f"({float(now - window.seconds)!r}",
                    "+inf",
                    withscores=True,
                )
            replies = await pipe.execute()
        return [sorted(float(score) for _, score in reply) for reply in replies]
