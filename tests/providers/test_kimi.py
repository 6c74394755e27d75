"""providers.kimi against the fake Kimi Code usage endpoint."""

from __future__ import annotations

from typing import Any

import pytest

from quota_sentinel.providers import kimi
from quota_sentinel.providers.base import AuthFailed, BadPayload
from tests.providers.support import NOW, ProviderCase
from tests.upstreams.kimi import USAGES_PATH, KimiFake, limit_row, pool

KEY = "sk-kimi-test-0000"
# 2026-05-18T15:23:13.716839300Z, as the API writes it (nanoseconds).
WEEKLY_RESET = "2026-05-18T15:23:13.716839300Z"
WEEKLY_RESET_S = 1_779_117_793.716839

CASE = ProviderCase.keyed(
    kimi.fetch,
    KimiFake,
    KEY,
    window="weekly",
    names=("Kimi",),
    missing="No Kimi API key",
    reads=("usage", "limits", "usages"),
    unreadable=({"usage": {"limit": "2048", "used": "many"}}, "usage.used"),
)


def script(fake: KimiFake, body: Any) -> None:
    fake.upstream.script(USAGES_PATH, json=body)


def test_reads_the_weekly_quota_and_the_5h_limit(fake: KimiFake, poll) -> None:
    fake.weekly_reset = WEEKLY_RESET
    fake.set_limits([limit_row(300, used=57, limit=200, reset="2026-05-14T13:33:02.717479433Z")])
    result = poll()
    assert list(result.windows) == ["weekly", "5h"]
    weekly, five = result.windows["weekly"], result.windows["5h"]
    assert weekly.utilization == pytest.approx(314 / 2048 * 100)
    assert weekly.resets_at == pytest.approx(WEEKLY_RESET_S)
    assert weekly.metadata == {"used": 314, "limit": 2048, "remaining": 1734}
    assert five.utilization == pytest.approx(28.5)
    assert five.resets_at == pytest.approx(1_778_765_582.717479)
    assert result.plan is None and result.state is None


def test_sends_the_bearer_key(fake: KimiFake, poll) -> None:
    poll()
    headers = fake.upstream.last(USAGES_PATH).headers
    assert headers["authorization"] == f"Bearer {KEY}"
    assert headers["accept"] == "application/json"


def test_usage_climbs_between_polls(fake: KimiFake, poll) -> None:
    fake.set_usage(used=1024)
    assert poll().windows["weekly"].utilization == 50.0
    fake.set_usage(used=2048)
    assert poll().windows["weekly"].utilization == 100.0


def test_a_data_wrapper_is_accepted(poll_of) -> None:
    with KimiFake(KEY, wrap_in_data=True) as fake:
        result = poll_of(fake)()
    assert set(result.windows) == {"weekly", "5h"}


@pytest.mark.parametrize(
    ("duration", "unit", "name"),
    [
        (300, "TIME_UNIT_MINUTE", "5h"),
        (60, "TIME_UNIT_MINUTE", "1h"),
        (90, "TIME_UNIT_MINUTE", "90m"),
        ("5", "TIME_UNIT_HOUR", "5h"),
        (24, "TIME_UNIT_HOUR", "1d"),
        (7, "TIME_UNIT_DAY", "7d"),
        (18000, "TIME_UNIT_SECOND", "5h"),
        (300, None, "5h"),
        (None, "TIME_UNIT_MINUTE", "limit_1"),
        (3, "TIME_UNIT_FORTNIGHT", "limit_1"),
    ],
)
def test_limits_are_named_by_duration(
    fake: KimiFake, poll, duration: Any, unit: str | None, name: str
) -> None:
    row = limit_row(duration)
    if unit is None:
        del row["window"]["timeUnit"]
    else:
        row["window"]["timeUnit"] = unit
    fake.set_limits([row])
    assert list(poll().windows) == ["weekly", name]


def test_two_limits_of_one_length_get_distinct_names(fake: KimiFake, poll) -> None:
    fake.set_limits([limit_row(300, used=10), limit_row(300, used=20), limit_row(1440)])
    windows = poll().windows
    assert list(windows) == ["weekly", "5h", "5h_2", "1d"]
    assert (windows["5h"].utilization, windows["5h_2"].utilization) == (5.0, 10.0)


def test_used_is_derived_from_remaining(fake: KimiFake, poll) -> None:
    script(fake, {"usage": {"limit": "100", "remaining": "75"}})
    window = poll().windows["weekly"]
    assert window.utilization == 25.0 and window.metadata["used"] == 25


def test_numbers_may_be_plain_numbers(fake: KimiFake, poll) -> None:
    script(fake, {"usage": {"limit": 200, "used": 50.0, "resetTime": 1_779_117_793}})
    window = poll().windows["weekly"]
    assert (window.utilization, window.resets_at) == (25.0, 1_779_117_793.0)


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"reset_at": "2026-05-18T15:23:13Z"}, 1_779_117_793.0),
        ({"resetAt": "2026-05-18T15:23:13+00:00"}, 1_779_117_793.0),
        ({"reset_time": "2026-05-18T15:23:13.5"}, 1_779_117_793.5),
        ({"reset_in": 3600}, NOW + 3600),
        ({"resetIn": "120"}, NOW + 120),
        ({"ttl": 60}, NOW + 60),
        ({"resetTime": ""}, None),
        ({}, None),
    ],
)
def test_reset_variants(
    fake: KimiFake, poll, fields: dict[str, Any], expected: float | None
) -> None:
    script(fake, {"data": {"usage": {"limit": "10", "used": "1", **fields}}})
    assert poll().windows["weekly"].resets_at == expected


