"""Lua that keeps each account's subscriber weights (`acct:{fp}:weights`) equal to its live
subscribers (`acct:{fp}:subs`), so one subscriber's share is one read.

The weights hash holds `_total`, the sum of the live subscribers' weights (engine WEIGHT_UNITS,
whole tenths), and the weight of every subscriber whose weight is not DEFAULT_WEIGHT: an active
subscriber, the common case, costs no field. Every script that adds, renews, removes or prunes a
subscriber keeps `_total` in step, in the same atomic script.
"""

from __future__ import annotations

from quota_sentinel.store.compact import REWRITE_LUA

# The weight of a subscriber with no field of its own: an active one (WEIGHT_UNITS["active"]).
DEFAULT_WEIGHT = 10
# The field holding the sum of the live subscribers' weights.
TOTAL_FIELD = "_total"

# weight_of: a subscriber's weight. ensure_total: an account whose subscribers were stored before
# weights were kept gets its total counted once (every subscriber at its stored weight or the
# default), expiring with its subscribers. prune: drops the subscribers whose expiry is at or
# before `now` and takes their weights off the total, rewriting both keys at their new size after
# a big shrink (store/compact.py: Redis keeps a grown table otherwise).
FUNCTIONS_LUA = (
    REWRITE_LUA
    + f"""
local DEFAULT_WEIGHT = {DEFAULT_WEIGHT}
local TOTAL = '{TOTAL_FIELD}'
local function weight_of(weights, id)
  local w = redis.call('HGET', weights, id)
  if w then return tonumber(w) end
  return DEFAULT_WEIGHT
end
local function ensure_total(subs, weights)
  if redis.call('HEXISTS', weights, TOTAL) == 1 then return end
  local ids = redis.call('ZRANGE', subs, 0, -1)
  if #ids == 0 then return end
  local total = 0
  for _, id in ipairs(ids) do total = total + weight_of(weights, id) end
  redis.call('HSET', weights, TOTAL, total)
  local ttl = redis.call('PTTL', subs)
  if ttl > 0 then redis.call('PEXPIRE', weights, ttl) end
end
local function prune(subs, weights, now)
  ensure_total(subs, weights)
  local gone = redis.call('ZRANGEBYSCORE', subs, '-inf', now)
  if #gone == 0 then return end
  local drop = 0
  for _, id in ipairs(gone) do
    drop = drop + weight_of(weights, id)
    redis.call('HDEL', weights, id)
  end
  redis.call('ZREMRANGEBYSCORE', subs, '-inf', now)
  redis.call('HINCRBY', weights, TOTAL, 0 - drop)  -- not -drop: Lua writes -0 as "-0"
  local left = redis.call('ZCARD', subs)
  if left > 0 and #gone >= left then  -- a big shrink: give the grown tables back
    rewrite_zset(subs)
    rewrite_hash(weights)
  end
end
local function set_weight(subs, weights, id, w)
  local old = 0
  if redis.call('ZSCORE', subs, id) then old = weight_of(weights, id) end
  if w == DEFAULT_WEIGHT then
    redis.call('HDEL', weights, id)
  else
    redis.call('HSET', weights, id, w)
  end
  redis.call('HINCRBY', weights, TOTAL, w - old)
end
-- touch_subscriber: adds/renews one subscriber (id, expiry, weight), prunes expired ones and
-- sets every key of the account to expire `grace` after its longest-lived subscriber. `keys`:
-- the account's keys, subscribers second and weights last. Returns that TTL.
local function touch_subscriber(keys, id, expires, now, grace, w)
  local subs, weights = keys[2], keys[#keys]
  prune(subs, weights, now)
  set_weight(subs, weights, id, w)
  redis.call('ZADD', subs, expires, id)
  local top = redis.call('ZREVRANGE', subs, 0, 0, 'WITHSCORES')
  local ttl = 1
  if top[2] then
    ttl = math.ceil(tonumber(top[2]) - tonumber(now) + tonumber(grace))
    if ttl < 1 then ttl = 1 end
  end
  for i = 1, #keys do
    if redis.call('EXISTS', keys[i]) == 1 then redis.call('EXPIRE', keys[i], ttl) end
  end
  return ttl
end
"""
)

# Adds/renews one subscriber with its weight, prunes expired ones and sets every key of the
# account to expire ACCOUNT_GRACE_S after its longest-lived subscriber: one atomic round trip, so
# the TTL always covers the newest heartbeat even when subscribers renew concurrently.
# KEYS: the account's keys, subscribers second and weights last.
# ARGV: instance id, its expiry, now, grace, its weight.
TOUCH_LUA = (
    FUNCTIONS_LUA
    + """
return touch_subscriber(KEYS, ARGV[1], ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5]))
"""
)

# Removes one subscriber and its weight. KEYS: subscribers, weights. ARGV: instance id.
LEAVE_LUA = (
    FUNCTIONS_LUA
    + """
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 0 end
ensure_total(KEYS[1], KEYS[2])
redis.call('HINCRBY', KEYS[2], TOTAL, 0 - weight_of(KEYS[2], ARGV[1]))
redis.call('HDEL', KEYS[2], ARGV[1])
return redis.call('ZREM', KEYS[1], ARGV[1])
"""
)

# Prunes expired subscribers; returns how many live ones remain. KEYS: subscribers, weights.
# ARGV: now.
PRUNE_LUA = (
    FUNCTIONS_LUA
    + """
prune(KEYS[1], KEYS[2], ARGV[1])
return redis.call('ZCARD', KEYS[1])
"""
)
