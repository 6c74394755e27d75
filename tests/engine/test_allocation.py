"""Tests for sharing an account's budget among its subscribers."""

import pytest

from quota_sentinel.engine import STATE_WEIGHTS, effective_cap, shares


def test_state_weights():
    assert STATE_WEIGHTS == {"active": 1.0, "idle": 0.3, "paused": 0.0}


def test_one_active_subscriber_gets_everything():
    assert shares({"a": "active"}) == {"a": 1.0}


def test_active_subscribers_split_evenly():
    assert shares({"a": "active", "b": "active"}) == {"a": 0.5, "b": 0.5}


def test_idle_subscriber_gets_a_smaller_share():
    result = shares({"a": "active", "b": "idle"})

    assert result["a"] == pytest.approx(1.0 / 1.3)
    assert result["b"] == pytest.approx(0.3 / 1.3)


def test_paused_subscriber_leaves_its_share_to_the_others():
    assert shares({"a": "active", "b": "paused", "c": "idle"}) == pytest.approx(
        {"a": 1.0 / 1.3, "b": 0.0, "c": 0.3 / 1.3}
    )


def test_only_idle_subscribers_split_evenly():
    assert shares({"a": "idle", "b": "idle"}) == pytest.approx({"a": 0.5, "b": 0.5})


def test_all_paused_gives_every_subscriber_zero():
    assert shares({"a": "paused", "b": "paused"}) == {"a": 0.0, "b": 0.0}


def test_no_subscribers_gives_no_shares():
    assert shares({}) == {}


def test_unknown_state_is_an_error():
    with pytest.raises(ValueError, match="sleeping"):
        shares({"a": "active", "b": "sleeping"})


@pytest.mark.parametrize(
    ("share", "overcommit", "expected"),
    [
        (0.5, 1.0, 40.0),
        (0.5, 1.5, 60.0),
        (0.5, 3.0, 80.0),
        (1.0, 1.2, 80.0),
        (0.0, 2.0, 0.0),
    ],
)
def test_effective_cap(share, overcommit, expected):
    assert effective_cap(80.0, share, overcommit) == pytest.approx(expected)
