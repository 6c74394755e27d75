"""What one request about an instance's accounts reads, in one round trip to Redis."""

from __future__ import annotations

from dataclasses import dataclass

import redis

from quota_sentinel.store.accounts import PRUNE_LUA, TOTAL_FIELD
from quota_sentinel.store.keys import Keys
from quota_sentinel.store.snapshots import Snapshot

# Per account (KEYS in threes: subscribers, weights, snapshot): prunes expired subscribers (so
# one that left without a word stops counting at once), then reads the caller's weight, the
# weights' total, the live subscriber count and the snapshot (which carries the forecast the
# worker computed at the last poll: no samples are read). ARGV: now, the caller's id.
# Cost: O(log N) per account, N subscribers.
_READ = (
    PRUNE_LUA
    + """
local out = {}
for i = 1, #KEYS, 3 do
  prune(KEYS[i], KEYS[i + 1], ARGV[1])
  local w = redis.call('HMGET', KEYS[i + 1], ARGV[2], '"""
    + TOTAL_FIELD
    + """')
  out[#out + 1] = {
    w[1], w[2], redis.call('ZCARD', KEYS[i]), redis.call('GET', KEYS[i + 2])
  }
end
return out
"""
)


@dataclass(frozen=True)
class AccountRead:
    """One account as one of its subscribers reads it.

    Args:
        weight: the caller's weight (WEIGHT_UNITS), None when it is not a live subscriber.
        total: the sum of the live subscribers' weights.
        subscribers: how many live subscribers the account has.
        snapshot: the last poll, None before the first.
    """

    weight: int | None
    total: int
    subscribers: int
    snapshot: Snapshot | None


class Reads:
    def __init__(self, r: redis.Redis, keys: Keys) -> None:
        self.r = r
        self.keys = keys
        self._read = r.register_script(_READ)

    def accounts(self, fps: list[str], instance_id: str, now: float) -> dict[str, AccountRead]:
        """Each of `fps` as `instance_id` reads it at `now`."""
        if not fps:
            return {}
        k = self.keys
        keys = [key for fp in fps for key in (k.subscribers(fp), k.weights(fp), k.snapshot(fp))]
        replies = self._read(keys=keys, args=[repr(now), instance_id])
        out = {}
        for fp, (weight, total, count, snap) in zip(fps, replies, strict=True):
            out[fp] = AccountRead(
                weight=int(weight) if weight is not None else None,
                total=int(total or 0),
                subscribers=int(count),
                snapshot=Snapshot.from_json(snap) if snap else None,
            )
        return out
