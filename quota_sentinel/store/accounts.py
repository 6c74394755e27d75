"""Accounts: `acct:{fp}` (encrypted credentials) and `acct:{fp}:subs`, kept alive by subscribers."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import redis

from quota_sentinel.store.compact import REWRITE_LUA
from quota_sentinel.store.keys import ACCOUNT_GRACE_S, Keys

# The sum of an account's subscriber weights lives in this field of its weights hash.
TOTAL_FIELD = "_total"

# Drops the subscribers of an account whose expiry is at or before `now`, and their weights
# from the weights hash and its total: every script that touches subscribers runs it first, so
# the total always equals the sum over the live subscribers, however they left.
# After a big shrink (at least as many gone as left) both keys are rewritten at their new size
# (store/compact.py: Redis keeps a grown table otherwise).
PRUNE_LUA = (
    REWRITE_LUA
    + """
local function prune(subs, weights, now)
  local gone = redis.call('ZRANGEBYSCORE', subs, '-inf', now)
  if #gone == 0 then return end
  local drop = 0
  for _, id in ipairs(gone) do
    local w = redis.call('HGET', weights, id)
    if w then
      drop = drop + tonumber(w)
      redis.call('HDEL', weights, id)
    end
  end
  redis.call('ZREMRANGEBYSCORE', subs, '-inf', now)
  if drop ~= 0 then redis.call('HINCRBY', weights, '_total', -drop) end
  local left = redis.call('ZCARD', subs)
  if left > 0 and #gone >= left then
    rewrite_zset(subs)
    rewrite_hash(weights)
  end
end
"""
)

# Adds/renews one subscriber with its weight (keeping the total), prunes expired ones and sets
# every key of the account to expire ACCOUNT_GRACE_S after its longest-lived subscriber: one
# atomic round trip, so the TTL always covers the newest heartbeat even when subscribers renew
# concurrently. KEYS: the account's keys, subscribers second and weights last.
# ARGV: instance id, its expiry, now, grace, its weight.
_TOUCH = (
    PRUNE_LUA
    + """
