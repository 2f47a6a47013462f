"""The spend ledger in Redis: one hash per workspace and month.

Fields: `total`, `u:<user>`, `p:<provider>` (sums in cents) and `j:<job id>` (the job's
entry: "<cents> <user> <provider>"). Each change is one script, so a reservation checks both
limits and records itself atomically, whichever replica asks.
"""

from __future__ import annotations

from typing import Any

import redis.asyncio

from bot.store.spend import LEDGER_SECONDS, Budget, Reservation, Spend, SpendReport

# KEYS[1] ledger; ARGV: job, user, provider, cents, team limit (-1: none), user limit, ttl.
# Returns {ok, team left or -1, user left or -1}.
RESERVE = """
local entry = redis.call('HGET', KEYS[1], 'j:' .. ARGV[1])
local total = tonumber(redis.call('HGET', KEYS[1], 'total') or '0')
local mine = tonumber(redis.call('HGET', KEYS[1], 'u:' .. ARGV[2]) or '0')
local cents = tonumber(ARGV[4])
local team_limit, user_limit = tonumber(ARGV[5]), tonumber(ARGV[6])
local function left(limit, used)
  if limit < 0 then return -1 end
  return limit - used
end
if entry then
  return {1, left(team_limit, total), left(user_limit, mine)}
end
if (team_limit >= 0 and total + cents > team_limit) or
   (user_limit >= 0 and mine + cents > user_limit) then
  return {0, left(team_limit, total), left(user_limit, mine)}
end
redis.call('HSET', KEYS[1], 'j:' .. ARGV[1], ARGV[4] .. ' ' .. ARGV[2] .. ' ' .. ARGV[3])
redis.call('HINCRBY', KEYS[1], 'total', cents)
redis.call('HINCRBY', KEYS[1], 'u:' .. ARGV[2], cents)
redis.call('HINCRBY', KEYS[1], 'p:' .. ARGV[3], cents)
redis.call('PEXPIRE', KEYS[1], ARGV[7])
return {1, left(team_limit, total + cents), left(user_limit, mine + cents)}
"""

# KEYS[1] ledger; ARGV: job, new cents ('' to give the entry back), user, provider, ttl.
CHANGE = """
local entry = redis.call('HGET', KEYS[1], 'j:' .. ARGV[1])
local new = false
if not entry then
  if ARGV[2] == '' then return 0 end
  entry = '0 ' .. ARGV[3] .. ' ' .. ARGV[4]
  new = true
end
local old, user, provider = string.match(entry, '^(%-?%d+) (%S+) (%S+)$')
local delta = -tonumber(old)
if ARGV[2] ~= '' then delta = tonumber(ARGV[2]) - tonumber(old) end
redis.call('HINCRBY', KEYS[1], 'total', delta)
redis.call('HINCRBY', KEYS[1], 'u:' .. user, delta)
redis.call('HINCRBY', KEYS[1], 'p:' .. provider, delta)
if ARGV[2] == '' then
  redis.call('HDEL', KEYS[1], 'j:' .. ARGV[1])
else
  redis.call('HSET', KEYS[1], 'j:' .. ARGV[1], ARGV[2] .. ' ' .. user .. ' ' .. provider)
end
if new then redis.call('PEXPIRE', KEYS[1], ARGV[5]) end
return 1
"""


def _none(value: Any) -> int | None:
    number = int(value)
    return None if number < 0 else number


class RedisSpend:
    """Mixed into RedisJobStore, which sets `_client` and `_prefix`."""

    _client: redis.asyncio.Redis
    _prefix: str

    def _ledger(self, team: str, month: str) -> str:
        return f"{self._prefix}spend:{team}:{month}"

    async def reserve_spend(self, spend: Spend, budget: Budget) -> Reservation:
        script = self._client.register_script(RESERVE)
        limits = [-1 if v is None else v for v in (budget.team_cents, budget.user_cents)]
        ok, team_left, user_left = await script(
            keys=[self._ledger(spend.team, spend.month)],
            args=[spend.job_id, spend.user, spend.provider, spend.cents, *limits,
                  int(LEDGER_SECONDS * 1000)],
        )  # fmt: skip
        return Reservation(bool(int(ok)), _none(team_left), _none(user_left))

    async def settle_spend(self, spend: Spend) -> None:
        script = self._client.register_script(CHANGE)
        await script(
            keys=[self._ledger(spend.team, spend.month)],
            args=[spend.job_id, spend.cents, spend.user, spend.provider,
                  int(LEDGER_SECONDS * 1000)],
        )  # fmt: skip

    async def release_spend(self, team: str, month: str, job_id: str) -> None:
        script = self._client.register_script(CHANGE)
        await script(keys=[self._ledger(team, month)], args=[job_id, "", "-", "-", 1])

    async def spend_report(self, team: str, month: str) -> SpendReport:
        fields = await self._client.hgetall(self._ledger(team, month))
        report = SpendReport(month)
        total = 0
        for raw_name, raw_value in fields.items():
            name = raw_name.decode() if isinstance(raw_name, bytes) else str(raw_name)
            value = raw_value.decode() if isinstance(raw_value, bytes) else str(raw_value)
            if name == "total":
                total = int(value)
            elif name.startswith("u:") and int(value):
                report.by_user[name[2:]] = int(value)
            elif name.startswith("p:") and int(value):
                report.by_provider[name[2:]] = int(value)
        return SpendReport(month, total, report.by_provider, report.by_user)
