"""Every Lua script the storage layer runs, and the one place they are registered.

Each runs atomically in Redis. ``Scripts(r)`` registers them all once per store (``EVALSHA``
with the text sent again only when Redis has forgotten it, after a restart or a failover).
"""

from __future__ import annotations

import redis
from redis.commands.core import Script

# Admission of attempts to subscriptions, atomically across every worker. ``admit(inflight,
# bucket, id, cap, lease, rate)``: ``inflight`` zset (delivery id -> lease expiry), ``bucket`` token
# bucket hash, ``rate`` in requests/s (0 = no limit). Returns "0" when admitted (a slot is held
# until released or its lease ends), "-1" when the subscription is at its in-flight cap, else the
# seconds until a token is available.
ADMIT_FN = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local function admit(inflight, bucket, id, cap, lease, rate)
  redis.call('ZREMRANGEBYSCORE', inflight, '-inf', now)
  if not redis.call('ZSCORE', inflight, id) and redis.call('ZCARD', inflight) >= cap then
    return '-1'
  end
  if rate > 0 then
    local b = redis.call('HMGET', bucket, 'tokens', 'ts')
    local tokens = tonumber(b[1]) or rate
    local ts = tonumber(b[2]) or now
    tokens = math.min(rate, tokens + math.max(0, now - ts) * rate)
    if tokens < 1 then
      return tostring((1 - tokens) / rate)
    end
    redis.call('HSET', bucket, 'tokens', tostring(tokens - 1), 'ts', tostring(now))
    redis.call('EXPIRE', bucket, 3600)
  end
  redis.call('ZADD', inflight, now + lease, id)
  redis.call('EXPIRE', inflight, math.ceil(lease) + 60)
  return '0'
end
"""
# One attempt: KEYS in-flight zset, bucket; ARGV delivery id, cap, lease, rate.
ADMIT = (
    ADMIT_FN
    + """
return admit(KEYS[1], KEYS[2], ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]))
"""
)
# Many, in order: KEYS a (zset, bucket) pair each; ARGV cap, lease, then (delivery id, rate) each.
ADMIT_MANY = (
    ADMIT_FN
    + """
local cap, lease, out = tonumber(ARGV[1]), tonumber(ARGV[2]), {}
for i = 1, #KEYS / 2 do
  out[i] = admit(KEYS[2 * i - 1], KEYS[2 * i], ARGV[2 * i + 1], cap, lease, tonumber(ARGV[2 * i + 2]))