local subs, weights = KEYS[2], KEYS[#KEYS]
prune(subs, weights, ARGV[3])
local w = tonumber(ARGV[5])
local old = tonumber(redis.call('HGET', weights, ARGV[1]) or '0')
redis.call('ZADD', subs, ARGV[2], ARGV[1])
redis.call('HSET', weights, ARGV[1], w)
if w ~= old then redis.call('HINCRBY', weights, '_total', w - old) end
local top = redis.call('ZREVRANGE', subs, 0, 0, 'WITHSCORES')
local ttl = 1
if top[2] then
  ttl = math.ceil(tonumber(top[2]) - tonumber(ARGV[3]) + tonumber(ARGV[4]))
  if ttl < 1 then ttl = 1 end
end
for i = 1, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 1 then redis.call('EXPIRE', KEYS[i], ttl) end
end
return ttl
"""
)

# Removes one subscriber and its weight. KEYS: subscribers, weights. ARGV: instance id.
_LEAVE = """
local w = redis.call('HGET', KEYS[2], ARGV[1])
if w then
  redis.call('HDEL', KEYS[2], ARGV[1])
  redis.call('HINCRBY', KEYS[2], '_total', -tonumber(w))
end
return redis.call('ZREM', KEYS[1], ARGV[1])
"""

# Prunes expired subscribers; returns how many live ones remain. KEYS: subscribers, weights.
# ARGV: now.
_PRUNE = (
    PRUNE_LUA
    + """
prune(KEYS[1], KEYS[2], ARGV[1])
return redis.call('ZCARD', KEYS[1])
"""
)

# Updates fields of an account hash only while it exists: a plain HSET on an expired account
# would recreate the key without a TTL.
_SET_FIELDS = """
if redis.call('EXISTS', KEYS[1]) == 1 then return redis.call('HSET', KEYS[1], unpack(ARGV)) end
return 0
"""


@dataclass(frozen=True)
class Account:
    """One fingerprinted credential of a provider. `credentials` is the encrypted token."""

    fp: str
    provider: str
    credentials: str
    options: dict[str, Any] = field(default_factory=dict)
    state: dict[str, Any] = field(default_factory=dict)
    last_attempt_at: float | None = None


class AccountStore:
    def __init__(self, r: redis.Redis, keys: Keys) -> None:
        self.r = r
        self.keys = keys
        self._set_fields = r.register_script(_SET_FIELDS)
        self._prune = r.register_script(_PRUNE)

    def _account_keys(self, fp: str) -> list[str]:
        k = self.keys
        return [
            k.account(fp),
            k.subscribers(fp),
            k.snapshot(fp),
            k.samples(fp),
            k.history(fp),
            k.weights(fp),
        ]

    def upsert(self, account: Account, pipe: redis.client.Pipeline) -> None:
        """Queues writing provider, options and credentials (state and poll times are kept)."""
        pipe.hset(
            self.keys.account(account.fp),
            mapping={
                "provider": account.provider,
                "credentials": account.credentials,
                "options": json.dumps(account.options, sort_keys=True),
            },
        )

    def subscribe(
        self,
        fp: str,
        instance_id: str,
        weight: int,
        expires_at: float,
        now: float,
        pipe: redis.client.Pipeline,
    ) -> None:
        """Queues adding/renewing a subscriber with its weight (engine WEIGHT_UNITS of its state;
        it replaces the one it had) and re-expiring all of the account's keys."""
        keys = self._account_keys(fp)
        args = [instance_id, repr(expires_at), repr(now), ACCOUNT_GRACE_S, weight]
        # EVAL, not EVALSHA: a pipeline holding a registered script first asks Redis whether the
        # script is loaded, one more round trip per request.
        pipe.eval(_TOUCH, len(keys), *keys, *args)

    def unsubscribe(self, fp: str, instance_id: str, pipe: redis.client.Pipeline) -> None:
        """Queues removing a subscriber and its weight; the account keys expire on their own
        after the grace."""
        keys = [self.keys.subscribers(fp), self.keys.weights(fp)]
        pipe.eval(_LEAVE, len(keys), *keys, instance_id)

    def get(self, fp: str) -> Account | None:
        data = self.r.hgetall(self.keys.account(fp))
        if not data or "provider" not in data:
            return None
        last = data.get("last_attempt_at")
        return Account(
            fp=fp,
            provider=data["provider"],
            credentials=data["credentials"],
            options=json.loads(data.get("options") or "{}"),
            state=json.loads(data.get("state") or "{}"),
            last_attempt_at=float(last) if last else None,
        )

    def replace_credentials(self, fp: str, credentials: str, pipe: redis.client.Pipeline) -> None:
        """Queues storing fresh (encrypted) credentials of an existing account."""
        pipe.eval(_SET_FIELDS, 1, self.keys.account(fp), "credentials", credentials)

    def mark_attempt(self, fp: str, at: float) -> None:
        """Records when a poll of the account started (the min-poll-gap rule reads it)."""
        self._set_fields(keys=[self.keys.account(fp)], args=["last_attempt_at", repr(at)])

    def save_state(self, fp: str, state: dict[str, Any], pipe: redis.client.Pipeline) -> None:
        """Queues storing the provider's state (e.g. DeepSeek's reference balance)."""
        args = ["state", json.dumps(state, sort_keys=True)]
        pipe.eval(_SET_FIELDS, 1, self.keys.account(fp), *args)

    def live_subscribers(self, fp: str, now: float) -> list[str]:
        """Ids of subscribers whose expiry is ahead of `now`."""
        return self.r.zrangebyscore(self.keys.subscribers(fp), now, "+inf")

    def prune_subscribers(self, fp: str, now: float) -> int:
        """Drops expired subscribers and their weights; returns how many live ones remain."""
        keys = [self.keys.subscribers(fp), self.keys.weights(fp)]
        return self._prune(keys=keys, args=[repr(now)])

    def weights(self, fps: list[str], now: float) -> dict[str, dict[str, int]]:
        """Each account's live subscribers → weight (WEIGHT_UNITS), expired ones pruned first,
        in one round trip (the team view's allocation of every instance)."""
        p = self.r.pipeline(transaction=False)
        for fp in fps:
            keys = [self.keys.subscribers(fp), self.keys.weights(fp)]
            p.eval(_PRUNE, len(keys), *keys, repr(now))
            p.hgetall(self.keys.weights(fp))
        replies = p.execute()
        return {
            fp: {i: int(w) for i, w in data.items() if i != TOTAL_FIELD}
            for fp, data in zip(fps, replies[1::2], strict=True)
        }

    def exists(self, fp: str) -> bool:
        return bool(self.r.exists(self.keys.account(fp)))
