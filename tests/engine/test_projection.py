"""Tests for minutes to the cap and utilization projected at reset."""

import pytest

from quota_sentinel.engine import minutes_to_cap, projected_at_reset

NOW = 1_767_225_600.0


@pytest.mark.parametrize(
    ("utilization", "velocity", "expected"),
    [
        (80.0, 10.0, 0.0),
        (95.0, None, 0.0),
        (50.0, None, None),
        (50.0, 0.0, None),
        (50.0, -5.0, None),
        (50.0, 60.0, 30.0),
        (70.0, 20.0, 30.0),
    ],
)
def test_minutes_to_cap(utilization, velocity, expected):
    assert minutes_to_cap(utilization, velocity, 80.0) == expected


def test_projected_at_reset_adds_the_burn_until_reset():
    assert projected_at_reset(40.0, 10.0, NOW + 2 * 3600.0, NOW) == pytest.approx(60.0)


def test_projected_at_reset_is_not_clamped_to_100():
    assert projected_at_reset(90.0, 30.0, NOW + 2 * 3600.0, NOW) == pytest.approx(150.0)


def test_projected_at_reset_of_a_past_reset_is_the_current_utilization():
    assert projected_at_reset(40.0, 10.0, NOW - 600.0, NOW) == 40.0


@pytest.mark.parametrize(("velocity", "resets_at"), [(None, NOW + 3600.0), (10.0, None)])
def test_projected_at_reset_is_none_without_velocity_or_reset(velocity, resets_at):
    assert projected_at_reset(40.0, velocity, resets_at, NOW) is None