end
return out
"""
)

# Take the leases of many deliveries at once and read the records of those taken.
# KEYS: n lock keys, then the n delivery keys. ARGV: owner, lease in ms.
# Returns per delivery a pair: (1, record or '') when this owner holds the lease, else (0, holder).
LEASE = """
local n = #KEYS / 2
local out = {}
for i = 1, n do
  local held = redis.call('SET', KEYS[i], ARGV[1], 'NX', 'PX', ARGV[2])
  if not held then
    local holder = redis.call('GET', KEYS[i])
    if holder == ARGV[1] then
      redis.call('PEXPIRE', KEYS[i], ARGV[2])
      held = true
    else
      out[#out + 1] = 0
      out[#out + 1] = holder or ''
    end
  end
  if held then
    out[#out + 1] = 1
    out[#out + 1] = redis.call('GET', KEYS[n + i]) or ''
  end
end
return out
"""

# Delete each lock in KEYS that ARGV[1] still holds.
RELEASE_MANY = """
for _, k in ipairs(KEYS) do
  if redis.call('GET', k) == ARGV[1] then redis.call('DEL', k) end
end
return 0
"""

# Pick members due at or before ARGV[1] (at most ARGV[2]) and push their due time to ARGV[3]:
# one atomic step, so two sweepers never send the same member twice in a row.
TAKE_DUE = """
local members = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, m in ipairs(members) do redis.call('ZADD', KEYS[1], 'XX', ARGV[3], m) end
return members
"""

# Hand a lock over from ARGV[1] (a holder known to be dead) to ARGV[2], if ARGV[1] still holds it.
TAKE_OVER = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
end
return false
"""

# Delete the lock KEYS[1] only if ARGV[1] still holds it.
RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

# Forget a dirty mark only if nobody marked the feed again while it was being rendered.
CLEAR_DIRTY = """
local v = redis.call('HGET', KEYS[1], ARGV[1])
if v and tonumber(v) <= tonumber(ARGV[2]) then return redis.call('HDEL', KEYS[1], ARGV[1]) end
if v then return redis.call('HINCRBY', KEYS[1], ARGV[1], -tonumber(ARGV[2])) end
return 0
"""

# Keep new bytes only if their hash differs: one round trip. Returns 0 when they did not change,
# else the new Last-Modified (whole seconds): now, but always a second past the one before, so
# no two contents of a feed share a second and nginx's "<mtime>-<size>" ETag stays strong.
STORE_FEED = """
if redis.call('HGET', KEYS[1], 'sha') == ARGV[1] then return 0 end
local lm = math.floor(tonumber(ARGV[4]))
local prev = tonumber(redis.call('HGET', KEYS[1], 'lm') or '0') or 0
if lm <= prev then lm = math.floor(prev) + 1 end
redis.call('HSET', KEYS[1], 'body', ARGV[2], 'gz', ARGV[3], 'sha', ARGV[1], 'lm', lm)
redis.call('HDEL', KEYS[1], 'etag')
return lm
"""

# Give articles their numbers in feeds' archive sequences once (RFC 5005 pages), in order.
# KEYS[1]: the sequence hash; KEYS[i + 1]: the archive of entry i; ARGV: id, feed suffix per entry.
ARCHIVE_ADD = """
for i = 2, #KEYS do
  local id, suffix = ARGV[2 * i - 3], ARGV[2 * i - 2]
  if not redis.call('ZSCORE', KEYS[i], id) then
    redis.call('ZADD', KEYS[i], redis.call('HINCRBY', KEYS[1], suffix, 1), id)
  end
end
"""

# KEYS: the disabled set, its "built" marker, the set of all ids; ARGV: the record key prefix.
DISABLED_COUNT = """
if redis.call('EXISTS', KEYS[2]) == 0 then
  redis.call('DEL', KEYS[1])
  for _, id in ipairs(redis.call('SMEMBERS', KEYS[3])) do
    local raw = redis.call('GET', ARGV[1] .. id)
    if raw and cjson.decode(raw)['enabled'] == false then
      redis.call('SADD', KEYS[1], id)
    end
  end
  redis.call('SET', KEYS[2], '1')
end
return redis.call('SCARD', KEYS[1])
"""

# worker.storage.retention. KEYS: article records; ARGV: the staged key prefix, the life due key,
# the embargoed key, then the ids. Per id: {version or false, published_at or false, content_hash
# or false, pending 0/1}: the article JSON is read here, never sent to the client.
AGES = """
local out = {}
for i, key in ipairs(KEYS) do
  local id = ARGV[i + 3]
  local v, raw = unpack(redis.call('HMGET', key, 'version', 'json'))
  local pub, hash = false, false
  if raw then
    local doc = cjson.decode(raw)
    if type(doc['published_at']) == 'string' then pub = doc['published_at'] end
    if type(doc['content_hash']) == 'string' then hash = doc['content_hash'] end
  end
  local pending = redis.call('EXISTS', ARGV[1] .. id) == 1
    or redis.call('ZSCORE', ARGV[2], id) ~= false or redis.call('ZSCORE', ARGV[3], id) ~= false
  out[i] = {v or false, pub, hash, pending and 1 or 0}
end
return out
"""

# KEYS: article hashes; returns each one's ``version`` field (false where there is none; 'retired'
# for a retired article's tombstone: no version follows it). Read in a watching pipeline: one
# round trip for a batch, and the WATCH stays in force.
VERSIONS = """
local out = {}
for i, key in ipairs(KEYS) do
  if redis.call('HEXISTS', key, 'retired') == 1 then
    out[i] = 'retired'
  else
    out[i] = redis.call('HGET', key, 'version') or false
  end
end
return out
"""


class Scripts:
    """The registered scripts of one Redis client, one attribute per script."""

    def __init__(self, r: redis.Redis) -> None:
        self.admit: Script = r.register_script(ADMIT)
        self.admit_many: Script = r.register_script(ADMIT_MANY)
        self.lease: Script = r.register_script(LEASE)
        self.release_many: Script = r.register_script(RELEASE_MANY)
        self.take_due: Script = r.register_script(TAKE_DUE)
        self.take_over: Script = r.register_script(TAKE_OVER)
        self.release: Script = r.register_script(RELEASE)
        self.clear_dirty: Script = r.register_script(CLEAR_DIRTY)
        self.store_feed: Script = r.register_script(STORE_FEED)
        self.archive_add: Script = r.register_script(ARCHIVE_ADD)
        self.disabled_count: Script = r.register_script(DISABLED_COUNT)
        self.versions: Script = r.register_script(VERSIONS)
        self.ages: Script = r.register_script(AGES)
