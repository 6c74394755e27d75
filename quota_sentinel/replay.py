"""Backtests: a recorded trace replayed through the engine the workers use, with simulated time."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from quota_sentinel.engine import (
    Sample,
    Status,
    TracePoint,
    Trend,
    cap_for,
    freshness,
    grade,
    horizon_for,
    observe,
    recommend,
    summarize,
    worst_status,
)

# Seconds: the poll interval assumed for a trace row that does not say (the server's default).
DEFAULT_POLL_INTERVAL_S = 300.0


class TraceError(ValueError):
    """A trace line that cannot be used; the message names the line."""


@dataclass(frozen=True)
class TraceRow:
    """One sample of a trace: `t` and `resets_at` in epoch seconds, utilization in percent.

    A failed poll is a row with `error` (its code) and no window or utilization. Optional:
    `account` (rows of different accounts of one provider are replayed apart) and
    `poll_interval_s` (the interval in force, which widens the velocity horizon of slow pollers
    and sizes the trust window after a failed poll).
    """

    line: int
    t: float
    provider: str
    window: str | None
    utilization: float | None
    resets_at: float | None
    error: str | None = None
    account: str | None = None
    poll_interval_s: float | None = None


def _epoch(value: Any, field: str, line: int, allow_null: bool) -> float | None:
    if value is None and allow_null:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    if isinstance(value, str) and value.strip():
        try:
            moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            pass
        else:
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
            return moment.timestamp()
    kinds = "epoch seconds, ISO-8601" + (" or null" if allow_null else "")
    raise TraceError(f"line {line}: {field} must be {kinds}, got {value!r}.")


def _row(text: str, line: int) -> TraceRow:
    try:
        data = json.loads(text)
    except ValueError:
        raise TraceError(f"line {line}: not valid JSON.") from None
    if not isinstance(data, dict):
        raise TraceError(f"line {line}: expected a JSON object.")
    if data.get("error") is not None:
        return _failed_poll(data, line)
    for name in ("t", "provider", "window", "utilization"):
        if name not in data:
            raise TraceError(f"line {line}: missing {name!r}.")
    for name in ("provider", "window"):
        if not isinstance(data[name], str) or not data[name].strip():
            raise TraceError(f"line {line}: {name} must be a non-empty string.")
    util = data["utilization"]
    if isinstance(util, bool) or not isinstance(util, int | float) or not math.isfinite(util):
        raise TraceError(f"line {line}: utilization must be a number, got {util!r}.")
    if not 0 <= util <= 1000:
        raise TraceError(f"line {line}: utilization {util} is not a percentage.")
    return TraceRow(
        line=line,
        t=_epoch(data["t"], "t", line, allow_null=False),
        provider=data["provider"].strip(),
        window=data["window"].strip(),
        utilization=float(util),
        resets_at=_epoch(data.get("resets_at"), "resets_at", line, allow_null=True),
        account=_optional_text(data, "account", line),
        poll_interval_s=_interval(data, line),
    )


def _optional_text(data: dict, name: str, line: int) -> str | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise TraceError(f"line {line}: {name} must be a non-empty string.")
    return value.strip()


def _interval(data: dict, line: int) -> float | None:
    value = data.get("poll_interval_s")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 1e7:
        raise TraceError(f"line {line}: poll_interval_s must be a positive number of seconds.")
    return float(value)


def _failed_poll(data: dict, line: int) -> TraceRow:
    for name in ("t", "provider"):
        if name not in data:
            raise TraceError(f"line {line}: missing {name!r}.")
    if not isinstance(data["provider"], str) or not data["provider"].strip():
        raise TraceError(f"line {line}: provider must be a non-empty string.")
    return TraceRow(
        line=line,
        t=_epoch(data["t"], "t", line, allow_null=False),
        provider=data["provider"].strip(),
        window=None,
        utilization=None,
        resets_at=None,
        error=_optional_text(data, "error", line),
        account=_optional_text(data, "account", line),
        poll_interval_s=_interval(data, line),
    )


def parse_trace(lines: Iterable[str]) -> list[TraceRow]:
    """Every sample of a JSON Lines trace; blank lines are allowed, nothing else is skipped.

    Raises:
        TraceError: a line is not a valid sample (the message names it), or there is none.
    """
    rows = [_row(text, n) for n, text in enumerate(lines, start=1) if text.strip()]
    if not rows:
        raise TraceError("the trace has no samples.")
    return rows


@dataclass(frozen=True)
class ReplayOptions:
    safety_margin_min: float = 30.0
    horizon_min: float = 60.0
    framework: str = "opencode"
    cap: float | None = None
    hard_caps: Mapping[str, float] | None = None

    def cap_for(self, provider: str, window: str) -> float:
        if self.cap is not None:
            return self.cap
        return cap_for(provider, window, self.hard_caps)


def _iso(ts: float | None) -> str | None:
    return datetime.fromtimestamp(ts, UTC).isoformat() if ts is not None else None


@dataclass
class _Account:
    """What the server keeps of one account while the trace plays: samples, trends, last ok."""

    provider: str
    samples: dict[str, list[Sample]]
    trends: dict[str, Trend]
    ok_at: float | None = None


@dataclass(frozen=True)
class _Point:
    row: TraceRow
    window: str
    point: TracePoint


def _play(rows: list[TraceRow], options: ReplayOptions) -> list[_Point]:
    """Every poll of the trace as the server handles it: a successful poll observes each window
    (worker) and grades it at once (a request at the poll's moment); a failed poll grades every
    known window of the account on its last trend, as stale data."""
    accounts: dict[str, _Account] = {}
    out: list[_Point] = []
    for row in sorted(rows, key=lambda r: (r.t, r.line)):
        key = row.account or row.provider
        acct = accounts.setdefault(key, _Account(row.provider, {}, {}))
        interval = row.poll_interval_s
        if row.error is None:
            acct.ok_at = row.t
        fresh = freshness(
            ok_at=acct.ok_at,
            error_code=row.error,
            error=row.error,
            poll_interval_s=interval or DEFAULT_POLL_INTERVAL_S,
            now=row.t,
        )
        if row.error is None:
            series = acct.samples.setdefault(row.window, [])
            series.append(Sample(row.t, row.utilization, row.resets_at))
            horizon = horizon_for(options.horizon_min, interval)
            acct.trends[row.window] = observe(
                series, now=row.t, horizon_min=horizon, previous=acct.trends.get(row.window)
            )
            names = [row.window]
        else:
            names = sorted(acct.trends)
        for name in names:
            forecast = grade(
                acct.trends[name],
                cap=options.cap_for(row.provider, name),
                now=row.t,
                safety_margin_min=options.safety_margin_min,
                fresh=fresh,
            )
            out.append(_Point(row, name, TracePoint(row.t, forecast)))
    return out


def replay(rows: list[TraceRow], options: ReplayOptions) -> tuple[list[dict], list[dict]]:
    """Replays every window of the trace, each poll seeing only what came before it.

    Returns:
        (per-poll rows in time order, one summary per provider/window).
    """
    played = _play(rows, options)
    windows: dict[tuple[str, str, str], list[_Point]] = {}
    for p in played:
        if p.row.error is None:
            key = (p.row.account or p.row.provider, p.row.provider, p.window)
            windows.setdefault(key, []).append(p)
    summaries = []
    for (_, provider, window), group in windows.items():
        cap = options.cap_for(provider, window)
        samples = [Sample(p.row.t, p.row.utilization, p.row.resets_at) for p in group]
        summary = summarize([p.point for p in group], samples, cap)
        summaries.append(
            {
                "provider": provider,
                "window": window,
                "cap": cap,
                "points": summary.points,
                "cap_reached_at": _iso(summary.cap_reached_at),
                "first_red_at": _iso(summary.first_red_at),
                "first_yellow_at": _iso(summary.first_yellow_at),
                "red_lead_min": _round(summary.red_lead_min),
                "yellow_lead_min": _round(summary.yellow_lead_min),
                "needless_alarms": summary.needless_alarms,
                "needless_red": summary.needless_red,
            }
        )
    return _per_poll(played, options), summaries


def _per_poll(played: list[_Point], options: ReplayOptions) -> list[dict]:
    latest: dict[str, dict[str, Status]] = {}
    out = []
    for p in played:
        f = p.point.forecast
        latest.setdefault(p.row.provider, {})[p.window] = f.status
        provider_status = {name: worst_status(w.values()) for name, w in latest.items()}
        advice = recommend(options.framework, provider_status)
        item = {
            "t": _iso(p.row.t),
            "provider": p.row.provider,
            "window": p.window,
            "utilization": f.utilization,
            "velocity_pct_per_hour": _round(f.velocity_pct_per_hour),
            "projected_exhaustion_min": _round(f.projected_exhaustion_min),
            "projected_at_reset": _round(f.projected_at_reset),
            "status": f.status.value,
            "outlook_code": f.outlook.value,
            "recommendation": advice.recommendation.value,
        }
        if p.row.error is not None:
            item["error"] = p.row.error
        out.append(item)
    return out


def _round(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return round(value, 2)
