"""The `due` sorted set: which account is polled when, and the atomic claim the scheduler uses."""

from __future__ import annotations

import redis

from quota_sentinel.store.keys import Keys

# Takes every entry due by ARGV[1] (at most ARGV[3]) and pushes its score to ARGV[2] (the lease)
# in the same step, so two schedulers ticking at once never claim the same account.
_CLAIM = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
for _, fp in ipairs(due) do redis.call('ZADD', KEYS[1], ARGV[2], fp) end
return due
"""


class DueQueue:
    def __init__(self, r: redis.Redis, keys: Keys) -> None:
        self.r = r
        self.keys = keys
        self._claim = r.register_script(_CLAIM)

    def add_new(self, fp: str, at: float, pipe: redis.client.Pipeline) -> None:
        """Queues a first due time for an account not yet scheduled (existing entries stay)."""
        pipe.zadd(self.keys.due(), {fp: at}, nx=True)

    def bring_forward(self, fp: str, at: float) -> None:
        """Moves an account's due time earlier to `at` (never later); adds it if missing."""
        self.r.zadd(self.keys.due(), {fp: at}, lt=True)

    def reschedule(self, fp: str, at: float) -> None:
        """Sets the next due time of an account that is still scheduled (reaped ones stay out)."""
        self.r.zadd(self.keys.due(), {fp: at}, xx=True)

    def claim(self, now: float, lease_s: float, limit: int = 500) -> list[str]:
        """Atomically takes the accounts due by `now`; each comes back after `lease_s` unless
        its poll reschedules it first.

        Returns:
            fingerprints claimed by this caller alone.
        """
        return self._claim(keys=[self.keys.due()], args=[repr(now), repr(now + lease_s), limit])

    def due_at(self, fp: str) -> float | None:
        return self.r.zscore(self.keys.due(), fp)

    def all(self) -> list[str]:
        return self.r.zrange(self.keys.due(), 0, -1)

    def remove(self, fp: str) -> None:
        self.r.zrem(self.keys.due(), fp)
