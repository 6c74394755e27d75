"""Tests for replaying samples through the forecast and summarizing the replay."""

import pytest

from quota_sentinel.engine import Sample, Status, run_window, summarize
from quota_sentinel.engine.backtest import TracePoint
from quota_sentinel.engine.status import WindowForecast

T0 = 1_767_225_600.0
CAP = 80.0


def at(minute: float) -> float:
    return T0 + minute * 60.0


def point(minute: float, status: Status) -> TracePoint:
    return TracePoint(at(minute), WindowForecast(None, None, None, None, None, CAP, status, 0))


def test_run_window_forecasts_each_sample_with_only_the_past():
    samples = [Sample(at(m), 10.0 + m) for m in (10, 0, 5)]

    points = run_window(samples, cap=CAP, safety_margin_min=30.0)

    assert [p.t for p in points] == [at(0), at(5), at(10)]
    assert [p.forecast.utilization for p in points] == [10.0, 15.0, 20.0]
    assert points[0].forecast.velocity_pct_per_hour is None
    # Three whole-percent readings: 60 %/h fitted, vouched for two standard errors down.
    assert 50.0 < points[2].forecast.velocity_pct_per_hour < 60.0
    assert [p.forecast.samples_used for p in points] == [1, 2, 3]


def test_summarize_measures_lead_before_the_cap():
    samples = [Sample(at(m), u) for m, u in [(0, 40), (5, 50), (10, 60), (15, 70), (20, 80)]]
    statuses = [Status.GREEN, Status.YELLOW, Status.YELLOW, Status.RED, Status.RED]
    points = [point(m, s) for m, s in zip((0, 5, 10, 15, 20), statuses, strict=True)]

    summary = summarize(points, samples, CAP)

    assert summary.cap_reached_at == at(20)
    assert summary.first_red_at == at(15)
    assert summary.first_yellow_at == at(5)
    assert summary.red_lead_min == 5.0
    assert summary.yellow_lead_min == 15.0
    assert summary.needless_alarms == 0
    assert summary.points == 5


def test_summarize_gives_no_lead_when_the_alarm_comes_with_the_cap():
    samples = [Sample(at(0), 40.0), Sample(at(5), 85.0)]
    points = [point(0, Status.GREEN), point(5, Status.RED)]

    summary = summarize(points, samples, CAP)

    assert summary.first_red_at == at(5)
    assert summary.red_lead_min is None
    assert summary.yellow_lead_min is None


def test_summarize_ignores_alarms_of_earlier_windows_for_the_lead():
    # Window 1 alarms at 5 and resets; window 2 alarms at 20 and reaches the cap at 25.
    utils = [(0, 60), (5, 70), (10, 5), (15, 40), (20, 70), (25, 81)]
    samples = [Sample(at(m), u) for m, u in utils]
    statuses = ["GREEN", "RED", "GREEN", "GREEN", "RED", "RED"]
    points = [point(m, Status(s)) for (m, _), s in zip(utils, statuses, strict=True)]

    summary = summarize(points, samples, CAP)

    assert summary.first_red_at == at(20)
    assert summary.red_lead_min == 5.0
    assert summary.needless_alarms == 1


def test_summarize_counts_alarm_episodes_in_windows_that_reset_below_the_cap():
    utils = [(0, 50), (5, 55), (10, 60), (15, 65), (20, 70), (25, 2), (30, 3), (35, 4)]
    samples = [Sample(at(m), u) for m, u in utils]
    statuses = ["YELLOW", "RED", "GREEN", "YELLOW", "GREEN", "GREEN", "YELLOW", "RED"]
    points = [point(m, Status(s)) for (m, _), s in zip(utils, statuses, strict=True)]

    summary = summarize(points, samples, CAP)

    # Two episodes in the first window; the last window has not ended, so it is not judged.
    assert summary.needless_alarms == 2
    assert summary.cap_reached_at is None
    assert summary.first_red_at is None
    assert summary.red_lead_min is None


def test_summarize_splits_windows_on_resets_at_too():
    samples = [
        Sample(at(0), 50.0, at(60)),
        Sample(at(5), 55.0, at(60)),
        Sample(at(10), 56.0, at(360)),
    ]
    points = [point(0, Status.YELLOW), point(5, Status.YELLOW), point(10, Status.GREEN)]

    assert summarize(points, samples, CAP).needless_alarms == 1


def test_summarize_rejects_mismatched_inputs():
    with pytest.raises(ValueError):
        summarize([point(0, Status.GREEN)], [], CAP)
