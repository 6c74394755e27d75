"""Window-reset detection and the burn rate (velocity) of a window in percent per hour."""

from collections.abc import Sequence

from .samples import Sample

# Without resets_at, a drop of at most this many points is rounding or reporting noise, not a
# new window. Polls with ±1.5-point noise swing up to 3 points between two samples; a smaller
# tolerance split noisy windows into false segments (237 of 300 seeded noisy traces did).
RESET_DROP_TOLERANCE = 3.0
# Providers recompute resets_at on every poll and may jitter it by a few seconds; a move
# forward of more than this many seconds means a new window started.
RESET_MOVE_TOLERANCE_S = 60.0


def is_reset(prev: Sample, cur: Sample) -> bool:
    """Tell whether a window reset happened between two consecutive samples.

    Args:
        prev: The earlier sample.
        cur: The sample that follows it.

    Returns:
        When both samples carry resets_at, the provider says which window each belongs to:
        True only if resets_at moved forward by more than RESET_MOVE_TOLERANCE_S. Otherwise,
        True if utilization dropped by more than RESET_DROP_TOLERANCE points.
    """
    if prev.resets_at is not None and cur.resets_at is not None:
        return cur.resets_at - prev.resets_at > RESET_MOVE_TOLERANCE_S
    return prev.utilization - cur.utilization > RESET_DROP_TOLERANCE


def split_segments(samples: Sequence[Sample]) -> list[list[Sample]]:
    """Split samples into window segments, one per window between resets.

    Args:
        samples: Samples in any order.

    Returns:
        Segments in time order, each sorted by t; empty if there are no samples.
    """
    segments: list[list[Sample]] = []
    for sample in sorted(samples, key=lambda s: s.t):
        if segments and not is_reset(segments[-1][-1], sample):
            segments[-1].append(sample)
        else:
            segments.append([sample])
    return segments


def current_segment(samples: Sequence[Sample]) -> list[Sample]:
    """Keep only the samples of the current window, i.e. after the last reset.

    Args:
        samples: Samples in any order.

    Returns:
        The samples since the last detected reset, sorted by t.
    """
    segments = split_segments(samples)
    return segments[-1] if segments else []


def horizon_samples(
    samples: Sequence[Sample], now: float, horizon_min: float = 60.0
) -> list[Sample]:
    """Select the samples the velocity is fitted on.

    Samples later than `now` are ignored before the reset split: in a replay they are the
    future, and a reset among them must not hide the present window.

    Args:
        samples: Samples in any order.
        now: Current time, epoch seconds.
        horizon_min: How far back to look, minutes.

    Returns:
        Samples of the current segment with now - horizon_min * 60 <= t <= now, sorted by t.
    """
    start = now - horizon_min * 60.0
    segment = current_segment([s for s in samples if s.t <= now])
    return [s for s in segment if s.t >= start]


def velocity_pct_per_hour(
    samples: Sequence[Sample], now: float, horizon_min: float = 60.0
) -> float | None:
    """Least-squares slope of utilization over time in the current window.

    A fit over a time horizon, rather than over the last N samples, keeps the estimate
    comparable when the poll interval changes.

    Args:
        samples: Samples in any order.
        now: Current time, epoch seconds.
        horizon_min: How far back to fit, minutes.

    Returns:
        The slope in percent per hour, 0.0 if utilization is falling; None with fewer than two
        samples in the horizon or when they all share one timestamp.
    """
    window = horizon_samples(samples, now, horizon_min)
    if len(window) < 2:
        return None
    # Hours relative to the first sample: epoch seconds squared would lose precision.
    t0 = window[0].t
    hours = [(s.t - t0) / 3600.0 for s in window]
    utils = [s.utilization for s in window]
    # Built-in sum and d * d rather than math.fsum and d ** 2: those raise OverflowError on
    # absurd inputs, where an inf result is harmless.
    mean_h = sum(hours) / len(hours)
    mean_u = sum(utils) / len(utils)
    sxx = sum((h - mean_h) * (h - mean_h) for h in hours)
    if sxx == 0.0:
        return None
    sxy = sum((h - mean_h) * (u - mean_u) for h, u in zip(hours, utils, strict=True))
    slope = sxy / sxx
    # Usage never flows back within a window; a negative fit is noise.
    return slope if slope > 0.0 else 0.0


def sample_gap_min(samples: Sequence[Sample], now: float, horizon_min: float = 60.0) -> float:
    """Longest spacing between consecutive samples of the current window within the horizon.

    This is the look-ahead for status: by the time the window is looked at again, up to this
    much time may have passed. The longest gap, not the median: with uneven polls the median
    let the first RED come up to five minutes late (41 of 500 seeded irregular traces).

    Args:
        samples: Samples in any order.
        now: Current time, epoch seconds.
        horizon_min: How far back to look, minutes.

    Returns:
        The longest gap in minutes; 0.0 with fewer than two samples.
    """
    window = horizon_samples(samples, now, horizon_min)
    if len(window) < 2:
        return 0.0
    gaps = [(b.t - a.t) / 60.0 for a, b in zip(window, window[1:], strict=False)]
    return max(gaps)
