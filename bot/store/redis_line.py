"""The queue line in Redis (see bot/store/line.py): one sorted set per provider,
`line:{provider}`, job id -> the time it joined. Each look at the line is one script, so the
look at the jobs ahead, the dropping of entries that no longer wait and the slot taken in
line are one atomic step. A look reads at most CHECKED_AHEAD of the jobs ahead (the first in
line) and counts the rest as waiting, so a long line costs Redis a bounded time per look:
entries that stopped waiting further back are dropped as the line moves up to them, and in
the meantime they only make a place look later than it is, never let a job pass one ahead.
The scripts read the job hashes they check by their key prefix (ARGV), not by KEYS: the
store is a single Redis, not a cluster.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Sequence
from typing import Any

import redis.asyncio

from bot.store.line import LineTurn
from providers.base import RateWindow

# The most jobs ahead one look checks against their job hash.
CHECKED_AHEAD = 50

# Joins the line (KEYS[1]) at ARGV[2] unless in it, and leaves `ahead` = how many entries ahead
# (by score, then id) belong to jobs still QUEUED (job hashes under ARGV[3]), checking the
# first CHECKED_AHEAD and counting the others as waiting; the entries checked that no longer
# wait leave the line. ARGV[1] is the job id.
_AHEAD = f"""
redis.call('ZADD', KEYS[1], 'NX', ARGV[2], ARGV[1])
local rank = redis.call('ZRANK', KEYS[1], ARGV[1])
local ahead = 0
if rank and rank > 0 then
  local checked = math.min(rank, {CHECKED_AHEAD})
  ahead = rank - checked
  for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, checked - 1)) do
    local data = redis.call('HGET', ARGV[3] .. id, 'data')
    local waiting = false
    if data then
      local ok, job = pcall(cjson.decode, data)
      waiting = ok and type(job) == 'table' and job['state'] == 'queued'
    end
    if waiting then
      ahead = ahead + 1
    else
      redis.call('ZREM', KEYS[1], id)
    end
  end
end
"""

# KEYS: the provider's line
# ARGV: job id, since, job key prefix
# Returns how many jobs ahead still wait.
LINE_POSITION = _AHEAD + "return ahead\n"

# KEYS: the provider's line, then one sorted set per rate window (take_rate_slot's keys)
# ARGV: job id, since, job key prefix, now, unique member, then per window: window start
#       (slots taken at or before it have left), limit, EXPIRE seconds
# Returns {1 when taken else 0, ahead, since (string), then per window the scores of its
#       slots that count, oldest first (strings)}.
TAKE_SLOT_IN_LINE = (
    _AHEAD
    + """
local since = redis.call('ZSCORE', KEYS[1], ARGV[1])
local free = nil
for i = 2, #KEYS do
  local base = 5 + (i - 2) * 3
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', ARGV[base + 1])
  local room = tonumber(ARGV[base + 2]) - redis.call('ZCARD', KEYS[i])
  if free == nil or room < free then
    free = room
  end
end
local took = 0
if ahead < free then
  for i = 2, #KEYS do
    local base = 5 + (i - 2) * 3
    redis.call('ZADD', KEYS[i], ARGV[4], ARGV[5])
    redis.call('EXPIRE', KEYS[i], ARGV[base + 3])
  end
  redis.call('ZREM', KEYS[1], ARGV[1])
  took = 1
end
local out = {took, ahead, since}
for i = 2, #KEYS do
  local scores = {}
  local entries = redis.call('ZRANGE', KEYS[i], 0, -1, 'WITHSCORES')
  for j = 2, #entries, 2 do
    scores[#scores + 1] = entries[j]
  end
  out[#out + 1] = scores
end
return out
"""
)


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

    async def take_slot_in_line(
        self,
        provider: str,
        job_id: str,
        since: float,
        key: str,
        windows: Sequence[RateWindow],
        now: float,
    ) -> LineTurn:
        if not windows:
            raise ValueError("no rate windows to take a slot in")
        script = self._client.register_script(TAKE_SLOT_IN_LINE)
        args: list[str | int] = [
            job_id, repr(float(since)), f"{self._prefix}job:", repr(float(now)), uuid.uuid4().hex
        ]  # fmt: skip
        for window in windows:
            args += [repr(float(now - window.seconds)), window.limit, math.ceil(window.seconds) + 1]
        reply = await script(
            keys=[
                self._line_key(provider),
                *(f"{self._prefix}rate:{key}:{window.seconds}" for window in windows),
            ],
            args=args,
        )
        took, ahead, joined, *slots = reply
        return LineTurn(
            taken=bool(int(took)),
            ahead=int(ahead),
            since=float(_text(joined)),
            slots=[[float(_text(score)) for score in window] for window in slots],
        )
