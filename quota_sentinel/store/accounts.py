"""Accounts: `acct:{fp}` (encrypted credentials) and `acct:{fp}:subs`, kept alive by subscribers."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import redis

from quota_sentinel.store.keys import ACCOUNT_GRACE_S, Keys
from quota_sentinel.store.weights import (
    DEFAULT_WEIGHT,
    LEAVE_LUA,
    PRUNE_LUA,
    TOUCH_LUA,
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


def account_keys(k: Keys, fp: str) -> list[str]:
    """Every key of one account, subscribers second and weights last (what TOUCH_LUA takes)."""
    return [
        k.account(fp),
        k.subscribers(fp),
        k.snapshot(fp),
        k.samples(fp),
        k.history(fp),
        k.alert_state(fp),
        k.weights(fp),
    ]


class AccountStore:
    def __init__(self, r: redis.Redis, keys: Keys) -> None:
        self.r = r
        self.keys = keys
        self._set_fields = r.register_script(_SET_FIELDS)
        self._prune = r.register_script(PRUNE_LUA)

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
        keys = account_keys(self.keys, fp)
        args = [instance_id, repr(expires_at), repr(now), ACCOUNT_GRACE_S, weight]
        # EVAL, not EVALSHA: a pipeline holding a registered script first asks Redis whether the
        # script is loaded, one more round trip per request.
        pipe.eval(TOUCH_LUA, len(keys), *keys, *args)

    def unsubscribe(self, fp: str, instance_id: str, pipe: redis.client.Pipeline) -> None:
        """Queues removing a subscriber and its weight; the account keys expire on their own
        after the grace."""
        keys = [self.keys.subscribers(fp), self.keys.weights(fp)]
        pipe.eval(LEAVE_LUA, len(keys), *keys, instance_id)

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
            p.eval(PRUNE_LUA, len(keys), *keys, repr(now))
            p.zrange(self.keys.subscribers(fp), 0, -1)
            p.hgetall(self.keys.weights(fp))
        replies = p.execute()
        out = {}
        for i, fp in enumerate(fps):
            ids, stored = replies[3 * i + 1], replies[3 * i + 2]
            out[fp] = {sub: int(stored.get(sub, DEFAULT_WEIGHT)) for sub in ids}
        return out

    def exists(self, fp: str) -> bool:
        return bool(self.r.exists(self.keys.account(fp)))
