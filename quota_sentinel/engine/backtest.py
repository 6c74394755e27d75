"""Replaying a window's samples through the forecast, and scoring how early it warned."""

from collections.abc import Sequence
from dataclasses import dataclass

from .samples import Sample
from .status import Status, WindowForecast, grade
from .trend import Trend, observe
from .velocity import split_segments

_ALARMS = (Status.YELLOW, Status.RED)


@dataclass(frozen=True)
class TracePoint:
    """The forecast as it would have been made at one sample.

    Attributes:
        t: The sample's time, which was `now` for the forecast, epoch seconds.
        forecast: The forecast made from the samples up to and including this one.
    """

    t: float
    forecast: WindowForecast


def run_window(
    samples: Sequence[Sample],
    *,
    cap: float,
    safety_margin_min: float,
    horizon_min: float = 60.0,
) -> list[TracePoint]:
    """Forecast at every sample, seeing only the samples up to it (and the trend of the sample
    before), as live polling would.

    Args:
        samples: One window's samples in any order; they are replayed sorted by t.
        cap: Utilization to stay under, percent.
        safety_margin_min: RED when the cap is this many minutes away or less.
        horizon_min: How far back the velocity is fitted, minutes.

    Returns:
        One point per sample, in time order.
    """
    ordered = sorted(samples, key=lambda s: s.t)
    points: list[TracePoint] = []
    trend: Trend | None = None
    for i, sample in enumerate(ordered):
        trend = observe(ordered[: i + 1], now=sample.t, horizon_min=horizon_min, previous=trend)
        forecast = grade(trend, cap=cap, now=sample.t, safety_margin_min=safety_margin_min)
        points.append(TracePoint(t=sample.t, forecast=forecast))
    return points


@dataclass(frozen=True)
class Summary:
    """How a replay went.

    Attributes:
        cap_reached_at: t of the first sample at or over the cap, epoch seconds; None if never.
        first_red_at: First RED in the window segment that reached the cap, up to that sample.
        first_yellow_at: First YELLOW or RED in that same stretch.
        red_lead_min: Minutes from first_red_at to cap_reached_at; None if the cap was not
            reached or no RED came strictly before it.
        yellow_lead_min: The same for first_yellow_at.
        needless_alarms: Alarm episodes (maximal runs of consecutive YELLOW/RED points) in
            segments that ended in a reset without reaching the cap.
        needless_red: RED episodes (maximal runs of consecutive RED points) that the cap did
            not follow: every one in a segment that never reached the cap (the last segment
            too: a window held under its cap), and in a segment that did, every one that ended
            before the cap was reached (RED that flapped off again).
        points: Number of points replayed.
    """

    cap_reached_at: float | None
    first_red_at: float | None
    first_yellow_at: float | None
    red_lead_min: float | None
    yellow_lead_min: float | None
    needless_alarms: int
    points: int
    needless_red: int = 0


def _first_at(points: Sequence[TracePoint], statuses: tuple[Status, ...]) -> float | None:
    return next((p.t for p in points if p.forecast.status in statuses), None)


def _lead_min(alarm_at: float | None, cap_at: float | None) -> float | None:
    if alarm_at is None or cap_at is None or alarm_at >= cap_at:
        return None
    return (cap_at - alarm_at) / 60.0


def _episodes(points: Sequence[TracePoint], statuses: tuple[Status, ...] = _ALARMS) -> int:
    episodes, in_alarm = 0, False
    for point in points:
        alarm = point.forecast.status in statuses
        if alarm and not in_alarm:
            episodes += 1
        in_alarm = alarm
    return episodes


def _needless_red(stretch: Sequence[TracePoint], cap_at: float | None) -> int:
    """RED episodes in one segment that the cap did not follow (see Summary.needless_red)."""
    if cap_at is None:
        return _episodes(stretch, (Status.RED,))
    before = [p for p in stretch if p.t < cap_at]
    episodes = _episodes(before, (Status.RED,))
    ongoing = bool(before) and before[-1].forecast.status is Status.RED
    return episodes - 1 if ongoing else episodes


def summarize(points: Sequence[TracePoint], samples: Sequence[Sample], cap: float) -> Summary:
    """Score a replay from `run_window`.

    Segments are split with the same reset rule as the velocity, so a segment is one window.

    Args:
        points: The replay, one point per sample, in time order.
        samples: The samples that were replayed, in any order.
        cap: The cap the replay used, percent.

    Returns:
        The summary.

    Raises:
        ValueError: If points and samples differ in number.
    """
    if len(points) != len(samples):
        raise ValueError(f"{len(points)} points for {len(samples)} samples")
    cap_at = first_red = first_yellow = None
    needless, needless_red, start = 0, 0, 0
    segments = split_segments(samples)
    for number, segment in enumerate(segments):
        stretch = points[start : start + len(segment)]
        start += len(segment)
        reached = [p.t for p, s in zip(stretch, segment, strict=True) if s.utilization >= cap]
        needless_red += _needless_red(stretch, reached[0] if reached else None)
        if reached and cap_at is None:
            cap_at = reached[0]
            before = [p for p in stretch if p.t <= cap_at]
            first_red = _first_at(before, (Status.RED,))
            first_yellow = _first_at(before, _ALARMS)
        elif not reached and number < len(segments) - 1:
            needless += _episodes(stretch)
    return Summary(
        cap_reached_at=cap_at,
        first_red_at=first_red,
        first_yellow_at=first_yellow,
        red_lead_min=_lead_min(first_red, cap_at),
        yellow_lead_min=_lead_min(first_yellow, cap_at),
        needless_alarms=needless,
        points=len(points),
        needless_red=needless_red,
    )
