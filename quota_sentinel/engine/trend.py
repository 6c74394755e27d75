"""What the polls so far say about one window, before any cap is applied: the `Trend`.

A poll yields one sample per window; `observe` turns the window's recent samples (and the trend
of the previous poll) into a Trend: the latest reading, the burn rate projections use, the
measurement noise and the look-ahead. It depends on no cap and no instance, so the worker
computes it once per poll and stores it; every reader then grades it against its own cap with
`grade` (engine/status.py), which is plain arithmetic.

The burn rate is the larger of two fits of the current window (after the last reset), each
taken by its lower confidence bound, slope − NOISE_SIGMAS standard errors, where the noise is
the readings' spread around the line, and over fewer than MIN_NOISE_SAMPLES samples never less
than half their resolution (whole-percent readings, as Z.ai reports them, are up to 0.5 points
off, and a handful of samples cannot show it):

- the long fit, least squares over the velocity horizon (60 min by default, widened to span
  2.5 poll intervals for slow pollers): steady, but a burst from idle is diluted by the idle
  stretch inside it;
- the short fit, over the last SHORT_HORIZON_MIN (at least SHORT_FIT_GAPS poll gaps), from
  MIN_FIT_SAMPLES samples on: the second opinion that sees a burst within a few polls.

The bound is the hysteresis: a window held flat just under its cap, with noisy whole-percent
readings, shows slopes of several points an hour over a few minutes, but never significant
ones; a real burn is clean enough that the bound costs it well under a point an hour.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from .samples import Sample
from .velocity import RESET_DROP_TOLERANCE, current_segment

# Minutes. The second-opinion fit looks back this far (or SHORT_FIT_GAPS poll gaps if longer).
SHORT_HORIZON_MIN = 15.0
SHORT_FIT_GAPS = 3
# A fit needs this many samples to say anything.
MIN_FIT_SAMPLES = 3
# Below this many samples (or SHORT_HORIZON_MIN of them) the residuals understate the noise.
MIN_NOISE_SAMPLES = 12
# Confidence of a fitted rate: its lower bound is this many standard errors below the slope
# (about 97.5 % one-sided)...
NOISE_SIGMAS = 2.0
# ...or, when the noise is estimated from fewer than MIN_NOISE_SAMPLES residuals, Student's t
# at 97.5 % by degrees of freedom (n - 2), which allows for the estimate being low.
_T_975 = {1: 12.71, 2: 4.30, 3: 3.18, 4: 2.78, 5: 2.57, 6: 2.45, 7: 2.36, 8: 2.31, 9: 2.26}


def _sigmas(dof: int) -> float:
    """The multiplier for a noise estimated on `dof` degrees of freedom."""
    return _T_975.get(dof, NOISE_SIGMAS)


@dataclass(frozen=True)
class Fit:
    """A least-squares line through (time, utilization).

    Attributes:
        slope: Percent per hour.
        stderr: Standard error of the slope, percent per hour (0.0 when it cannot be known).
        noise: Standard deviation of the readings around the line, percent; with fewer than
            MIN_NOISE_SAMPLES samples never below half the readings' resolution.
        samples: How many samples the line was fitted on.
        sigmas: How many standard errors the lower bound lies below the slope: Student's t
            when the noise was estimated from few residuals, else NOISE_SIGMAS.
    """

    slope: float
    stderr: float
    noise: float
    samples: int
    sigmas: float = NOISE_SIGMAS

    @property
    def lower(self) -> float:
        """The slope `sigmas` standard errors down, never below 0."""
        return max(self.slope - self.sigmas * self.stderr, 0.0)


def _quantum(samples: Sequence[Sample]) -> float:
    """The readings' resolution: 1 point when every reading is whole, else 0.1."""
    return 1.0 if all(float(s.utilization).is_integer() for s in samples) else 0.1


def fit(samples: Sequence[Sample]) -> Fit | None:
    """Least-squares slope of utilization over time, with its standard error.

    Args:
        samples: Samples sorted by t.

    Returns:
        The fit; None with fewer than two samples or when they share one timestamp.
    """
    if len(samples) < 2:
        return None
    t0 = samples[0].t
    hours = [(s.t - t0) / 3600.0 for s in samples]
    utils = [s.utilization for s in samples]
    n = len(samples)
    mean_h = sum(hours) / n
    mean_u = sum(utils) / n
    # Built-in sum and d * d: math.fsum and ** raise OverflowError on absurd inputs.
    sxx = sum((h - mean_h) * (h - mean_h) for h in hours)
    if sxx == 0.0:
        return None
    sxy = sum((h - mean_h) * (u - mean_u) for h, u in zip(hours, utils, strict=True))
    slope = sxy / sxx
    errors = [u - mean_u - slope * (h - mean_h) for h, u in zip(hours, utils, strict=True)]
    residual = sum(e * e for e in errors)
    noise = math.sqrt(residual / (n - 2)) if n > 2 else 0.0
    sigmas = _sigmas(n - 2)
    floor = _quantum(samples) / 2.0
    short = n < MIN_NOISE_SAMPLES or hours[-1] - hours[0] < SHORT_HORIZON_MIN / 60.0
    if short and noise < floor:
        # Too few samples, or too short a stretch, to see the noise in the residuals: assume
        # half the readings' resolution (whole-percent readings are up to 0.5 points off).
        noise, sigmas = floor, NOISE_SIGMAS
    return Fit(slope, noise / math.sqrt(sxx), noise, n, sigmas)


