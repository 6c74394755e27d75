"""Poll outcomes: `acct:{fp}:snap` (last result) and `acct:{fp}:samples` (utilization history)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import redis

from quota_sentinel.engine.trend import Trend
from quota_sentinel.providers.base import WindowUsage
from quota_sentinel.store.keys import (
    HISTORY_RETENTION_S,
    HISTORY_SLOT_S,
    SAMPLE_MAX_COUNT,
    SAMPLE_RETENTION_S,
    Keys,
)

# Writes the snapshot, the sample of this poll (replacing one at the same time: a retried job
# cannot add a second copy) into the recent samples and, unless the poll failed (ARGV[10]), as
# the latest of its slot into the thinned history, trims both, stores the provider state and
# rotated (encrypted) credentials, all expiring with the account. Nothing is written once the
# account has expired.
_RECORD = """
local ttl = redis.call('TTL', KEYS[1])
if ttl < 1 then return 0 end
redis.call('SET', KEYS[2], ARGV[1], 'EX', ttl)
if ARGV[3] ~= '' then
  redis.call('ZREMRANGEBYSCORE', KEYS[3], ARGV[2], ARGV[2])
  redis.call('ZADD', KEYS[3], ARGV[2], ARGV[3])
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', '(' .. ARGV[4])
  redis.call('ZREMRANGEBYRANK', KEYS[3], 0, -(tonumber(ARGV[5]) + 1))
  redis.call('EXPIRE', KEYS[3], ttl)
end
if ARGV[3] ~= '' and ARGV[10] == '1' then
  redis.call('ZREMRANGEBYSCORE', KEYS[4], ARGV[8], ARGV[8])
  redis.call('ZADD', KEYS[4], ARGV[8], ARGV[3])
  redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', '(' .. ARGV[9])
  redis.call('EXPIRE', KEYS[4], ttl)
end
if ARGV[6] ~= '' then redis.call('HSET', KEYS[1], 'state', ARGV[6]) end
if ARGV[7] ~= '' then redis.call('HSET', KEYS[1], 'credentials', ARGV[7]) end
return 1
"""


@dataclass(frozen=True)
class Snapshot:
    """The last poll of an account. Times are epoch seconds.

    `windows` holds the last *good* data (name → WindowUsage, as the provider read it); after
    a failed poll it is kept and `error` says what went wrong. `trends` holds, per window, the
    engine's Trend computed by the worker at the last good poll, so a reader only
    grades it; `interval_s` is the poll interval the worker used.
    """

    polled_at: float
    ok_at: float | None = None
    windows: dict[str, WindowUsage] = field(default_factory=dict)
    plan: str | None = None
    error: dict[str, str] | None = None
    failures: int = 0
    next_poll_at: float | None = None
    trends: dict[str, Trend] = field(default_factory=dict)
    interval_s: float | None = None

    def to_json(self) -> str:
        data = {name: getattr(self, name) for name in self.__dataclass_fields__}
        data["windows"] = {name: _window_json(w) for name, w in self.windows.items()}
        data["trends"] = {name: trend.to_json() for name, trend in self.trends.items()}
        return json.dumps(data, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Snapshot:
        data = json.loads(text)
        fields = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        fields["windows"] = {
            name: _window_from_json(w) for name, w in (data.get("windows") or {}).items()
        }
        fields["trends"] = {
            name: Trend.from_json(t) for name, t in (data.get("trends") or {}).items()
        }
        return cls(**fields)


def _window_json(window: WindowUsage) -> dict[str, Any]:
    """A window as the snapshot stores it: {utilization, resets_at, metadata}."""
    return {
        "utilization": window.utilization,
        "resets_at": window.resets_at,
        "metadata": dict(window.metadata),
    }


def _window_from_json(data: dict[str, Any]) -> WindowUsage:
    """A stored window back as a WindowUsage (a snapshot of any earlier version: a missing
    reset or metadata reads as none)."""
    return WindowUsage(
        utilization=data["utilization"],
        resets_at=data.get("resets_at"),
        metadata=data.get("metadata") or {},
    )


@dataclass(frozen=True)
class StoredSample:
    """One poll: every window's usage by name (utilization and reset; metadata is not kept
    in samples), or, for a failed poll, no windows and the error's code; with the poll
    interval in force (seconds). Stored as {"t", "windows": {name: [utilization, resets_at]},
    "error"?, "interval"?}."""

    t: float
    windows: dict[str, WindowUsage]
    error: str | None = None
    interval_s: float | None = None

    def to_json(self) -> str:
        windows = {name: [w.utilization, w.resets_at] for name, w in self.windows.items()}
        data: dict[str, Any] = {"t": self.t, "windows": windows}
        if self.error is not None:
            data["error"] = self.error
        if self.interval_s is not None:
            data["interval"] = self.interval_s
        return json.dumps(data, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> StoredSample:
        row = json.loads(text)
        return cls(
            t=row["t"],
            windows={
                name: WindowUsage(utilization, resets_at)
                for name, (utilization, resets_at) in row["windows"].items()
            },
            error=row.get("error"),
            interval_s=row.get("interval"),
        )


class SnapshotStore:
    def __init__(self, r: redis.Redis, keys: Keys) -> None:
        self.r = r
        self.keys = keys
        self._record = r.register_script(_RECORD)

    def record(
        self,
        fp: str,
        snapshot: Snapshot,
        sample: StoredSample | None,
        state: dict[str, Any] | None,
        credentials: str | None = None,
    ) -> bool:
        """Stores a poll outcome atomically; returns False if the account had expired.

        Args:
            fp: account fingerprint.
            snapshot: the new snapshot.
            sample: this poll's sample; a failed poll's (error set) goes into the recent
                samples only, not the thinned history.
            state: new provider state to keep on the account, or None to leave it.
            credentials: rotated credentials, already encrypted, or None to leave them.
        """
        sample_json = ""
        ts = ""
        if sample is not None:
            ts = repr(sample.t)
            sample_json = sample.to_json()
        at = sample.t if sample else snapshot.polled_at
        k = self.keys
        done = self._record(
            keys=[k.account(fp), k.snapshot(fp), k.samples(fp), k.history(fp)],
            args=[
                snapshot.to_json(),
                ts,
                sample_json,
                repr(at - SAMPLE_RETENTION_S),
                SAMPLE_MAX_COUNT,
                json.dumps(state, sort_keys=True) if state is not None else "",
                credentials or "",
                repr(at // HISTORY_SLOT_S * HISTORY_SLOT_S),
                repr(at - HISTORY_RETENTION_S),
                "1" if sample is not None and sample.error is None else "",
            ],
        )
        return bool(done)

    def get(self, fp: str) -> Snapshot | None:
        text = self.r.get(self.keys.snapshot(fp))
        return Snapshot.from_json(text) if text else None

    def get_many(self, fps: list[str]) -> dict[str, Snapshot]:
        if not fps:
            return {}
        texts = self.r.mget([self.keys.snapshot(fp) for fp in fps])
        return {fp: Snapshot.from_json(t) for fp, t in zip(fps, texts, strict=True) if t}

    def samples_since(self, fps: list[str], since: float) -> dict[str, list[StoredSample]]:
        """Samples of each account with t >= since, oldest first, in one round trip."""
        return self._read(self.keys.samples, fps, since)

    def history_since(self, fps: list[str], since: float) -> dict[str, list[StoredSample]]:
        """The thinned history (one sample per HISTORY_SLOT_S slot) of each account from the
        slot holding `since` on, oldest first, in one round trip."""
        return self._read(self.keys.history, fps, since // HISTORY_SLOT_S * HISTORY_SLOT_S)

    def _read(self, key, fps: list[str], since: float) -> dict[str, list[StoredSample]]:
        p = self.r.pipeline(transaction=False)
        for fp in fps:
            p.zrangebyscore(key(fp), since, "+inf")
        return {fp: parse_samples(m) for fp, m in zip(fps, p.execute(), strict=True)}


def parse_samples(members: list[str]) -> list[StoredSample]:
    """Stored sample members (JSON text) → StoredSample values, in the same order."""
    return [StoredSample.from_json(m) for m in members]
