"""Property tests: status ordering, robustness to any finite input, exact fits, shares."""

import math

from hypothesis import given
from hypothesis import strategies as st

from quota_sentinel.engine import (
    STATE_WEIGHTS,
    Sample,
    effective_cap,
    forecast_window,
    minutes_to_cap,
    projected_at_reset,
    shares,
    velocity_pct_per_hour,
    window_status,
    worst_status,
)
from quota_sentinel.engine.status import Status, severity

finite = st.floats(allow_nan=False, allow_infinity=False)
positive = st.floats(min_value=0.0, max_value=1e300, exclude_min=True)
maybe_finite = st.none() | finite
statuses = st.sampled_from(list(Status))


@given(
    low=finite,
    high=finite,
    velocity=maybe_finite,
    cap=positive,
    margin=finite,
    until_reset=maybe_finite,
    lookahead=finite,
)
def test_more_utilization_never_improves_the_status(
    low, high, velocity, cap, margin, until_reset, lookahead
):
    low, high = sorted((low, high))

    def rank(utilization: float) -> int:
        status = window_status(utilization, velocity, cap, margin, until_reset, lookahead)
        assert status is not Status.UNKNOWN
        return severity(status)

    assert rank(low) <= rank(high)


@given(
    slow=finite,
    fast=finite,
    utilization=finite,
    cap=positive,
    margin=finite,
    until_reset=maybe_finite,
    lookahead=finite,
)
def test_more_velocity_never_improves_the_status(
    slow, fast, utilization, cap, margin, until_reset, lookahead
):
    slow, fast = sorted((slow, fast))

    def rank(velocity: float) -> int:
        return severity(window_status(utilization, velocity, cap, margin, until_reset, lookahead))

    assert rank(slow) <= rank(fast)


@given(
    utilization=finite,
    velocity=maybe_finite,
    cap=positive,
    margin=finite,
    until_reset=maybe_finite,
    lookahead=finite,
    now=finite,
    resets_at=maybe_finite,
    stale=st.booleans(),
)
def test_status_and_projections_accept_any_finite_input(
    utilization, velocity, cap, margin, until_reset, lookahead, now, resets_at, stale
):
    status = window_status(utilization, velocity, cap, margin, until_reset, lookahead, stale)

    assert status in set(Status)
    minutes_to_cap(utilization, velocity, cap)
    projected_at_reset(utilization, velocity, resets_at, now)


sample_lists = st.lists(
    st.builds(Sample, t=finite, utilization=finite, resets_at=maybe_finite), max_size=20
)


@given(
    samples=sample_lists,
    cap=positive,
    now=finite,
    margin=finite,
    horizon=finite,
    stale=st.booleans(),
)
def test_forecast_accepts_any_finite_samples(samples, cap, now, margin, horizon, stale):
    forecast = forecast_window(
        samples, cap=cap, now=now, safety_margin_min=margin, horizon_min=horizon, stale=stale
    )

    assert forecast.to_dict()["status"] in {s.value for s in Status}
    assert forecast.samples_used <= len(samples)


@given(
    t0=st.floats(min_value=1.0e9, max_value=2.0e9),
    gaps_s=st.lists(st.floats(min_value=1.0, max_value=1800.0), min_size=1, max_size=40),
    start=st.floats(min_value=0.0, max_value=50.0),
    slope=st.floats(min_value=0.0, max_value=500.0),
)
def test_velocity_of_linear_samples_is_the_true_slope(t0, gaps_s, start, slope):
    times = [t0]
    for gap in gaps_s:
        times.append(times[-1] + gap)
    samples = [Sample(t, start + slope * (t - t0) / 3600.0) for t in times]
    horizon_min = (times[-1] - t0) / 60.0 + 1.0

    velocity = velocity_pct_per_hour(samples, now=times[-1], horizon_min=horizon_min)

    assert velocity is not None
    assert math.isclose(velocity, slope, rel_tol=1e-6, abs_tol=1e-9)


@given(st.dictionaries(st.text(min_size=1), st.sampled_from(sorted(STATE_WEIGHTS))))
def test_shares_sum_to_one_or_are_all_zero(states):
    result = shares(states)

    assert result.keys() == states.keys()
    assert all(0.0 <= share <= 1.0 for share in result.values())
    total = sum(result.values())
    assert math.isclose(total, 1.0, abs_tol=1e-9) or all(v == 0.0 for v in result.values())


@given(
    cap=st.floats(min_value=0.0, max_value=1e6),
    share=st.floats(min_value=0.0, max_value=1.0),
    overcommit=st.floats(min_value=0.0, max_value=100.0),
)
def test_effective_cap_stays_between_zero_and_the_cap(cap, share, overcommit):
    assert 0.0 <= effective_cap(cap, share, overcommit) <= cap


@given(st.lists(statuses))
def test_worst_status_is_at_least_as_bad_as_each_and_ignores_order(items):
    worst = worst_status(items)

    assert all(severity(worst) >= severity(s) for s in items)
    assert worst_status(reversed(items)) is worst
    assert (worst is Status.UNKNOWN) == all(s is Status.UNKNOWN for s in items)
