"""The engine traces through our forecast and through the original's: a fixed 10-sample regression
that ignores reset times. Prints both summaries side by side.

    .venv/bin/python bench/replay_vs_original.py [--margin 30] [--cap 80]

The original engine is modelled from its README: velocity = least-squares slope of the last 10
samples whatever their age or window, RED at the cap or when the cap is reached within the
margin, YELLOW within twice the margin, and no notion of a window resetting first. The same
margin (minutes) and cap are used for both, so only the forecasting differs. "needless" counts
alarm episodes on windows that reset first, "nl RED" RED episodes the cap did not follow.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from quota_sentinel.engine import (  # noqa: E402
    Sample,
    Status,
    TracePoint,
    WindowForecast,
    minutes_to_cap,
    run_window,
    summarize,
)
from tests.engine.trace_loader import TRACES_DIR, load_trace  # noqa: E402


def _slope_last_10(samples: list[Sample]) -> float | None:
    window = samples[-10:]
    if len(window) < 2:
        return None
    t0 = window[0].t
    xs = [(s.t - t0) / 3600 for s in window]
    ys = [s.utilization for s in window]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    if sxx == 0:
        return None
    return max(0.0, sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx)


def original_points(samples: list[Sample], cap: float, margin: float) -> list[TracePoint]:
    points = []
    ordered = sorted(samples, key=lambda s: s.t)
    for i, sample in enumerate(ordered):
        velocity = _slope_last_10(ordered[: i + 1])
        minutes = minutes_to_cap(sample.utilization, velocity, cap)
        if sample.utilization >= cap or (minutes is not None and minutes <= margin):
            status = Status.RED
        elif minutes is not None and minutes <= 2 * margin:
            status = Status.YELLOW
        else:
            status = Status.GREEN
        forecast = WindowForecast(
            sample.utilization,
            velocity,
            minutes,
            None,
            sample.resets_at,
            cap,
            status,
            min(i + 1, 10),
        )
        points.append(TracePoint(sample.t, forecast))
    return points


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--margin", type=float, default=30.0)
    parser.add_argument("--cap", type=float, default=80.0)
    args = parser.parse_args()
    print(f"cap {args.cap:g} %, margin {args.margin:g} min; leads in minutes before the cap")
    print(
        f"{'trace':26}{'ours: RED/YEL lead, needless':>32}{'nl RED':>7}"
        f"{'original: RED/YEL lead, needless':>36}{'nl RED':>7}"
    )
    for path in sorted(TRACES_DIR.glob("*.jsonl")):
        trace = load_trace(path.stem)
        ours = summarize(
            run_window(trace.samples, cap=args.cap, safety_margin_min=args.margin),
            trace.samples,
            args.cap,
        )
        theirs = summarize(
            original_points(trace.samples, args.cap, args.margin), trace.samples, args.cap
        )
        print(
            f"{path.stem:26}"
            f"{_fmt(ours.red_lead_min):>14}/{_fmt(ours.yellow_lead_min):<6}{ours.needless_alarms:>10}"
            f"{ours.needless_red:>7}"
            f"{_fmt(theirs.red_lead_min):>18}/{_fmt(theirs.yellow_lead_min):<6}"
            f"{theirs.needless_alarms:>10}{theirs.needless_red:>7}"
        )


if __name__ == "__main__":
    main()
