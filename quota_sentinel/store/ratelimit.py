"""Fixed one-minute window counters for rate limits (registration per client address)."""

from __future__ import annotations

import redis

from quota_sentinel.store.keys import Keys


class RateLimiter:
    def __init__(self, r: redis.Redis, keys: Keys) -> None:
        self.r = r
        self.keys = keys

    def hit(self, bucket: str, limit_per_min: int, now: float) -> int:
        """Counts one event in `bucket`.

        Returns:
            0 when allowed, else the seconds until the current minute ends.
        """
        window = int(now // 60)
        key = self.keys.rate_limit(bucket, window)
        p = self.r.pipeline()
        p.incr(key)
        p.expire(key, 120)
        count = p.execute()[0]
        if count <= limit_per_min:
            return 0
        return max(1, int((window + 1) * 60 - now))