def test_limit_entries_without_detail_or_window_are_read_flat(fake: KimiFake, poll) -> None:
    script(
        fake,
        {"limits": [{"duration": 300, "timeUnit": "TIME_UNIT_MINUTE", "limit": 20, "used": 5}]},
    )
    assert {n: w.utilization for n, w in poll().windows.items()} == {"5h": 25.0}


def test_zero_limit_entries_are_placeholders_and_skipped(fake: KimiFake, poll) -> None:
    script(
        fake,
        {
            "usage": {"limit": "0", "used": "0"},
            "limits": [limit_row(60, used=0, limit=0), limit_row(300, used=1, limit=4)],
        },
    )
    assert {n: w.utilization for n, w in poll().windows.items()} == {"5h": 25.0}


@pytest.mark.parametrize(
    ("limits", "field"),
    [
        (["bad"], "limits[0] with text"),
        ([{"detail": {"limit": "n/a", "used": "1"}}], "limits[0].detail.limit with text"),
        ([{"detail": {"limit": "4"}}], "limits[0].detail without used or remaining"),
    ],
)
def test_an_unreadable_limit_entry_is_an_error_naming_it(
    fake: KimiFake, poll, limits: list[Any], field: str
) -> None:
    script(fake, {"usage": {"limit": "10", "used": "1"}, "limits": limits})
    with pytest.raises(BadPayload) as err:
        poll()
    assert f"Kimi answered {field}" in err.value.message


def test_utilization_is_clamped(fake: KimiFake, poll) -> None:
    fake.set_usage(used=3000)
    assert poll().windows["weekly"].utilization == 100.0


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"usage": None, "limits": []},
        {"usage": {"limit": "0", "used": "0"}},
        {"error": {"message": "internal error"}},
        ["usage"],
    ],
)
def test_nothing_readable_is_a_bad_payload(fake: KimiFake, poll, body: Any) -> None:
    script(fake, body)
    with pytest.raises(BadPayload) as err:
        poll()
    assert err.value.message.startswith("Kimi answered")


def test_wrong_key_is_auth_failed(fake: KimiFake, poll) -> None:
    wrong = "sk-kimi-wrong-9999"
    with pytest.raises(AuthFailed) as err:
        poll(wrong)
    assert fake.upstream.last(USAGES_PATH).headers["authorization"] == f"Bearer {wrong}"
    assert err.value.message == (
        "Kimi rejected the credential (HTTP 401); check the key or replace it."
    )


def test_the_current_usages_map_is_read_with_its_monthly_pool(fake: KimiFake, poll) -> None:
    fake.set_shape("usages")
    fake.weekly_reset = WEEKLY_RESET
    result = poll()
    assert set(result.windows) == {"weekly", "monthly", "5h"}
    weekly, monthly = result.windows["weekly"], result.windows["monthly"]
    assert weekly.utilization == pytest.approx(314 / 2048 * 100)
    assert weekly.resets_at == pytest.approx(WEEKLY_RESET_S)
    assert monthly.utilization == pytest.approx(12.5)
    assert monthly.metadata == {"used": 1000, "limit": 8000, "remaining": 7000}
    assert result.windows["5h"].utilization == pytest.approx(28.5)


@pytest.mark.parametrize(
    ("usages", "names"),
    [
        # No length stated: the first pool is the weekly quota, a "monthly" key is monthly.
        (
            {"coding": pool(10, 100, WEEKLY_RESET), "coding_monthly": pool(5, 100, WEEKLY_RESET)},
            {"weekly": 10.0, "monthly": 5.0},
        ),
        # A list of scoped entries with a `detail` object and their own rolling limits.
        (
            [
                {
                    "scope": "FEATURE_CODING",
                    "detail": pool(20, 100, WEEKLY_RESET),
                    "limits": [limit_row(300, used=1, limit=4)],
                },
                {"scope": "FEATURE_AGENT", "detail": pool(30, 100, WEEKLY_RESET)},
            ],
            {"weekly": 20.0, "5h": 25.0, "feature_agent": 30.0},
        ),
        # Two pools of the same length keep both, the second named by its feature.
        (
            {
                "coding": pool(10, 100, WEEKLY_RESET, duration=7, timeUnit="TIME_UNIT_DAY"),
                "agent": pool(40, 100, WEEKLY_RESET, duration=1, timeUnit="TIME_UNIT_WEEK"),
            },
            {"weekly": 10.0, "agent_weekly": 40.0},
        ),
    ],
    ids=["keys", "scoped-list", "same-length"],
)
def test_usages_variants_keep_every_pool(
    fake: KimiFake, poll, usages: Any, names: dict[str, float]
) -> None:
    script(fake, {"usages": usages})
    assert {n: w.utilization for n, w in poll().windows.items()} == names


def test_an_unreadable_usages_pool_is_an_error_naming_it(fake: KimiFake, poll) -> None:
    script(fake, {"usages": {"coding": {"limit": "lots", "used": "1"}}})
    with pytest.raises(BadPayload) as err:
        poll()
    assert "Kimi answered usages.coding.limit with text" in err.value.message
