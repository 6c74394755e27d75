"""Instances: `inst:{id}`, `apikey:{sha256}` and the `insts` index, written with their TTL."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import redis

from quota_sentinel.store.accounts import account_keys
from quota_sentinel.store.compact import ZsetPruner
from quota_sentinel.store.keys import ACCOUNT_GRACE_S, Keys
from quota_sentinel.store.weights import FUNCTIONS_LUA


@dataclass(frozen=True)
class Instance:
    """A registered agent. Times are epoch seconds; `accounts` maps provider → fingerprint."""

    id: str
    project: str
    framework: str
    poll_interval_s: int
    state: str
    registered_at: float
    heartbeat_at: float
    expires_at: float
    hard_caps: dict[str, float] = field(default_factory=dict)
    accounts: dict[str, str] = field(default_factory=dict)

    @property
    def ttl_s(self) -> int:
        return max(1, round(self.expires_at - self.heartbeat_at))


def _to_hash(inst: Instance) -> dict[str, str]:
    return {
        "project": inst.project,
        "framework": inst.framework,
        "poll_interval_s": str(inst.poll_interval_s),
        "state": inst.state,
        "registered_at": repr(inst.registered_at),
        "heartbeat_at": repr(inst.heartbeat_at),
        "expires_at": repr(inst.expires_at),
        "hard_caps": json.dumps(inst.hard_caps, sort_keys=True),
        "accounts": json.dumps(inst.accounts, sort_keys=True),
    }


def _pairs(flat: list[str]) -> dict[str, str]:
    """A Lua script's HGETALL reply (field, value, field, value, …) as a dict."""
    return dict(zip(flat[::2], flat[1::2], strict=True))


def instance_from_reply(instance_id: str, flat: list[str]) -> Instance:
    """The instance from a Lua script's HGETALL reply of its hash."""
    return _from_hash(instance_id, _pairs(flat))


def _from_hash(instance_id: str, data: dict[str, str]) -> Instance:
    return Instance(
        id=instance_id,
        project=data["project"],
        framework=data["framework"],
        poll_interval_s=int(data["poll_interval_s"]),
        state=data["state"],
        registered_at=float(data["registered_at"]),
        heartbeat_at=float(data["heartbeat_at"]),
        expires_at=float(data["expires_at"]),
        hard_caps=json.loads(data["hard_caps"]),
        accounts=json.loads(data["accounts"]),
    )


# The instance an API key (by hash) belongs to, in one round trip. KEYS: the api-key entry.
# ARGV: the instance key with an empty id (keys.instance("")).
_BY_KEY = """
local id = redis.call('GET', KEYS[1])
if not id then return false end
return {id, redis.call('HGETALL', ARGV[1] .. id)}
"""

# Every live instance in one reply: ids from the index whose expiry is ahead, each with its
# hash (an id whose hash already expired comes with an empty one). KEYS: the index. ARGV: now,
# the instance key with an empty id.
_LIVE = """
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[1], '+inf')
local out = {}
for i, id in ipairs(ids) do
  out[i] = {id, redis.call('HGETALL', ARGV[2] .. id)}
end
return out
"""


# A heartbeat without credentials, in one round trip: the key's instance, which must be the one
# named, gets its state (or keeps it), heartbeat time and expiry, and renews every TTL it covers
# and its subscription (with its state's weight) to each of its accounts, as touch() and
# AccountStore.subscribe() do. KEYS: the api-key entry, the instance index. ARGV: the instance
# key with an empty id, the instance id named, the new state or '', now, the heartbeat factor,
# the account grace (s), {state: weight units} as JSON, the account keys as JSON [before, after]
# pairs around the fingerprint. Returns false (no such key or instance), {'forbidden'} (the key
# is another instance's; nothing written) or {'ok', HGETALL of the renewed instance}.
_HEARTBEAT = (
    FUNCTIONS_LUA
    + """
local id = redis.call('GET', KEYS[1])
if not id then return false end
if id ~= ARGV[2] then return {'forbidden'} end
local ikey = ARGV[1] .. id
local interval = redis.call('HGET', ikey, 'poll_interval_s')
if not interval then return false end
local state = ARGV[3]
if state == '' then state = redis.call('HGET', ikey, 'state') end
local w = cjson.decode(ARGV[7])[state]
if not w then return redis.error_reply('unknown subscriber state ' .. state) end
local ttl = math.ceil(tonumber(interval) * tonumber(ARGV[5]))
if ttl < 1 then ttl = 1 end
local expires = string.format('%.17g', tonumber(ARGV[4]) + ttl)
redis.call('HSET', ikey, 'state', state, 'heartbeat_at', ARGV[4], 'expires_at', expires)
redis.call('EXPIRE', ikey, ttl)
redis.call('SET', KEYS[1], id, 'EX', ttl)
redis.call('ZADD', KEYS[2], expires, id)
local templates = cjson.decode(ARGV[8])
for _, fp in pairs(cjson.decode(redis.call('HGET', ikey, 'accounts'))) do
  local ks = {}
  for i, t in ipairs(templates) do ks[i] = t[1] .. fp .. t[2] end
  touch_subscriber(ks, id, expires, ARGV[4], ARGV[6], w)
end
return {'ok', redis.call('HGETALL', ikey)}
"""
)

# Splits the account keys around their fingerprint (for _HEARTBEAT, which builds them in Lua).
_FP_MARK = "\x00"


