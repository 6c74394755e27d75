"""Accounts: `acct:{fp}` (encrypted credentials) and `acct:{fp}:subs`, kept alive by subscribers."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import redis

from quota_sentinel.store.compact import ZsetPruner
from quota_sentinel.store.keys import ACCOUNT_GRACE_S, Keys

# Adds/renews one subscriber, prunes expired ones and sets every key of the account to expire
# ACCOUNT_GRACE_S after its longest-lived subscriber: one atomic round trip, so the TTL always
# covers the newest heartbeat even when subscribers renew concurrently.
_TOUCH = """
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[3])
local top = redis.call('ZREVRANGE', KEYS[2], 0, 0, 'WITHSCORES')
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
        self._touch = r.register_script(_TOUCH)
        self._set_fields = r.register_script(_SET_FIELDS)
        self._pruner = ZsetPruner(r)

    def _account_keys(self, fp: str) -> list[str]:
        k = self.keys
        return [k.account(fp), k.subscribers(fp), k.snapshot(fp), k.samples(fp), k.history(fp)]

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
        self, fp: str, instance_id: str, expires_at: float, now: float, pipe: redis.client.Pipeline
    ) -> None:
        """Queues adding/renewing a subscriber and re-expiring all of the account's keys."""
        self._touch(
            keys=self._account_keys(fp),
            args=[instance_id, repr(expires_at), repr(now), ACCOUNT_GRACE_S],
            client=pipe,
        )

    def unsubscribe(self, fp: str, instance_id: str, pipe: redis.client.Pipeline) -> None:
        """Queues removing a subscriber; the account keys expire on their own after the grace."""
        pipe.zrem(self.keys.subscribers(fp), instance_id)

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
        self._set_fields(
            keys=[self.keys.account(fp)], args=["credentials", credentials], client=pipe
        )

    def mark_attempt(self, fp: str, at: float) -> None:
        """Records when a poll of the account started (the min-poll-gap rule reads it)."""
        self._set_fields(keys=[self.keys.account(fp)], args=["last_attempt_at", repr(at)])

    def save_state(self, fp: str, state: dict[str, Any], pipe: redis.client.Pipeline) -> None:
        """Queues storing the provider's state (e.g. DeepSeek's reference balance)."""
        args = ["state", json.dumps(state, sort_keys=True)]
        self._set_fields(keys=[self.keys.account(fp)], args=args, client=pipe)

    def live_subscribers(self, fp: str, now: float) -> list[str]:
        """Ids of subscribers whose expiry is ahead of `now`."""
        return self.r.zrangebyscore(self.keys.subscribers(fp), now, "+inf")

    def subscriber_counts(self, fps: list[str], now: float) -> dict[str, int]:
        p = self.r.pipeline(transaction=False)
        for fp in fps:
            p.zcount(self.keys.subscribers(fp), now, "+inf")
        return dict(zip(fps, p.execute(), strict=True))

    def prune_subscribers(self, fp: str, now: float) -> int:
        """Drops expired subscribers (compacting the set after a big shrink, see
        store/compact.py); returns how many live ones remain."""
        return self._pruner.prune(self.keys.subscribers(fp), now)[1]

    def exists(self, fp: str) -> bool:
        return bool(self.r.exists(self.keys.account(fp)))
