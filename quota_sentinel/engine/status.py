"""Window status (GREEN/YELLOW/RED/UNKNOWN) and the per-window forecast that carries it."""

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from .projection import minutes_to_cap, projected_at_reset
from .samples import Sample
from .velocity import horizon_samples, sample_gap_min, velocity_pct_per_hour


class Status(StrEnum):
    """Health of a window or provider; the value equals the name."""

    GREEN = "GREEN"
    YELLOW = "YELLOW"
    RED = "RED"
    UNKNOWN = "UNKNOWN"


# YELLOW starts at this multiple of the safety margin before the cap: the threshold scales with
# velocity (cap - utilization <= velocity * factor * margin), so fast burns warn earlier.
YELLOW_MARGIN_FACTOR = 2.0
# Minutes. Caps the look-ahead so one long gap between polls cannot turn everything RED.
MAX_LOOKAHEAD_MIN = 15.0

_SEVERITY = {Status.GREEN: 1, Status.YELLOW: 2, Status.RED: 3}


def window_status(
    utilization: float | None,
    velocity: float | None,
    cap: float,
    safety_margin_min: float,
    minutes_until_reset: float | None,
    lookahead_min: float = 0.0,
    stale: bool = False,
) -> Status:
    """Classify one window.

    Polls are discrete: a window that is just outside the margin now may be well inside it by
    the next poll. Adding the look-ahead (about one poll interval) to both thresholds makes the
    first RED arrive no later than the margin, instead of up to one poll interval after it.

    Args:
        utilization: Percent used now, 0–100; None if never polled.
        velocity: Burn rate, percent per hour; None if unknown.
        cap: Utilization to stay under, percent.
        safety_margin_min: RED when the cap is this many minutes away or less.
        minutes_until_reset: Minutes until the window resets; None if unknown.
        lookahead_min: Minutes until the next look, clamped to 0..MAX_LOOKAHEAD_MIN.
        stale: True if the data is too old to trust.

    Returns:
        UNKNOWN without usable data; RED at or over the cap or when the cap is within the
        margin; YELLOW within YELLOW_MARGIN_FACTOR margins; GREEN when not rising, when the
        window resets before it would reach the cap, or otherwise.
    """
    if utilization is None or stale:
        return Status.UNKNOWN
    if utilization >= cap:
        return Status.RED
    minutes = minutes_to_cap(utilization, velocity, cap)
    if minutes is None:
        return Status.GREEN
    if minutes_until_reset is not None and minutes_until_reset < minutes:
        return Status.GREEN
    look = min(max(lookahead_min, 0.0), MAX_LOOKAHEAD_MIN)
    if minutes <= safety_margin_min + look:
        return Status.RED
    if minutes <= YELLOW_MARGIN_FACTOR * safety_margin_min + look:
        return Status.YELLOW
    return Status.GREEN


def _json_float(value: float | None) -> float | None:
    # JSON has no infinity; a tiny positive velocity can project an infinite time to the cap.
    if value is None or not math.isfinite(value):
        return None
    return round(value, 2)


@dataclass(frozen=True)
class WindowForecast:
    """Everything the engine says about one window at one moment.

    Attributes:
        utilization: Percent used at the latest sample; None without samples.
        velocity_pct_per_hour: Burn rate, percent per hour; None if unknown.
        projected_exhaustion_min: Minutes until the cap at this velocity; None if not rising.
        projected_at_reset: Utilization at resets_at at this velocity, percent, unclamped.
        resets_at: When the window resets, epoch seconds; None if unknown or already past.
        cap: The cap used, percent.
        status: The window's status.
        samples_used: How many samples the velocity was fitted on.
    """

    utilization: float | None
    velocity_pct_per_hour: float | None
    projected_exhaustion_min: float | None
    projected_at_reset: float | None
    resets_at: float | None
    cap: float
    status: Status
    samples_used: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form: status as its string, floats rounded to 2 decimals.

        Returns:
            A dict of plain values; resets_at stays an epoch float for the caller to format.
        """
        return {
            "utilization": _json_float(self.utilization),
            "velocity_pct_per_hour": _json_float(self.velocity_pct_per_hour),
            "projected_exhaustion_min": _json_float(self.projected_exhaustion_min),
            "projected_at_reset": _json_float(self.projected_at_reset),
            "resets_at": self.resets_at,
            "cap": _json_float(self.cap),
            "status": self.status.value,
            "samples_used": self.samples_used,
        }


def forecast_window(
    samples: Sequence[Sample],
    *,
    cap: float,
    now: float,
    safety_margin_min: float,
    horizon_min: float = 60.0,
    stale: bool = False,
) -> WindowForecast:
    """Forecast one window from its samples.

    Samples later than `now` are ignored. The latest sample gives utilization and resets_at;
    a resets_at already in the past counts as unknown, since the provider has not yet reported
    the next one.

    Args:
        samples: The window's samples in any order.
        cap: Utilization to stay under, percent.
        now: Current time, epoch seconds.
        safety_margin_min: RED when the cap is this many minutes away or less.
        horizon_min: How far back the velocity is fitted, minutes.
        stale: True if the data is too old to trust; the status is then UNKNOWN.

    Returns:
        The forecast; with no samples every value is None and the status UNKNOWN.
    """
    observed = sorted((s for s in samples if s.t <= now), key=lambda s: s.t)
    if not observed:
        return WindowForecast(None, None, None, None, None, cap, Status.UNKNOWN, 0)
    latest = observed[-1]
    resets_at = latest.resets_at
    if resets_at is not None and resets_at < now:
        resets_at = None
    velocity = velocity_pct_per_hour(observed, now, horizon_min)
    until_reset = None if resets_at is None else (resets_at - now) / 60.0
    status = window_status(
        latest.utilization,
        velocity,
        cap,
        safety_margin_min,
        until_reset,
        lookahead_min=sample_gap_min(observed, now, horizon_min),
        stale=stale,
    )
    return WindowForecast(
        utilization=latest.utilization,
        velocity_pct_per_hour=velocity,
        projected_exhaustion_min=minutes_to_cap(latest.utilization, velocity, cap),
        projected_at_reset=projected_at_reset(latest.utilization, velocity, resets_at, now),
        resets_at=resets_at,
        cap=cap,
        status=status,
        samples_used=len(horizon_samples(observed, now, horizon_min)),
    )


def severity(status: Status) -> int:
    """Rank a status for comparison.

    Args:
        status: Any status.

    Returns:
        0 for UNKNOWN, then 1 GREEN, 2 YELLOW, 3 RED.
    """
    return _SEVERITY.get(status, 0)


def worst_status(statuses: Iterable[Status]) -> Status:
    """Combine statuses (a provider's windows, or an instance's providers) into one.

    Args:
        statuses: Any number of statuses.

    Returns:
        The most severe known status (RED > YELLOW > GREEN); UNKNOWN only when there are none
        or every one is UNKNOWN, because a known status says more than missing data.
    """
    return max(statuses, key=severity, default=Status.UNKNOWN)