@dataclass(frozen=True)
class Heartbeat:
    """What InstanceStore.heartbeat did: `instance` renewed, or None with `foreign` telling
    whether the key belongs to another instance (else it is unknown or expired)."""

    instance: Instance | None
    foreign: bool = False


class InstanceStore:
    """Reads and writes instances; every write sets the TTL in the same MULTI/EXEC."""

    def __init__(self, r: redis.Redis, keys: Keys) -> None:
        self.r = r
        self.keys = keys
        self._by_key = r.register_script(_BY_KEY)
        self._live = r.register_script(_LIVE)
        self._heartbeat = r.register_script(_HEARTBEAT)
        templates = [key.split(_FP_MARK) for key in account_keys(keys, _FP_MARK)]
        self._account_templates = json.dumps(templates)
        self._pruner = ZsetPruner(r)

    def save(
        self, inst: Instance, key_hash: str, pipe: redis.client.Pipeline | None = None
    ) -> None:
        """Writes the instance, its API-key entry and its index entry, all expiring together.

        Args:
            inst: the instance; its ttl_s is applied to both keys.
            key_hash: SHA-256 hex of the instance's API key.
            pipe: an open transactional pipeline to join; None runs one of its own.
        """
        own = pipe is None
        p = self.r.pipeline() if own else pipe
        ikey = self.keys.instance(inst.id)
        p.delete(ikey)
        p.hset(ikey, mapping=_to_hash(inst))
        p.expire(ikey, inst.ttl_s)
        p.set(self.keys.api_key(key_hash), inst.id, ex=inst.ttl_s)
        p.zadd(self.keys.instances(), {inst.id: inst.expires_at})
        if own:
            p.execute()

    def get(self, instance_id: str) -> Instance | None:
        data = self.r.hgetall(self.keys.instance(instance_id))
        return _from_hash(instance_id, data) if data else None

    def get_many(self, instance_ids: list[str]) -> dict[str, Instance]:
        """Live instances among `instance_ids` (expired ones are left out), in one round trip."""
        p = self.r.pipeline(transaction=False)
        for instance_id in instance_ids:
            p.hgetall(self.keys.instance(instance_id))
        found = {}
        for instance_id, data in zip(instance_ids, p.execute(), strict=True):
            if data:
                found[instance_id] = _from_hash(instance_id, data)
        return found

    def by_key(self, key_hash: str) -> Instance | None:
        """The live instance an API key (by hash) belongs to, or None, in one round trip."""
        found = self._by_key(keys=[self.keys.api_key(key_hash)], args=[self.keys.instance("")])
        if not found or not found[1]:
            return None
        return instance_from_reply(found[0], found[1])

    def touch(
        self,
        inst: Instance,
        key_hash: str,
        pipe: redis.client.Pipeline,
    ) -> None:
        """Queues the heartbeat writes (new times, state, TTLs) on `pipe`."""
        ikey = self.keys.instance(inst.id)
        pipe.hset(
            ikey,
            mapping={
                "state": inst.state,
                "heartbeat_at": repr(inst.heartbeat_at),
                "expires_at": repr(inst.expires_at),
            },
        )
        pipe.expire(ikey, inst.ttl_s)
        pipe.set(self.keys.api_key(key_hash), inst.id, ex=inst.ttl_s)
        pipe.zadd(self.keys.instances(), {inst.id: inst.expires_at})

    def heartbeat(
        self,
        key_hash: str,
        instance_id: str,
        state: str | None,
        now: float,
        heartbeat_factor: float,
        weight_units: dict[str, int],
    ) -> Heartbeat:
        """Renews instance `instance_id` if the API key (by hash) is its own, in one round trip:
        new state (None keeps it), heartbeat time, expiry (now + its poll interval × the
        factor, as registration sets it), every TTL and its subscriptions (_HEARTBEAT)."""
        reply = self._heartbeat(
            keys=[self.keys.api_key(key_hash), self.keys.instances()],
            args=[
                self.keys.instance(""),
                instance_id,
                state or "",
                repr(now),
                repr(heartbeat_factor),
                ACCOUNT_GRACE_S,
                json.dumps(weight_units),
                self._account_templates,
            ],
        )
        if not reply:
            return Heartbeat(None)
        if reply[0] == "forbidden":
            return Heartbeat(None, foreign=True)
        return Heartbeat(instance_from_reply(instance_id, reply[1]))

    def delete(self, instance_id: str, key_hash: str, pipe: redis.client.Pipeline) -> None:
        """Queues the removal of the instance, its API key and its index entry on `pipe`."""
        pipe.delete(self.keys.instance(instance_id), self.keys.api_key(key_hash))
        pipe.zrem(self.keys.instances(), instance_id)

    def live_ids(self, now: float) -> list[str]:
        """Ids in the index whose expiry is still ahead."""
        return self.r.zrangebyscore(self.keys.instances(), now, "+inf")

    def live(self, now: float) -> dict[str, Instance]:
        """Every live instance (the team view), in one round trip."""
        rows = self._live(keys=[self.keys.instances()], args=[repr(now), self.keys.instance("")])
        return {
            instance_id: instance_from_reply(instance_id, flat)
            for instance_id, flat in rows
            if flat
        }

    def prune(self, now: float) -> int:
        """Drops index entries of instances that expired (compacting the index after a big
        shrink, see store/compact.py); returns how many."""
        return self._pruner.prune(self.keys.instances(), now)[0]
