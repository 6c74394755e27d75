"""What one request about an instance's accounts reads, in one round trip to Redis."""

from __future__ import annotations

from dataclasses import dataclass

import redis

from quota_sentinel.store.instances import Instance, instance_from_reply
from quota_sentinel.store.keys import Keys
from quota_sentinel.store.snapshots import Snapshot
from quota_sentinel.store.weights import FUNCTIONS_LUA

# The account part of _READ and _CALLER: per account, prune, then the caller's weight (false
# when it is no live subscriber), the weights' total, the live subscriber count, the snapshot.
_ACCOUNT_LUA = """
local function read_account(subs, weights, snap, now, id)
  prune(subs, weights, now)
  local w = false
  if redis.call('ZSCORE', subs, id) then w = weight_of(weights, id) end
  return {w, redis.call('HGET', weights, TOTAL), redis.call('ZCARD', subs), redis.call('GET', snap)}
end
"""

# Per account (KEYS in threes: subscribers, weights, snapshot): prunes expired subscribers (so
# one that left without a word stops counting at once), then reads the caller's weight (false
# when it is no live subscriber), the weights' total, the live subscriber count and the snapshot
# (which carries the forecast the worker computed at the last poll: no samples are read).
# ARGV: now, the caller's id. Cost: O(log N) per account, N subscribers.
_READ = (
    FUNCTIONS_LUA
    + _ACCOUNT_LUA
    + """
local out = {}
for i = 1, #KEYS, 3 do
  out[#out + 1] = read_account(KEYS[i], KEYS[i + 1], KEYS[i + 2], ARGV[1], ARGV[2])
end
return out
"""
)

# An API key's instance and its accounts, in one round trip: the instance id the key (KEYS[1])
# points to, the instance's hash, then {fingerprint, account read} per account. The instance's
# account keys are known only once its hash is read, so they are built here, from templates
# made by store/keys.py with `{fp}` in place of the fingerprint. ARGV: now, the instance key with
# an empty id, the templates of the subscribers, weights and snapshot keys.
_CALLER = (
    FUNCTIONS_LUA
    + _ACCOUNT_LUA
    + """
local id = redis.call('GET', KEYS[1])
if not id then return false end
local flat = redis.call('HGETALL', ARGV[2] .. id)
if #flat == 0 then return false end
local accounts = '{}'
for i = 1, #flat, 2 do
  if flat[i] == 'accounts' then accounts = flat[i + 1] end
end
local out = {id, flat}
for _, fp in pairs(cjson.decode(accounts)) do
  local subs = (string.gsub(ARGV[3], '{fp}', fp))
  local weights = (string.gsub(ARGV[4], '{fp}', fp))
  local snap = (string.gsub(ARGV[5], '{fp}', fp))
  out[#out + 1] = {fp, read_account(subs, weights, snap, ARGV[1], id)}
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
        self._caller = r.register_script(_CALLER)

    def accounts(self, fps: list[str], instance_id: str, now: float) -> dict[str, AccountRead]:
        """Each of `fps` as `instance_id` reads it at `now`."""
        if not fps:
            return {}
        k = self.keys
        keys = [key for fp in fps for key in (k.subscribers(fp), k.weights(fp), k.snapshot(fp))]
        replies = self._read(keys=keys, args=[repr(now), instance_id])
        return {fp: _account_read(reply) for fp, reply in zip(fps, replies, strict=True)}

    def caller(self, key_hash: str, now: float) -> tuple[Instance, dict[str, AccountRead]] | None:
        """The live instance an API key (by hash) belongs to and each of its accounts as it
        reads them at `now`, in one round trip; None for an unknown or expired key."""
        k = self.keys
        templates = [k.subscribers(FP), k.weights(FP), k.snapshot(FP)]
        found = self._caller(
            keys=[k.api_key(key_hash)], args=[repr(now), k.instance(""), *templates]
        )
        if not found:
            return None
        instance_id, flat, *accounts = found
        reads = {fp: _account_read(reply) for fp, reply in accounts}
        return instance_from_reply(instance_id, flat), reads


# What the caller script puts in place of a fingerprint in a key template.
FP = "{fp}"


def _account_read(reply: list) -> AccountRead:
    weight, total, count, snap = reply
    return AccountRead(
        weight=int(weight) if weight is not None else None,
        total=int(total or 0),
        subscribers=int(count),
        snapshot=Snapshot.from_json(snap) if snap else None,
    )
