"""Tests for window status, the window forecast and combining statuses."""

import math

import pytest

from quota_sentinel.engine import (
    MAX_LOOKAHEAD_MIN,
    YELLOW_MARGIN_FACTOR,
    Sample,
    Status,
    WindowForecast,
    forecast_window,
    window_status,
    worst_status,
)

NOW = 1_767_225_600.0
CAP = 80.0
MARGIN = 30.0
# At 60 %/h utilization rises one point a minute, so minutes to cap = 80 - utilization.
ONE_PER_MIN = 60.0


def status_at(minutes_to_cap: float, **kwargs) -> Status:
    return window_status(CAP - minutes_to_cap, ONE_PER_MIN, CAP, MARGIN, None, **kwargs)


def test_constants():
    assert YELLOW_MARGIN_FACTOR == 2.0
    assert MAX_LOOKAHEAD_MIN == 15.0
    assert [s.value for s in Status] == ["GREEN", "YELLOW", "RED", "UNKNOWN"]


@pytest.mark.parametrize(
    ("minutes", "expected"),
    [
        (0.5, Status.RED),
        (30.0, Status.RED),
        (30.01, Status.YELLOW),
        (60.0, Status.YELLOW),
        (60.01, Status.GREEN),
        (79.0, Status.GREEN),
    ],
)
def test_status_boundaries_without_lookahead(minutes, expected):
    assert status_at(minutes) is expected


def test_status_is_red_at_and_over_the_cap_whatever_the_velocity():
    assert window_status(80.0, None, CAP, MARGIN, None) is Status.RED
    assert window_status(93.0, 0.0, CAP, MARGIN, 5.0) is Status.RED


@pytest.mark.parametrize("velocity", [None, 0.0, -4.0])
def test_status_is_green_when_not_rising(velocity):
    assert window_status(79.0, velocity, CAP, MARGIN, None) is Status.GREEN


def test_status_is_green_when_the_window_resets_before_the_cap():
    # 30 minutes to the cap would be RED, but the window resets 10 minutes before that.
    assert window_status(50.0, ONE_PER_MIN, CAP, MARGIN, 20.0) is Status.GREEN


def test_status_keeps_its_colour_when_the_reset_comes_with_or_after_the_cap():
    assert window_status(50.0, ONE_PER_MIN, CAP, MARGIN, 30.0) is Status.RED
    assert window_status(50.0, ONE_PER_MIN, CAP, MARGIN, 300.0) is Status.RED
    assert window_status(35.0, ONE_PER_MIN, CAP, MARGIN, 50.0) is Status.YELLOW


@pytest.mark.parametrize(
    ("minutes", "lookahead", "expected"),
    [
        (35.0, 5.0, Status.RED),
        (35.01, 5.0, Status.YELLOW),
        (65.0, 5.0, Status.YELLOW),
        (65.01, 5.0, Status.GREEN),
        (45.0, 40.0, Status.RED),
        (45.01, 40.0, Status.YELLOW),
        (30.0, -10.0, Status.RED),
        (30.01, -10.0, Status.YELLOW),
    ],
)
def test_lookahead_widens_both_thresholds_up_to_its_maximum(minutes, lookahead, expected):
    assert status_at(minutes, lookahead_min=lookahead) is expected


def test_status_is_unknown_without_data_or_when_stale():
    assert window_status(None, ONE_PER_MIN, CAP, MARGIN, None) is Status.UNKNOWN
    assert window_status(95.0, ONE_PER_MIN, CAP, MARGIN, None, stale=True) is Status.UNKNOWN


def steady(util_start: float, pct_per_hour: float, count: int, gap_min: float = 5.0, **kw):
    return [
        Sample(
            NOW - (count - 1 - i) * gap_min * 60.0,
            util_start + pct_per_hour * i * gap_min / 60,
            **kw,
        )
        for i in range(count)
    ]


def test_forecast_window_without_samples_is_unknown():
    forecast = forecast_window([], cap=CAP, now=NOW, safety_margin_min=MARGIN)

    assert forecast == WindowForecast(None, None, None, None, None, CAP, Status.UNKNOWN, 0)


