"""The Lua scripts behind RedisJobStore (see bot/store/redis.py for the key layout).

Each script is one atomic change. Keys known before the call are passed as KEYS; keys named
by what a script reads (the due set of a job's stored provider, the job hashes a claim finds)
are built inside it from the key prefix: one Redis server holds them all. Times and scores
arrive as the caller's strings and are stored as given; a time computed here is written with
%.17g, never tostring (14 significant digits would lose the fraction).
"""

from __future__ import annotations

# KEYS: job hash, due set of job.provider, active set of job.provider, finished set, user
#       list, the team's unfinished set, then the ref key when job.provider_ref is set
# ARGV: data, job id, due score or "" (not due), provider, provider_ref or "", history
#       length, "1" when the job is at the provider else "0", finished score or "" (not a
#       finished job), lease owner or "", lease end or "", created score or "" (terminal)
# Returns 1, or 0 (nothing written) when the id exists.
ADD = """
if redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end
local id = ARGV[2]
redis.call('HSET', KEYS[1], 'data', ARGV[1], 'version', 1, 'provider', ARGV[4])
local due = ARGV[3]
if ARGV[9] ~= '' then
  redis.call('HSET', KEYS[1], 'leased_until', ARGV[10], 'lease_owner', ARGV[9])
  due = ARGV[10]
end
if due ~= '' then
  redis.call('ZADD', KEYS[2], due, id)
elseif ARGV[8] ~= '' then
  redis.call('ZADD', KEYS[4], ARGV[8], id)
end
if ARGV[7] == '1' then
  redis.call('SADD', KEYS[3], id)
end
if ARGV[11] ~= '' then
  redis.call('ZADD', KEYS[6], ARGV[11], id)
end
if KEYS[7] then
  redis.call('HSET', KEYS[1], 'ref', ARGV[5])
  redis.call('SET', KEYS[7], id)
end
redis.call('LPUSH', KEYS[5], id)
redis.call('LTRIM', KEYS[5], 0, tonumber(ARGV[6]) - 1)
return 1
"""

# KEYS: job hash, due set of job.provider, active set of job.provider, finished set, the
#       team's unfinished set, then the ref key when job.provider_ref is set
# ARGV: expected version, data, job id, provider, provider_ref or "", now, due score or ""
#       (job.next_run_at), "1" when the job is at the provider else "0", finished score or
#       "", owner or "", "1" to release else "0", in-flight limit or "" (none), created
#       score or "" (a terminal job: it leaves the team's unfinished set)
# Returns the new version; nil when the stored version is not the expected one (checked
# first) or, with an owner, when the lease is not that owner's (a holder whose lease ran out
# and was claimed again is fenced off); {"full", count} when the in-flight limit is reached;
# {"provider", stored provider} when the job names another provider than the stored one.
# Only the first writes anything.
# A held lease is only ended by its owner's release; until then the job stays due at the
# lease end, whatever job.next_run_at says.
SAVE = """
local stored = redis.call('HMGET', KEYS[1], 'version', 'provider', 'leased_until', 'lease_owner')
if not stored[1] or tonumber(stored[1]) ~= tonumber(ARGV[1]) then
  return nil
end
if ARGV[10] ~= '' and stored[4] ~= ARGV[10] then
  return nil
end
if stored[2] and stored[2] ~= ARGV[4] then
  return {'provider', stored[2]}
end
local id = ARGV[3]
if ARGV[8] == '1' and ARGV[12] ~= '' and redis.call('SISMEMBER', KEYS[3], id) == 0 then
  local count = redis.call('SCARD', KEYS[3])
  if count >= tonumber(ARGV[12]) then
    return {'full', count}
  end
end
local version = tonumber(stored[1]) + 1
redis.call('HSET', KEYS[1], 'data', ARGV[2], 'version', version, 'provider', ARGV[4])
local leased = stored[3]
if ARGV[11] == '1' and ARGV[10] ~= '' and stored[4] == ARGV[10] then
  redis.call('HDEL', KEYS[1], 'leased_until', 'lease_owner')
  leased = false
end
local due = ARGV[7]
if leased and tonumber(leased) > tonumber(ARGV[6]) then
  due = leased
end
if due ~= '' then
  redis.call('ZADD', KEYS[2], due, id)
  redis.call('ZREM', KEYS[4], id)
else
  redis.call('ZREM', KEYS[2], id)
  if ARGV[9] ~= '' then
    redis.call('ZADD', KEYS[4], ARGV[9], id)
  else
    redis.call('ZREM', KEYS[4], id)
  end
end
if ARGV[8] == '1' then
  redis.call('SADD', KEYS[3], id)
else
  redis.call('SREM', KEYS[3], id)
end
if ARGV[13] ~= '' then
  redis.call('ZADD', KEYS[5], ARGV[13], id)
else
  redis.call('ZREM', KEYS[5], id)
end
if KEYS[6] then
  redis.call('HSET', KEYS[1], 'ref', ARGV[5])
  redis.call('SET', KEYS[6], id)
end
return version
"""

# KEYS: due set of the provider
# ARGV: now, limit, lease end (the new due score), job key prefix, owner
# Returns a flat list id, data, version per leased job, earliest due first.
CLAIM_DUE = """
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
local out = {}
for _, id in ipairs(ids) do
  local key = ARGV[4] .. id
  local fields = redis.call('HMGET', key, 'data', 'version')
  if fields[1] then
    redis.call('ZADD', KEYS[1], ARGV[3], id)
    redis.call('HSET', key, 'leased_until', ARGV[3], 'lease_owner', ARGV[5])
    out[#out + 1] = id
    out[#out + 1] = fields[1]
    out[#out + 1] = fields[2]
  else
    redis.call('ZREM', KEYS[1], id)
  end
end
return out
"""

