"""providers.openrouter against the fake OpenRouter key endpoint."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from quota_sentinel.providers import openrouter
from quota_sentinel.providers.base import AuthFailed, BadPayload
from tests.providers.support import ProviderCase
from tests.upstreams.openrouter import KEY_PATH, LEGACY_KEY_PATH, OpenRouterFake

KEY = "sk-or-v1-test-0000"

# The fake: a $50 monthly limit, $37.25 left.
CASE = ProviderCase.keyed(
    openrouter.fetch,
    OpenRouterFake,
    KEY,
    window="monthly",
    names=("OpenRouter",),
    missing="No OpenRouter API key",
    reads=("data.limit",),
    unreadable=({"data": {"limit": "fifty"}}, "data.limit"),
)


def utc(*args: int) -> float:
    return datetime(*args, tzinfo=UTC).timestamp()


def test_reads_the_monthly_limit(fake: OpenRouterFake, poll) -> None:
    result = poll()
    assert list(result.windows) == ["monthly"]
    window = result.windows["monthly"]
    assert window.utilization == pytest.approx(25.5)
    assert window.resets_at == utc(2026, 6, 1)
    assert window.metadata == {
        "currency": "USD",
        "is_free_tier": False,
        "limit": 50,
        "limit_remaining": 37.25,
        "usage": 12.75,
        "usage_daily": 0.8,
        "usage_weekly": 4.1,
        "usage_monthly": 12.75,
    }
    assert result.plan is None and result.state is None
    # The key's label (a masked form of the key) is never copied.
    assert "label" not in window.metadata


def test_sends_the_bearer_key(fake: OpenRouterFake, poll) -> None:
    poll()
    headers = fake.upstream.last(KEY_PATH).headers
    assert headers["authorization"] == f"Bearer {KEY}"
    assert headers["accept"] == "application/json"
    assert fake.upstream.count(LEGACY_KEY_PATH) == 0


@pytest.mark.parametrize(
    ("reset", "name", "resets_at"),
    [
        ("daily", "daily", utc(2026, 5, 15)),
        ("weekly", "weekly", utc(2026, 5, 18)),
        ("monthly", "monthly", utc(2026, 6, 1)),
        ("Monthly", "monthly", utc(2026, 6, 1)),
        (None, "credit", None),
        ("", "credit", None),
        ("yearly", "yearly", None),
    ],
)
def test_window_named_and_reset_by_limit_reset(
    fake: OpenRouterFake, poll, reset: str | None, name: str, resets_at: float | None
) -> None:
    fake.set_key(limit_reset=reset)
    window = poll().windows[name]
    assert window.resets_at == resets_at
    assert window.utilization == pytest.approx(25.5)


@pytest.mark.parametrize(
    ("now", "period", "expected"),
    [
        (utc(2026, 5, 18, 0, 0, 0), "weekly", utc(2026, 5, 25)),
        (utc(2026, 5, 17, 23, 59, 59), "weekly", utc(2026, 5, 18)),
        (utc(2026, 12, 31, 23, 0, 0), "monthly", utc(2027, 1, 1)),
        (utc(2026, 12, 31, 23, 0, 0), "daily", utc(2027, 1, 1)),
        (utc(2026, 2, 28, 0, 0, 0), "daily", utc(2026, 3, 1)),
    ],
)
def test_next_reset_is_strictly_after_now(now: float, period: str, expected: float) -> None:
    assert openrouter.next_reset(period, now) == expected


def test_an_unlimited_key_has_no_window(fake: OpenRouterFake, poll) -> None:
    fake.set_key(limit=None, limit_remaining=None, limit_reset=None)
    result = poll()
    assert result.windows == {} and result.plan == "unlimited"


def test_numbers_as_strings_and_usage_when_remaining_is_missing(fake: OpenRouterFake, poll) -> None:
    fake.set_key(limit="20", limit_remaining=..., limit_reset="weekly", usage_weekly="5")
    assert poll().windows["weekly"].utilization == 25.0


def test_limit_without_remaining_or_usage_is_a_bad_payload(fake: OpenRouterFake, poll) -> None:
    fake.set_key(limit_remaining=..., usage_monthly=None)
    with pytest.raises(BadPayload, match="neither limit_remaining nor the usage"):
        poll()


def test_overspent_and_zero_limits_are_fully_used(fake: OpenRouterFake, poll) -> None:
    fake.set_key(limit=10, limit_remaining=-2.5)
    assert poll().windows["monthly"].utilization == 100.0
    fake.set_key(limit=0, limit_remaining=0)
    assert poll().windows["monthly"].utilization == 100.0


def test_free_tier_and_expiry_are_reported(fake: OpenRouterFake, poll) -> None:
    fake.set_key(is_free_tier=True, expires_at="2026-12-31T00:00:00Z")
    result = poll()
    assert result.plan == "free"
    assert result.windows["monthly"].metadata["expires_at"] == utc(2026, 12, 31)
    assert result.windows["monthly"].metadata["is_free_tier"] is True


def test_falls_back_to_the_older_path_on_404(fake: OpenRouterFake, poll) -> None:
    fake.legacy_only = True
    assert "monthly" in poll().windows
    assert [r.path for r in fake.requests] == [KEY_PATH, LEGACY_KEY_PATH]
    assert fake.requests[1].headers["authorization"] == f"Bearer {KEY}"


def test_other_failures_do_not_fall_back(fake: OpenRouterFake, poll) -> None:
    fake.fail("401")
    with pytest.raises(AuthFailed):
        poll()
    assert fake.upstream.count(LEGACY_KEY_PATH) == 0


@pytest.mark.parametrize(
    "body",
    [
        {"data": {"label": "x"}},
        {"data": None},
        {"error": {"message": "internal"}},
        ["data"],
        {"data": {"limit": "lots"}},
    ],
)
def test_no_readable_limit_is_a_bad_payload(fake: OpenRouterFake, poll, body: Any) -> None:
    fake.upstream.script(KEY_PATH, json=body)
    with pytest.raises(BadPayload) as err:
        poll()
    assert err.value.message.startswith("OpenRouter answered")


def test_wrong_key_is_auth_failed(fake: OpenRouterFake, poll) -> None:
    wrong = "sk-or-v1-wrong-9999"
    with pytest.raises(AuthFailed) as err:
        poll(wrong)
    assert err.value.message == (
        "OpenRouter rejected the credential (HTTP 401); check the key or replace it."
    )