def horizon_for(horizon_min: float, poll_interval_s: float | None) -> float:
    """The velocity look-back in minutes: the configured horizon, widened so that it spans at
    least 2.5 poll intervals (a slow poller would otherwise never have two samples in it)."""
    if poll_interval_s is None:
        return horizon_min
    return max(horizon_min, 2.5 * poll_interval_s / 60.0)


@dataclass(frozen=True)
class Trend:
    """One window as of its latest poll, independent of any cap.

    Attributes:
        t: When the latest sample was read, epoch seconds.
        utilization: Percent used at t.
        resets_at: When the provider said the window resets, epoch seconds, or None.
        velocity: The burn rate projections use, percent per hour; None until two samples.
        long_velocity: The long fit's slope, percent per hour, or None.
        short_velocity: The short fit's lower bound when it is the larger opinion, else None.
        noise: Spread of the readings around the long fit, percent (0.0 without a fit).
        lookahead_min: Longest gap between the samples in the horizon: how long until the
            window may next be looked at.
        samples_used: Samples in the long fit.
        level: The highest reading of this window so far, unless a later one fell by more
            than RESET_DROP_TOLERANCE points (None in trends stored before it was kept):
            within a window usage does not flow back, so projections start from it and a
            noisy reading below it cannot pull a RED window back to YELLOW.
    """

    t: float
    utilization: float
    resets_at: float | None
    velocity: float | None
    long_velocity: float | None
    short_velocity: float | None
    noise: float
    lookahead_min: float
    samples_used: int
    level: float | None = None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (floats unrounded; non-finite ones become None)."""
        return {
            k: (None if isinstance(v, float) and not math.isfinite(v) else v)
            for k, v in asdict(self).items()
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Trend:
        """The inverse of to_json."""
        return cls(**{k: data.get(k) for k in cls.__dataclass_fields__})


def _rate(f: Fit | None) -> float | None:
    return None if f is None else f.lower


def _same_window(previous: Trend | None, segment: Sequence[Sample], start: float) -> bool:
    """Whether the previous poll's trend is of this window and inside the horizon (the worker
    sees only the horizon's samples, so a replay that sees more must judge by the same)."""
    if previous is None:
        return False
    return max(segment[0].t, start) <= previous.t < segment[-1].t


def _held(previous: Trend | None, segment: Sequence[Sample], start: float) -> float | None:
    """The previous poll's rate, if it is of this window and inside the horizon."""
    if previous is None or previous.velocity is None or not _same_window(previous, segment, start):
        return None
    return previous.velocity


def observe(
    samples: Sequence[Sample],
    *,
    now: float,
    horizon_min: float = 60.0,
    previous: Trend | None = None,
) -> Trend | None:
    """The trend of one window at `now`, from its samples and the trend of the poll before.

    Samples later than `now` are ignored (in a replay they are the future); samples before the
    last detected reset belong to an earlier window and are ignored too.

    The rate is held, not re-estimated from scratch: a bound two standard errors down wobbles
    from poll to poll (whole-percent readings climb in steps), and a status near its RED
    threshold would flap with it. So the previous poll's rate stands as long as the fitted
    slope still reaches it; only a slope below it (the burn really slowing) brings it down.
    This is the hysteresis for leaving RED, sized by the noise the bound already carries. The
    same holds for the level projections start from: the highest reading of the window so far,
    not the latest, which noise may have pulled down.

    Args:
        samples: The window's samples in any order.
        now: The moment of the poll, epoch seconds.
        horizon_min: The long fit's look-back, minutes (see horizon_for).
        previous: The trend of the window's previous poll (ignored unless it is of the same
            window and inside the horizon).

    Returns:
        The trend, or None without any sample up to now.
    """
    segment = current_segment([s for s in samples if s.t <= now])
    if not segment:
        return None
    latest = segment[-1]
    window = [s for s in segment if s.t >= now - horizon_min * 60.0]
    gaps = [(b.t - a.t) / 60.0 for a, b in zip(window, window[1:], strict=False)]
    long_fit = fit(window)
    long_rate = _rate(long_fit)
    short_min = max(SHORT_HORIZON_MIN, SHORT_FIT_GAPS * max(gaps, default=0.0))
    short = [s for s in window if s.t >= now - short_min * 60.0]
    short_fit = fit(short) if len(short) >= MIN_FIT_SAMPLES else None
    short_rate = _rate(short_fit)
    second = short_rate is not None and (long_rate is None or short_rate > long_rate)
    velocity = short_rate if second else long_rate
    chosen = short_fit if second else long_fit
    start = now - horizon_min * 60.0
    held = _held(previous, segment, start)
    if velocity is not None and held is not None and chosen is not None:
        velocity = max(velocity, min(held, chosen.slope))
    level = latest.utilization
    if _same_window(previous, segment, start) and previous.level is not None:
        # A dip within the noise tolerance is noise; a larger drop is real (a rolling window
        # shedding old usage, a provider's correction) and is believed.
        if previous.level - level <= RESET_DROP_TOLERANCE:
            level = max(level, previous.level)
    return Trend(
        t=latest.t,
        utilization=latest.utilization,
        resets_at=latest.resets_at,
        velocity=velocity,
        long_velocity=long_fit.slope if long_fit else None,
        short_velocity=short_rate if second else None,
        noise=long_fit.noise if long_fit else 0.0,
        lookahead_min=max(gaps, default=0.0),
        samples_used=len(window),
        level=level,
    )