# KEYS: job hash
# ARGV: now, lease end, job id, key prefix (for the due set of the job's provider), owner
# Returns {data, version}, or nil when the job is not due (or someone holds its lease).
CLAIM = """
local fields = redis.call('HMGET', KEYS[1], 'data', 'version', 'provider')
if not fields[1] or not fields[3] then
  return nil
end
local due = ARGV[4] .. 'due:' .. fields[3]
local score = redis.call('ZSCORE', due, ARGV[3])
if not score or tonumber(score) > tonumber(ARGV[1]) then
  return nil
end
redis.call('ZADD', due, ARGV[2], ARGV[3])
redis.call('HSET', KEYS[1], 'leased_until', ARGV[2], 'lease_owner', ARGV[5])
return {fields[1], fields[2]}
"""

# KEYS: job hash, finished set
# ARGV: owner, lease end, job id, key prefix (for the due set of the job's provider)
# Returns 1 when the lease is the owner's (it now ends at the lease end, and so does the due
# time), else 0.
RENEW = """
local fields = redis.call('HMGET', KEYS[1], 'lease_owner', 'provider')
if not fields[1] or fields[1] ~= ARGV[1] or not fields[2] then
  return 0
end
redis.call('HSET', KEYS[1], 'leased_until', ARGV[2])
redis.call('ZADD', ARGV[4] .. 'due:' .. fields[2], ARGV[2], ARGV[3])
redis.call('ZREM', KEYS[2], ARGV[3])
return 1
"""

# KEYS: job hash
# ARGV: now, job id, key prefix (for the due set of the job's provider)
# Returns 1 when the job is in its due set, else 0. It becomes due no later than `now`,
# unless someone holds its lease: a lease is never cut short, so no two runners poll one job.
MAKE_DUE = """
local fields = redis.call('HMGET', KEYS[1], 'provider', 'leased_until')
if not fields[1] then
  return 0
end
local due = ARGV[3] .. 'due:' .. fields[1]
local score = redis.call('ZSCORE', due, ARGV[2])
if not score then
  return 0
end
if fields[2] and tonumber(fields[2]) > tonumber(ARGV[1]) then
  return 1
end
if tonumber(score) > tonumber(ARGV[1]) then
  redis.call('ZADD', due, 'XX', ARGV[1], ARGV[2])
end
return 1
"""

# KEYS: pace key (a string: the next free time)
# ARGV: now, interval, max wait
# Returns the seconds until the caller's turn (as a string, to keep the fraction). When at
# most the max wait, the turn is reserved: the next free time moves one interval past it,
# and the key expires a second after that time, so an idle key vanishes.
PACE = """
local now = tonumber(ARGV[1])
local turn = now
local free = redis.call('GET', KEYS[1])
if free and tonumber(free) > now then
  turn = tonumber(free)
end
local wait = turn - now
if wait <= tonumber(ARGV[3]) then
  local next_free = turn + tonumber(ARGV[2])
  local ttl = math.ceil(next_free - now) + 1
  if ttl < 1 then
    ttl = 1
  end
  redis.call('SET', KEYS[1], string.format('%.17g', next_free), 'EX', ttl)
end
return string.format('%.17g', wait)
"""

# KEYS: finished set
# ARGV: before (exclusive), limit, key prefix
# Deletes up to `limit` jobs that finished before `before` and are in no due set, with their
# active membership and their ref key when it still names them; returns how many went.
# Entries whose job is gone or due again only leave the finished set.
PURGE = """
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[1],
  'LIMIT', 0, tonumber(ARGV[2]))
local gone = 0
for _, id in ipairs(ids) do
  redis.call('ZREM', KEYS[1], id)
  local key = ARGV[3] .. 'job:' .. id
  local fields = redis.call('HMGET', key, 'provider', 'ref')
  if fields[1] and not redis.call('ZSCORE', ARGV[3] .. 'due:' .. fields[1], id) then
    redis.call('DEL', key)
    redis.call('SREM', ARGV[3] .. 'active:' .. fields[1], id)
    if fields[2] then
      local ref = ARGV[3] .. 'ref:' .. fields[1] .. ':' .. fields[2]
      if redis.call('GET', ref) == id then
        redis.call('DEL', ref)
      end
    end
    gone = gone + 1
  end
end
return gone
"""

# KEYS: one sorted set per window
# ARGV: now, unique member, then per window: window start (entries at or before it have
#       left), limit, window seconds, EXPIRE seconds
# Returns "0" when a slot was taken in every window, otherwise the seconds (as a string, to
# keep the fraction) until the slowest full window has room; then nothing was added anywhere.
TAKE_RATE_SLOT = """
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


# KEYS[1] the shared key; ARGV[1] the value it must still hold.
DELETE_IF = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('DEL', KEYS[1])
end
return 0
"""


# KEYS: the team's unfinished set (job id -> created_at)
# ARGV: limit, job key prefix
# Returns {count of the set, then id, data, version per job}, newest first, at most `limit`
# (an id whose hash is gone is skipped).
ACTIVE_FOR_TEAM = """
local out = {redis.call('ZCARD', KEYS[1])}
local ids = redis.call('ZREVRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1)
for _, id in ipairs(ids) do
  local fields = redis.call('HMGET', ARGV[2] .. id, 'data', 'version')
  if fields[1] then
    out[#out + 1] = id
    out[#out + 1] = fields[1]
    out[#out + 1] = fields[2]
  end
end
return out
"""
