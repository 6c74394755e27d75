"""The trend: noise-bounded fits, the short second opinion, and what a poll keeps from the last."""

import pytest

from quota_sentinel.engine import Sample, Status, fit, grade, observe, run_window

T0 = 1_767_225_600.0
CAP = 80.0


def test_fit_of_an_exact_line_has_no_error_beyond_the_readings_resolution():
    line = [Sample(T0 + m * 60.0, 10.0 + 0.5 * m) for m in range(0, 61, 5)]  # 30 %/h, 0.1 steps

    result = fit(line)

    assert result.slope == pytest.approx(30.0)
    assert result.samples == 13
    assert result.lower == pytest.approx(30.0)  # 13 samples over an hour: residuals decide


def test_two_whole_percent_readings_half_a_minute_apart_are_no_burn():
    # 77 → 78 % in 30 s fits 120 %/h, but whole percents can move a point on no usage at all.
    trend = observe([Sample(T0, 77.0), Sample(T0 + 30.0, 78.0)], now=T0 + 30.0)

    assert fit([Sample(T0, 77.0), Sample(T0 + 30.0, 78.0)]).slope == pytest.approx(120.0)
    assert trend.velocity == 0.0
    assert grade(trend, cap=CAP, now=T0 + 30.0, safety_margin_min=30.0).status is Status.GREEN


def test_a_burst_from_idle_is_seen_by_the_short_fit():
    idle = [Sample(T0 + m * 60.0, 10.0) for m in range(0, 50)]
    burst = [Sample(T0 + m * 60.0, 10.0 + 2.0 * (m - 49)) for m in range(50, 66)]  # 120 %/h

    trend = observe(idle + burst, now=burst[-1].t)

    assert trend.long_velocity < 60.0  # diluted by the idle minutes in the hour
    assert trend.short_velocity is not None and trend.velocity == trend.short_velocity
    assert trend.velocity == pytest.approx(120.0)  # 16 minutes on an exact line


def test_a_steady_whole_percent_burn_once_red_stays_red_until_the_cap():
    # 10 %/h polled every minute in whole percents: a one-point step every six minutes. The
    # bound on its rate wobbles with the steps; held from poll to poll, RED does not flap.
    samples = [Sample(T0 + m * 60.0, float(round(40.0 + m / 6.0))) for m in range(0, 250)]
    statuses = [p.forecast.status for p in run_window(samples, cap=CAP, safety_margin_min=30.0)]

    first_red = statuses.index(Status.RED)
    assert all(s is Status.RED for s in statuses[first_red:])
    at_cap = next(i for i, s in enumerate(samples) if s.utilization >= CAP)
    assert at_cap - first_red >= 29  # minutes of warning


def test_a_reading_noise_pulled_down_does_not_lower_the_level():
    samples = [Sample(T0 + m * 60.0, 40.0 + m) for m in range(0, 31)]  # 60 %/h to 70 %
    trend = None
    for i, sample in enumerate(samples):
        trend = observe(samples[: i + 1], now=sample.t, previous=trend)
    dip = Sample(T0 + 31 * 60.0, 68.5)  # 1.5 points under the last reading: noise, no reset
    after = observe([*samples, dip], now=dip.t, previous=trend)

    assert after.utilization == 68.5 and after.level == 70.0
    forecast = grade(after, cap=CAP, now=dip.t, safety_margin_min=30.0)
    assert forecast.status is Status.RED


def test_nothing_is_held_across_a_reset():
    before = [Sample(T0 + m * 60.0, 40.0 + m, T0 + 3600.0) for m in range(0, 31)]
    trend = None
    for i, sample in enumerate(before):
        trend = observe(before[: i + 1], now=sample.t, previous=trend)
    fresh = Sample(T0 + 3660.0, 1.0, T0 + 7200.0)

    after = observe([*before, fresh], now=fresh.t, previous=trend)

    assert after.level == 1.0 and after.velocity is None


def test_a_real_drop_without_a_new_reset_time_is_believed():
    # resets_at unchanged (a rolling window, a correction): a fall of more than the noise
    # tolerance is not noise, so the level follows it down.
    reset = T0 + 4 * 3600.0
    samples = [
        Sample(T0, 20.0, reset),
        Sample(T0 + 60.0, 91.0, reset),
        Sample(T0 + 120.0, 91.0, reset),
    ]
    trend = None
    for i, sample in enumerate(samples):
        trend = observe(samples[: i + 1], now=sample.t, previous=trend)
    drop = Sample(T0 + 180.0, 3.0, reset)

    after = observe([*samples, drop], now=drop.t, previous=trend)

    assert trend.level == 91.0 and after.level == 3.0
    assert grade(after, cap=CAP, now=drop.t, safety_margin_min=30.0).status is Status.GREEN
