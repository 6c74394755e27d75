"""Pruning a sorted-set index by score, and giving back its memory after a big shrink.

Redis never shrinks a sorted set's or a hash's internal table on its own once it has grown
(10,000 instances registered and expired left their index at ~150 KB for 200 members): when a
prune removes at least as many members as remain, the key is rewritten at its new size in the
same atomic step, keeping its TTL. REWRITE_LUA is shared with the subscriber scripts of
store/accounts.py.
"""

from __future__ import annotations

import redis

# Lua helpers: rewrite_zset(key) and rewrite_hash(key) re-create the key with the same content
# and TTL, in batches of 500 members or fields.
REWRITE_LUA = """
local function rewrite(key, flat, cmd, swap)
  local ttl = redis.call('PTTL', key)
  redis.call('DEL', key)
  for i = 1, #flat, 1000 do
    local args = {}
    for j = i, math.min(i + 998, #flat - 1), 2 do
      if swap then
        args[#args + 1] = flat[j + 1]
        args[#args + 1] = flat[j]
      else
        args[#args + 1] = flat[j]
        args[#args + 1] = flat[j + 1]
      end
    end
    redis.call(cmd, key, unpack(args))
  end
  if ttl > 0 then redis.call('PEXPIRE', key, ttl) end
end
local function rewrite_zset(key)
  local flat = redis.call('ZRANGE', key, 0, -1, 'WITHSCORES')
  if #flat > 0 then rewrite(key, flat, 'ZADD', true) end
end
local function rewrite_hash(key)
  local flat = redis.call('HGETALL', key)
  if #flat > 0 then rewrite(key, flat, 'HSET', false) end
end
"""

_PRUNE = (
    REWRITE_LUA
    + """
local removed = redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
local left = redis.call('ZCARD', KEYS[1])
if left > 0 and removed >= left then rewrite_zset(KEYS[1]) end
return {removed, left}
"""
)


class ZsetPruner:
    def __init__(self, r: redis.Redis) -> None:
        self._prune = r.register_script(_PRUNE)

    def prune(self, key: str, max_score: float) -> tuple[int, int]:
        """Removes the members scored at most `max_score`.

        Returns:
            (how many were removed, how many remain).
        """
        removed, left = self._prune(keys=[key], args=[repr(max_score)])
        return int(removed), int(left)
