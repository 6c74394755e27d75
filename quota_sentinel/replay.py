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
    cap_for,
    recommend,
    run_window,
    summarize,
    worst_status,
)


class TraceError(ValueError):
    """A trace line that cannot be used; the message names the line."""


@dataclass(frozen=True)
class TraceRow:
    """One sample of a trace: `t` and `resets_at` in epoch seconds, utilization in percent."""

    line: int
    t: float
    provider: str
    window: str
    utilization: float
    resets_at: float | None


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


def replay(rows: list[TraceRow], options: ReplayOptions) -> tuple[list[dict], list[dict]]:
    """Replays every window of the trace, each sample seeing only what came before it.

    Returns:
        (per-sample rows in time order, one summary per provider/window).
    """
    windows: dict[tuple[str, str], list[TraceRow]] = {}
    for row in sorted(rows, key=lambda r: (r.t, r.line)):
        windows.setdefault((row.provider, row.window), []).append(row)
    points: dict[int, tuple[TraceRow, TracePoint]] = {}
    summaries = []
    for (provider, window), group in windows.items():
        cap = options.cap_for(provider, window)
        samples = [Sample(r.t, r.utilization, r.resets_at) for r in group]
        replayed = run_window(
            samples,
            cap=cap,
            safety_margin_min=options.safety_margin_min,
            horizon_min=options.horizon_min,
        )
        for row, point in zip(group, replayed, strict=True):
            points[row.line] = (row, point)
        summary = summarize(replayed, samples, cap)
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
            }
        )
    return _per_sample(points, options), summaries


def _per_sample(points: dict[int, tuple[TraceRow, TracePoint]], options: ReplayOptions):
    latest: dict[str, dict[str, Status]] = {}
    out = []
    for row, point in sorted(points.values(), key=lambda rp: (rp[0].t, rp[0].line)):
        f = point.forecast
        latest.setdefault(row.provider, {})[row.window] = f.status
        provider_status = {p: worst_status(w.values()) for p, w in latest.items()}
        advice = recommend(options.framework, provider_status)
        out.append(
            {
                "t": _iso(row.t),
                "provider": row.provider,
                "window": row.window,
                "utilization": row.utilization,
                "velocity_pct_per_hour": _round(f.velocity_pct_per_hour),
                "projected_exhaustion_min": _round(f.projected_exhaustion_min),
                "projected_at_reset": _round(f.projected_at_reset),
                "status": f.status.value,
                "recommendation": advice.recommendation.value,
            }
        )
    return out


def _round(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return round(value, 2)
