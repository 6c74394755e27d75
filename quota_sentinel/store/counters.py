"""Poll outcome counters (`polls`): incremented by any worker, read by any web replica."""

from __future__ import annotations

import redis

from quota_sentinel.store.keys import POLL_COUNTS_TTL_S, Keys


class PollCounts:
    def __init__(self, r: redis.Redis, keys: Keys) -> None:
        self.r = r
        self.keys = keys

    def add(self, provider: str, outcome: str) -> None:
        """Counts one poll of `provider` that ended in `outcome` ("ok" or an error code)."""
        key = self.keys.poll_counts()
        pipe = self.r.pipeline()
        pipe.hincrby(key, f"{provider}|{outcome}", 1)
        pipe.expire(key, POLL_COUNTS_TTL_S)
        pipe.execute()

    def read(self) -> dict[tuple[str, str], int]:
        """(provider, outcome) → polls since the counters were created."""
        raw = self.r.hgetall(self.keys.poll_counts())
        return {tuple(k.split("|", 1)): int(v) for k, v in raw.items()}  # type: ignore[misc]
