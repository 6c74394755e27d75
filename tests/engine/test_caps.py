"""Tests for the hard-cap lookup order."""

from quota_sentinel.engine import DEFAULT_HARD_CAPS, FALLBACK_CAP, cap_for


def test_exact_window_default():
    assert cap_for("claude", "five_hour") == 80.0
    assert cap_for("claude", "seven_day") == 90.0


def test_provider_default_covers_every_window():
    assert cap_for("zai", "5h") == 80.0
    assert cap_for("deepseek", "anything") == 85.0


def test_fallback_for_an_unknown_provider():
    assert cap_for("newco", "daily") == FALLBACK_CAP == 85.0


def test_override_of_the_exact_window_beats_its_default():
    assert cap_for("claude", "five_hour", {"claude_five_hour": 70.0}) == 70.0


def test_exact_window_default_beats_a_provider_override():
    # The more specific key wins even when the less specific one is an override.
    assert cap_for("claude", "five_hour", {"claude_default": 60.0}) == 80.0


def test_provider_override_beats_provider_default():
    assert cap_for("zai", "5h", {"zai_default": 75.0}) == 75.0


def test_provider_override_applies_to_windows_without_an_exact_key():
    assert cap_for("claude", "opus_weekly", {"claude_default": 60.0}) == 60.0


def test_override_for_an_unknown_provider():
    assert cap_for("newco", "daily", {"newco_daily": 50.0}) == 50.0
    assert cap_for("newco", "daily", {"newco_default": 55.0}) == 55.0


def test_unrelated_overrides_fall_through_to_the_fallback():
    assert cap_for("newco", "daily", {"zai_default": 10.0}) == FALLBACK_CAP


def test_default_table_is_the_documented_one():
    assert DEFAULT_HARD_CAPS == {
        "claude_five_hour": 80.0,
        "claude_seven_day": 90.0,
        "copilot_monthly": 85.0,
        "zai_default": 80.0,
        "minimax_default": 85.0,
        "deepseek_default": 85.0,
        "alibaba_default": 80.0,
    }
