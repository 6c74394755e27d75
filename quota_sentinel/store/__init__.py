"""The store: every Redis key is named and touched here, nowhere else."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import redis

from quota_sentinel.store.accounts import AccountStore
from quota_sentinel.store.alerts import AlertStore, decode_down
from quota_sentinel.store.counters import PollCounts
from quota_sentinel.store.due import DueQueue
from quota_sentinel.store.instances import InstanceStore
from quota_sentinel.store.keys import LAST_TICK_TTL_S, Keys
from quota_sentinel.store.locks import Locks
from quota_sentinel.store.ratelimit import RateLimiter
from quota_sentinel.store.reads import Reads
from quota_sentinel.store.snapshots import SnapshotStore


@dataclass(frozen=True)
class HealthReads:
    """What a health report reads, in one round trip (Store.health_reads)."""

    last_poll_at: float | None
    last_tick_at: float | None
    workers: int
    receivers_down: dict[str, dict[str, Any]]


@dataclass
class Store:
    """All stores over one Redis client and one key prefix."""

    r: redis.Redis
    keys: Keys
    instances: InstanceStore
    accounts: AccountStore
    snapshots: SnapshotStore
    due: DueQueue
    locks: Locks
    rate: RateLimiter
    alerts: AlertStore
    poll_counts: PollCounts
    reads: Reads

    @classmethod
    def open(cls, r: redis.Redis, prefix: str) -> Store:
        keys = Keys(prefix)
        return cls(
            r=r,
            keys=keys,
            instances=InstanceStore(r, keys),
            accounts=AccountStore(r, keys),
            snapshots=SnapshotStore(r, keys),
            due=DueQueue(r, keys),
            locks=Locks(r),
            rate=RateLimiter(r, keys),
            alerts=AlertStore(r, keys),
            poll_counts=PollCounts(r, keys),
            reads=Reads(r, keys),
        )

    def ping(self) -> bool:
        return bool(self.r.ping())

    def pipeline(self) -> redis.client.Pipeline:
        """A transactional (MULTI/EXEC) pipeline for writes that must land together."""
        return self.r.pipeline()

    def note_poll_finished(self, at: float) -> None:
        """Records the time of the latest finished poll (health reports its age)."""
        self.r.set(self.keys.last_poll(), repr(at), ex=86400)

    def last_poll_at(self) -> float | None:
        value = self.r.get(self.keys.last_poll())
        return float(value) if value else None

    def note_tick(self, at: float) -> None:
        """Records that a scheduler tick ran (health tells when none did recently)."""
        self.r.set(self.keys.last_tick(), repr(at), ex=LAST_TICK_TTL_S)

    def last_tick_at(self) -> float | None:
        value = self.r.get(self.keys.last_tick())
        return float(value) if value else None

    def health_reads(self, worker_set: str) -> HealthReads:
        """The latest poll and scheduler tick, the size of RQ's worker set `worker_set` and the
        webhook receivers given up on, in one round trip (O(1) in instances and accounts, but
        for the receivers given up on)."""
        pipe = self.r.pipeline(transaction=False)
        pipe.get(self.keys.last_poll())
        pipe.get(self.keys.last_tick())
        pipe.scard(worker_set)
        pipe.hgetall(self.keys.receivers_down())
        last, tick, workers, down = pipe.execute()
        return HealthReads(
            float(last) if last else None,
            float(tick) if tick else None,
            int(workers),
            decode_down(down),
        )