def test_forecast_window_uses_the_latest_sample_and_the_fitted_velocity():
    samples = steady(40.0, 12.0, 13, resets_at=NOW + 3600.0)

    forecast = forecast_window(list(reversed(samples)), cap=CAP, now=NOW, safety_margin_min=MARGIN)

    assert forecast.utilization == pytest.approx(52.0)
    assert forecast.velocity_pct_per_hour == pytest.approx(12.0)
    assert forecast.projected_exhaustion_min == pytest.approx(140.0)
    assert forecast.projected_at_reset == pytest.approx(64.0)
    assert forecast.resets_at == NOW + 3600.0
    assert forecast.samples_used == 13
    assert forecast.status is Status.GREEN


def test_forecast_window_uses_the_poll_gap_as_lookahead():
    # 32 minutes to the cap at the fitted slope, under 35 at the vouched rate: YELLOW on its
    # own, RED once the next 5-minute poll is counted.
    samples = steady(CAP - 32.0 - 25.0, 60.0, 6)

    forecast = forecast_window(samples, cap=CAP, now=NOW, safety_margin_min=MARGIN)

    assert 32.0 < forecast.projected_exhaustion_min <= 35.0
    assert forecast.status is Status.RED


def test_forecast_window_treats_a_past_reset_time_as_unknown():
    samples = steady(50.0, 60.0, 3, resets_at=NOW - 60.0)

    forecast = forecast_window(samples, cap=CAP, now=NOW, safety_margin_min=MARGIN)

    assert forecast.resets_at is None
    assert forecast.projected_at_reset is None
    assert forecast.status is Status.RED


def test_forecast_window_is_green_when_the_reset_comes_first():
    samples = steady(50.0, 60.0, 3, resets_at=NOW + 10 * 60.0)

    forecast = forecast_window(samples, cap=CAP, now=NOW, safety_margin_min=MARGIN)

    assert forecast.status is Status.GREEN
    assert 60.0 < forecast.projected_at_reset < 70.0


def test_forecast_window_ignores_samples_after_now():
    samples = steady(20.0, 12.0, 4) + [Sample(NOW + 600.0, 99.0)]

    forecast = forecast_window(samples, cap=CAP, now=NOW, safety_margin_min=MARGIN)

    assert forecast.utilization == pytest.approx(23.0)
    assert forecast.samples_used == 4


def test_forecast_window_when_stale_keeps_values_but_is_unknown():
    samples = steady(70.0, 60.0, 3)

    forecast = forecast_window(samples, cap=CAP, now=NOW, safety_margin_min=MARGIN, stale=True)

    assert forecast.status is Status.UNKNOWN
    assert forecast.utilization == pytest.approx(80.0)


def test_forecast_window_with_one_sample_has_no_velocity():
    forecast = forecast_window([Sample(NOW, 60.0)], cap=CAP, now=NOW, safety_margin_min=MARGIN)

    assert forecast.velocity_pct_per_hour is None
    assert forecast.projected_exhaustion_min is None
    assert forecast.status is Status.GREEN
    assert forecast.samples_used == 1


def test_window_forecast_to_dict_is_json_friendly():
    forecast = WindowForecast(
        41.23456, 12.3456, 187.6543, 95.0001, NOW + 0.5, 80.0, Status.YELLOW, 7
    )

    assert forecast.to_dict() == {
        "utilization": 41.23456,
        "velocity_pct_per_hour": 12.3456,
        "projected_exhaustion_min": 187.6543,
        "projected_at_reset": 95.0001,
        "resets_at": NOW + 0.5,
        "cap": 80.0,
        "status": "YELLOW",
        "samples_used": 7,
        "outlook_code": "no_data",
    }


def test_window_forecast_to_dict_turns_infinity_into_none():
    forecast = WindowForecast(1.0, 5e-324, math.inf, None, None, 80.0, Status.GREEN, 2)

    assert forecast.to_dict()["projected_exhaustion_min"] is None
    assert forecast.to_dict()["projected_at_reset"] is None


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ([], Status.UNKNOWN),
        ([Status.UNKNOWN, Status.UNKNOWN], Status.UNKNOWN),
        ([Status.UNKNOWN, Status.GREEN], Status.GREEN),
        ([Status.GREEN, Status.YELLOW, Status.UNKNOWN], Status.YELLOW),
        ([Status.YELLOW, Status.RED, Status.GREEN], Status.RED),
        ([Status.RED, Status.UNKNOWN], Status.RED),
    ],
)
def test_worst_status(statuses, expected):
    assert worst_status(statuses) is expected
    assert worst_status(iter(reversed(statuses))) is expected
