"""Window status (GREEN/YELLOW/RED/UNKNOWN) and the per-window forecast that carries it."""

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from .freshness import FRESH, Freshness
from .projection import minutes_to_cap, projected_at_reset
from .samples import Sample
from .trend import Trend, observe


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


class Outlook(StrEnum):
    """Where a window is heading, in one word; the value is the API's text.

    NO_DATA: nothing usable to grade. AT_CAP: at or over the cap now. RUNS_OUT: the cap is
    within the alarm range (the window is YELLOW or RED). AHEAD_OF_PACE: GREEN, but at this rate
    the cap comes long before the window resets. RISING: GREEN and rising, no reset known.
    LASTS_UNTIL_RESET: the window resets before it would reach the cap. NOT_RISING: no burn.
    """

    NO_DATA = "no_data"
    AT_CAP = "at_cap"
    RUNS_OUT = "runs_out"
    AHEAD_OF_PACE = "ahead_of_pace"
    RISING = "rising"
    LASTS_UNTIL_RESET = "lasts_until_reset"
    NOT_RISING = "not_rising"


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
    return value


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
        outlook: Where the window is heading (see Outlook).
        stale: The data is from before a failed or missing poll.
    """

    utilization: float | None
    velocity_pct_per_hour: float | None
    projected_exhaustion_min: float | None
    projected_at_reset: float | None
    resets_at: float | None
    cap: float
    status: Status
    samples_used: int
    outlook: Outlook = Outlook.NO_DATA
    stale: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form: status and outlook as their strings, non-finite floats as None.

        Nothing is rounded or formatted here: that is the edge's business (the API schemas,
        the terminal, the dashboard, replay's output).

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
            "outlook_code": self.outlook.value,
        }


def outlook_of(
    status: Status,
    utilization: float | None,
    minutes: float | None,
    minutes_until_reset: float | None,
    cap: float,
) -> Outlook:
    """Where a graded window is heading (see Outlook)."""
    if utilization is None or status is Status.UNKNOWN:
        return Outlook.NO_DATA
    if utilization >= cap:
        return Outlook.AT_CAP
    if minutes is None:
        return Outlook.NOT_RISING
    if minutes_until_reset is not None and minutes_until_reset < minutes:
        return Outlook.LASTS_UNTIL_RESET
    if status is not Status.GREEN:
        return Outlook.RUNS_OUT
    return Outlook.RISING if minutes_until_reset is None else Outlook.AHEAD_OF_PACE


def grade(
    trend: Trend | None,
    *,
    cap: float,
    now: float,
    safety_margin_min: float,
    fresh: Freshness = FRESH,
) -> WindowForecast:
    """Grade one window's trend against a cap: the one rule every reader applies.

    The server (per instance, with its effective cap), the team view, `replay` and `guard` all
    come here; only arithmetic happens, so a request can afford it for every account.

    Args:
        trend: The window's trend from `observe`; None if never polled.
        cap: Utilization to stay under, percent (an instance's effective cap, or the cap).
        now: Current time, epoch seconds.
        safety_margin_min: RED when the cap is this many minutes away or less.
        fresh: How far the data can be trusted (engine/freshness.py); stale but usable data
            grades as of the last good poll, unusable data grades UNKNOWN.

    Returns:
        The forecast; without a trend every value is None and the status UNKNOWN.
    """
    if trend is None:
        return WindowForecast(None, None, None, None, None, cap, Status.UNKNOWN, 0)
    at = fresh.as_of(now)
    resets_at = trend.resets_at
    if resets_at is not None and resets_at < at:
        resets_at = None
    until_reset = None if resets_at is None else (resets_at - at) / 60.0
    # Projections start from the highest reading of the window so far (see Trend.level).
    level = trend.utilization if trend.level is None else max(trend.level, trend.utilization)
    minutes = minutes_to_cap(level, trend.velocity, cap)
    status = window_status(
        level,
        trend.velocity,
        cap,
        safety_margin_min,
        until_reset,
        lookahead_min=trend.lookahead_min,
        stale=not fresh.usable,
    )
    return WindowForecast(
        utilization=trend.utilization,
        velocity_pct_per_hour=trend.velocity,
        projected_exhaustion_min=minutes,
        projected_at_reset=projected_at_reset(level, trend.velocity, resets_at, at),
        resets_at=resets_at,
        cap=cap,
        status=status,
        samples_used=trend.samples_used,
        outlook=outlook_of(status, level, minutes, until_reset, cap),
        stale=fresh.stale,
    )


def forecast_window(
    samples: Sequence[Sample],
    *,
    cap: float,
    now: float,
    safety_margin_min: float,
    horizon_min: float = 60.0,
    stale: bool = False,
) -> WindowForecast:
    """Forecast one window from its samples: `observe` at now, then `grade`.

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
    fresh = Freshness(None, None, stale, not stale, None, None)
    trend = observe(samples, now=now, horizon_min=horizon_min)
    return grade(trend, cap=cap, now=now, safety_margin_min=safety_margin_min, fresh=fresh)


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
