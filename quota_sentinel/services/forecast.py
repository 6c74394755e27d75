"""The forecast of an account's windows, computed once per poll and read back by every view.

The worker calls `trends_after_poll` after each successful poll and stores the result with the
snapshot; a request reads the snapshot and grades each stored Trend against the caller's own
cap with `engine.grade` (plain arithmetic: no samples are loaded, nothing is re-fitted).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from quota_sentinel.engine import Freshness, Sample, Trend, freshness, horizon_for, observe
from quota_sentinel.services.context import Context
from quota_sentinel.store.snapshots import Snapshot, StoredSample


def series_of(samples: Iterable[StoredSample]) -> dict[str, list[Sample]]:
    """Stored polls → each window's engine samples, oldest first (failed polls carry none)."""
    series: dict[str, list[Sample]] = {}
    for stored in sorted(samples, key=lambda s: s.t):
        for name, (utilization, resets_at) in stored.windows.items():
            series.setdefault(name, []).append(Sample(stored.t, utilization, resets_at))
    return series


def trends_after_poll(
    ctx: Context,
    fp: str,
    sample: StoredSample,
    interval_s: float,
    previous: Snapshot | None = None,
) -> dict[str, dict[str, Any]]:
    """Each window's Trend (as JSON) once `sample`, a successful poll at sample.t, is in.

    Args:
        fp: the account; its recent samples within the velocity horizon are read.
        interval_s: the account's poll interval, which widens the horizon for slow pollers.
        previous: the account's snapshot before this poll, whose trends carry the held rate
            and level (None: nothing is carried, as for a first poll).
    """
    horizon = horizon_for(ctx.settings.velocity_horizon_min, interval_s)
    recent = ctx.store.snapshots.samples_since([fp], sample.t - horizon * 60.0).get(fp, [])
    series = series_of([s for s in recent if s.t != sample.t] + [sample])
    trends = {}
    for name in sample.windows:
        before = trend_of(previous, name) if previous is not None else None
        trend = observe(series[name], now=sample.t, horizon_min=horizon, previous=before)
        if trend is not None:
            trends[name] = trend.to_json()
    return trends


def trend_of(snap: Snapshot, name: str) -> Trend | None:
    """The stored Trend of one window; a snapshot written before trends were stored yields the
    last reading with no velocity yet."""
    stored = snap.trends.get(name)
    if stored is not None:
        return Trend.from_json(stored)
    last = snap.windows.get(name)
    if last is None:
        return None
    at = snap.ok_at if snap.ok_at is not None else snap.polled_at
    return Trend(at, last["utilization"], last.get("resets_at"), None, None, None, 0.0, 0.0, 1)


def freshness_of(snap: Snapshot, interval_s: float, now: float) -> Freshness:
    """How far the snapshot's data can be trusted at `now`.

    Args:
        interval_s: the poll interval to judge by when the snapshot does not record one.
    """
    return freshness(
        ok_at=snap.ok_at,
        error_code=snap.error["code"] if snap.error else None,
        error=snap.error["message"] if snap.error else None,
        poll_interval_s=snap.interval_s or interval_s,
        now=now,
    )
