"""Tests for reset detection, velocity and sample spacing."""

import pytest

from quota_sentinel.engine import Sample, current_segment, sample_gap_min, velocity_pct_per_hour
from quota_sentinel.engine.velocity import horizon_samples, is_reset, split_segments

T0 = 1_767_225_600.0
RESETS = T0 + 5 * 3600.0


def minutes(m: float) -> float:
    return T0 + m * 60.0


def test_current_segment_sorts_by_time():
    samples = [Sample(minutes(10), 12.0), Sample(minutes(0), 10.0), Sample(minutes(5), 11.0)]

    assert [s.t for s in current_segment(samples)] == [minutes(0), minutes(5), minutes(10)]


def test_current_segment_is_empty_without_samples():
    assert current_segment([]) == []


@pytest.mark.parametrize(
    ("before", "after", "reset"),
    [
        (50.0, 49.4, False),
        (50.0, 47.0, False),
        (50.0, 46.9, True),
        (50.0, 2.0, True),
        (50.0, 51.0, False),
    ],
)
def test_utilization_drop_beyond_tolerance_is_a_reset(before, after, reset):
    assert is_reset(Sample(minutes(0), before), Sample(minutes(5), after)) is reset


@pytest.mark.parametrize(
    ("moved_s", "reset"),
    [(0.0, False), (-3600.0, False), (2.0, False), (60.0, False), (61.0, True), (18000.0, True)],
)
def test_resets_at_moving_forward_beyond_a_minute_is_a_reset(moved_s, reset):
    prev = Sample(minutes(0), 40.0, RESETS)
    cur = Sample(minutes(5), 41.0, RESETS + moved_s)

    assert is_reset(prev, cur) is reset


def test_resets_at_move_is_ignored_when_either_side_is_unknown():
    assert not is_reset(Sample(minutes(0), 40.0, None), Sample(minutes(5), 41.0, RESETS))
    assert not is_reset(Sample(minutes(0), 40.0, RESETS), Sample(minutes(5), 41.0, None))


def test_a_drop_is_no_reset_when_resets_at_says_it_is_the_same_window():
    # Noisy polls: a 5-point dip, but the provider reports the same window.
    assert not is_reset(Sample(minutes(0), 50.0, RESETS), Sample(minutes(5), 45.0, RESETS))


def test_current_segment_keeps_samples_after_a_utilization_drop():
    samples = [Sample(minutes(m), u) for m, u in [(0, 60.0), (5, 70.0), (10, 3.0), (15, 4.0)]]

    assert [s.utilization for s in current_segment(samples)] == [3.0, 4.0]


def test_current_segment_keeps_samples_after_resets_at_moved_forward():
    # The new window is already busier than the old one, so only resets_at reveals the reset.
    samples = [
        Sample(minutes(0), 5.0, RESETS),
        Sample(minutes(5), 6.0, RESETS),
        Sample(minutes(10), 8.0, RESETS + 5 * 3600.0),
    ]

    assert current_segment(samples) == [samples[2]]


def test_split_segments_finds_every_window():
    samples = [Sample(minutes(m), u) for m, u in [(0, 50.0), (5, 1.0), (10, 9.0), (15, 0.0)]]

    assert [len(seg) for seg in split_segments(samples)] == [1, 2, 1]


def test_velocity_of_a_steady_burn():
    samples = [Sample(minutes(m), 10.0 + m / 3.0) for m in range(0, 60, 5)]

    assert velocity_pct_per_hour(samples, now=minutes(55)) == pytest.approx(20.0)


def test_velocity_is_none_with_one_sample():
    assert velocity_pct_per_hour([Sample(T0, 40.0)], now=T0) is None


def test_velocity_is_none_when_all_samples_share_a_timestamp():
    samples = [Sample(T0, 40.0), Sample(T0, 40.3), Sample(T0, 40.1)]

    assert velocity_pct_per_hour(samples, now=T0) is None


def test_velocity_of_falling_utilization_is_zero():
    samples = [Sample(minutes(0), 40.0), Sample(minutes(5), 39.8), Sample(minutes(10), 39.6)]

    assert velocity_pct_per_hour(samples, now=minutes(10)) == 0.0


def test_velocity_ignores_samples_older_than_the_horizon():
    # A fast burn two hours ago, then a slow one within the last hour.
    old = [Sample(minutes(m), m * 1.0) for m in range(0, 31, 5)]
    recent = [Sample(minutes(m), 30.0 + (m - 120) / 6.0) for m in range(120, 181, 10)]

    velocity = velocity_pct_per_hour(old + recent, now=minutes(180), horizon_min=60.0)

    assert velocity == pytest.approx(10.0)


def test_velocity_horizon_boundary_is_inclusive():
    samples = [Sample(minutes(0), 10.0), Sample(minutes(60), 30.0)]

    assert velocity_pct_per_hour(samples, now=minutes(60), horizon_min=60.0) == pytest.approx(20.0)
    assert velocity_pct_per_hour(samples, now=minutes(60.01), horizon_min=60.0) is None


def test_velocity_ignores_samples_after_now():
    samples = [Sample(minutes(0), 10.0), Sample(minutes(30), 20.0), Sample(minutes(40), 90.0)]

    assert velocity_pct_per_hour(samples, now=minutes(30)) == pytest.approx(20.0)


def test_velocity_discards_the_previous_window():
    samples = [Sample(minutes(m), 50.0 + m) for m in range(0, 30, 5)]
    samples += [Sample(minutes(30), 0.0), Sample(minutes(60), 5.0)]

    assert velocity_pct_per_hour(samples, now=minutes(60)) == pytest.approx(10.0)


def test_horizon_samples_counts_only_the_current_window_in_the_horizon():
    samples = [Sample(minutes(m), 10.0 + m / 10.0) for m in range(0, 121, 10)]

    assert len(horizon_samples(samples, now=minutes(120), horizon_min=60.0)) == 7


def test_sample_gap_is_the_longest_spacing():
    samples = [Sample(minutes(m), 10.0) for m in (0, 5, 10, 30)]

    assert sample_gap_min(samples, now=minutes(30)) == 20.0


def test_sample_gap_of_even_polls_is_the_poll_interval():
    samples = [Sample(minutes(m), 10.0) for m in range(0, 31, 5)]

    assert sample_gap_min(samples, now=minutes(30)) == 5.0


def test_sample_gap_is_zero_with_fewer_than_two_samples():
    assert sample_gap_min([], now=T0) == 0.0
    assert sample_gap_min([Sample(T0, 10.0)], now=T0) == 0.0


def test_sample_gap_ignores_the_previous_window():
    samples = [Sample(minutes(0), 70.0), Sample(minutes(30), 1.0), Sample(minutes(32), 2.0)]

    assert sample_gap_min(samples, now=minutes(32)) == 2.0
