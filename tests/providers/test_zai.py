"""providers.zai against the fake Z.ai quota endpoint."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest

from quota_sentinel.config import Settings
from quota_sentinel.providers import zai
from quota_sentinel.providers.base import (
    AuthFailed,
    BadPayload,
    ProviderError,
    RateLimitedUpstream,
    UsageResult,
)
from quota_sentinel.providers.http import ClientFactory
from tests.upstreams.zai import QUOTA_PATH, ZAI_FAILURE_MODES, ZaiFake

KEY = "zai-test-key"
NOW = 1_778_770_000.0
RESET_5H_MS = 1_778_779_200_000
RESET_WEEK_MS = 1_779_148_800_000
RESET_MCP_MS = 1_780_272_000_000

HttpFor = Callable[[str, Settings], ClientFactory]


@pytest.fixture
def poll(
    zai_fake: ZaiFake, make_settings: Callable[..., Settings], http_for: HttpFor
) -> Callable[..., UsageResult]:
    """`poll(key=KEY, **options)` runs zai.fetch once against the fake."""
    http = http_for("zai", make_settings(zai=zai_fake.url))

    def run(key: str = KEY, **options: Any) -> UsageResult:
        return zai.fetch({"key": key}, options, http, {}, NOW)

    return run


def _row(kind: str, unit: Any, number: Any, **fields: Any) -> dict[str, Any]:
    return {"type": kind, "unit": unit, "number": number, **fields}


def test_reads_the_three_documented_windows(zai_fake: ZaiFake, poll) -> None:
    zai_fake.set_usage(
        41, 18, reset_5h_ms=RESET_5H_MS, reset_weekly_ms=RESET_WEEK_MS, reset_mcp_ms=RESET_MCP_MS
    )
    result = poll()
    assert set(result.windows) == {"5h", "weekly", "mcp_monthly"}
    assert result.plan == "pro"
    five, week, mcp = (result.windows[n] for n in ("5h", "weekly", "mcp_monthly"))
    assert (five.utilization, five.resets_at) == (41.0, RESET_5H_MS / 1000)
    assert (week.utilization, week.resets_at) == (18.0, RESET_WEEK_MS / 1000)
    # currentValue/usage (137/1000) is finer than the integer percentage (14).
    assert mcp.utilization == pytest.approx(13.7)
    assert mcp.resets_at == RESET_MCP_MS / 1000
    assert mcp.metadata == {
        "limit_type": "TIME_LIMIT",
        "used": 137,
        "limit": 1000,
        "remaining": 863,
    }
    assert five.metadata == {"limit_type": "TOKENS_LIMIT"}
    assert result.state is None


def test_sends_bearer_key_and_headers(zai_fake: ZaiFake, poll) -> None:
    poll()
    headers = zai_fake.upstream.last(QUOTA_PATH).headers
    assert headers["authorization"] == f"Bearer {KEY}"
    assert headers["accept"] == "application/json"
    assert headers["accept-language"] == "en-US,en"


def test_stored_bearer_prefix_is_not_doubled(zai_fake: ZaiFake, poll) -> None:
    poll(key=f"Bearer {KEY}")
    assert zai_fake.upstream.last(QUOTA_PATH).headers["authorization"] == f"Bearer {KEY}"


def test_usage_climbs_between_polls(zai_fake: ZaiFake, poll) -> None:
    assert poll().windows["5h"].utilization == 41.0
    zai_fake.set_usage(five_hour=63)
    assert poll().windows["5h"].utilization == 63.0
    assert zai_fake.calls == 2


def test_credit_limit_rows_are_windows_too(
    make_settings: Callable[..., Settings], http_for: HttpFor
) -> None:
    with ZaiFake(KEY, limit_type="CREDIT_LIMIT") as fake:
        http = http_for("zai", make_settings(zai=fake.url))
        result = zai.fetch({"key": KEY}, {}, http, {}, NOW)
    assert {"5h", "weekly"} <= set(result.windows)
    assert result.windows["weekly"].metadata["limit_type"] == "CREDIT_LIMIT"


@pytest.mark.parametrize(
    ("unit", "number", "name"),
    [
        (3, 5, "5h"),
        (6, 1, "weekly"),
        (6, 2, "2w"),
        (3, 1, "1h"),
        (1, 30, "30d"),
        (5, 1, "1mo"),
        (9, 2, "2u9"),
    ],
)
def test_windows_are_named_by_duration(
    zai_fake: ZaiFake, poll, unit: int, number: int, name: str
) -> None:
    zai_fake.set_limits([_row("TOKENS_LIMIT", unit, number, percentage=10)])
    assert list(poll().windows) == [name]


def test_numbers_may_be_strings(zai_fake: ZaiFake, poll) -> None:
    zai_fake.set_limits(
        [
            _row("TOKENS_LIMIT", "3", "5", percentage="41", nextResetTime=str(RESET_5H_MS)),
            _row("TIME_LIMIT", "5", "1", usage="1000", currentValue="250", percentage="99"),
        ]
    )
    windows = poll().windows
    assert (windows["5h"].utilization, windows["5h"].resets_at) == (41.0, RESET_5H_MS / 1000)
    assert windows["mcp_monthly"].utilization == 25.0


def test_percentage_is_used_when_counts_cannot_give_a_ratio(zai_fake: ZaiFake, poll) -> None:
    zai_fake.set_limits([_row("TIME_LIMIT", 5, 1, usage=0, currentValue=0, percentage=12)])
    assert poll().windows["mcp_monthly"].utilization == 12.0


def test_missing_or_negative_reset_time_gives_none(zai_fake: ZaiFake, poll) -> None:
    zai_fake.set_limits(
        [
            _row("TOKENS_LIMIT", 3, 5, percentage=1),
            _row("TOKENS_LIMIT", 6, 1, percentage=2, nextResetTime=-1),
        ]
    )
    windows = poll().windows
    assert windows["5h"].resets_at is None and windows["weekly"].resets_at is None


def test_utilization_is_clamped(zai_fake: ZaiFake, poll) -> None:
    zai_fake.set_limits(
        [_row("TOKENS_LIMIT", 3, 5, percentage=130), _row("TOKENS_LIMIT", 6, 1, percentage=-4)]
    )
    windows = poll().windows
    assert (windows["5h"].utilization, windows["weekly"].utilization) == (100.0, 0.0)


def test_a_second_row_with_the_same_name_gets_a_suffix(zai_fake: ZaiFake, poll) -> None:
    zai_fake.set_limits(
        [
            _row("TOKENS_LIMIT", 3, 5, percentage=10),
            _row("CREDIT_LIMIT", 3, 5, percentage=20),
            _row("TOKENS_LIMIT", 3, 5, percentage=30),
        ]
    )
    windows = poll().windows
    assert {n: w.utilization for n, w in windows.items()} == {"5h": 10, "5h_2": 20, "5h_3": 30}


def test_unknown_and_unreadable_rows_are_skipped(zai_fake: ZaiFake, poll) -> None:
    zai_fake.set_limits(
        [
            _row("SOMETHING_NEW", 3, 5, percentage=10),
            _row("TOKENS_LIMIT", 6, 1),
            "not a row",
            _row("TOKENS_LIMIT", 3, 5, percentage=7),
        ]
    )
    assert {n: w.utilization for n, w in poll().windows.items()} == {"5h": 7.0}


def test_limits_may_sit_at_the_top_level(zai_fake: ZaiFake, poll) -> None:
    zai_fake.upstream.script(
        QUOTA_PATH,
        json={
            "code": "200",
            "success": True,
            "planName": "lite",
            "limits": [_row("TOKENS_LIMIT", 3, 5, percentage=33)],
        },
    )
    result = poll()
    assert result.windows["5h"].utilization == 33.0
    assert result.plan == "lite"


def test_a_bare_limits_object_without_envelope_is_accepted(zai_fake: ZaiFake, poll) -> None:
    zai_fake.upstream.script(
        QUOTA_PATH, json={"limits": [_row("TOKENS_LIMIT", 6, 1, percentage=5)]}
    )
    assert poll().windows["weekly"].utilization == 5.0


def test_region_cn_polls_the_bigmodel_host(
    zai_fake: ZaiFake, make_settings: Callable[..., Settings], http_for: HttpFor
) -> None:
    with ZaiFake("cn-key", level="max") as cn_fake:
        http = http_for("zai", make_settings(zai=zai_fake.url, zai_cn=cn_fake.url))
        result = zai.fetch({"key": "cn-key"}, {"region": "cn"}, http, {}, NOW)
        assert cn_fake.calls == 1
    assert zai_fake.calls == 0
    assert result.plan == "max"


def test_wrong_key_gets_the_auth_envelope_and_auth_failed(zai_fake: ZaiFake, poll) -> None:
    with pytest.raises(AuthFailed) as err:
        poll(key="not-the-key")
    assert "code 1001" in err.value.message
    assert "Authentication parameter not received in Header" in err.value.message
    assert "not-the-key" not in err.value.message


def test_auth_envelope_mode(zai_fake: ZaiFake, poll) -> None:
    zai_fake.fail("auth_envelope")
    with pytest.raises(AuthFailed):
        poll()
    zai_fake.ok()
    assert "5h" in poll().windows


def test_error_envelope_with_another_code_is_a_provider_error(zai_fake: ZaiFake, poll) -> None:
    zai_fake.fail("error_envelope")
    with pytest.raises(ProviderError) as err:
        poll()
    assert type(err.value) is ProviderError
    assert err.value.message == (
        "Z.ai reported an error (code 500: Service busy, please try again later)."
    )


def test_envelope_message_mentioning_the_key_is_auth_failed_and_redacted(
    zai_fake: ZaiFake, poll
) -> None:
    zai_fake.upstream.script(
        QUOTA_PATH, json={"code": 4010, "msg": f"API key {KEY} has expired", "success": False}
    )
    with pytest.raises(AuthFailed) as err:
        poll()
    assert KEY not in err.value.message and "API key **** has expired" in err.value.message


def test_success_true_with_another_code_is_an_error(zai_fake: ZaiFake, poll) -> None:
    zai_fake.upstream.script(QUOTA_PATH, json={"code": 500, "success": True, "data": {}})
    with pytest.raises(ProviderError, match="code 500"):
        poll()


@pytest.mark.parametrize(
    "body",
    [
        {"code": 200, "success": True, "data": {"level": "pro", "limits": []}},
        {"code": 200, "success": True, "data": None},
        {"code": 200, "success": True},
        ["not", "an", "object"],
    ],
)
def test_no_recognisable_limits_is_a_bad_payload(zai_fake: ZaiFake, poll, body: Any) -> None:
    zai_fake.upstream.script(QUOTA_PATH, json=body)
    with pytest.raises(BadPayload) as err:
        poll()
    assert err.value.message.startswith("Z.ai answered")


def test_http_trouble_comes_through_as_the_mapped_error(zai_fake: ZaiFake, poll) -> None:
    zai_fake.fail("429", retry_after="120")
    with pytest.raises(RateLimitedUpstream) as err:
        poll()
    assert err.value.retry_after_s == 120.0
    zai_fake.fail("html")
    with pytest.raises(BadPayload, match="looks like HTML"):
        poll()


def test_missing_key_is_auth_failed_without_a_request(zai_fake: ZaiFake, poll) -> None:
    with pytest.raises(AuthFailed):
        poll(key="  ")
    assert zai_fake.calls == 0


@pytest.mark.parametrize("accept", ["raw", "bearer", "both"])
def test_either_header_form_the_upstream_takes_is_found(
    make_settings: Callable[..., Settings], http_for: HttpFor, accept: str
) -> None:
    with ZaiFake(KEY, accept=accept) as fake:
        http = http_for("zai", make_settings(zai=fake.url))
        result = zai.fetch({"key": KEY}, {}, http, {}, NOW)
        sent = [r.headers["authorization"] for r in fake.requests]
    assert "5h" in result.windows
    if accept == "raw":
        assert sent == [f"Bearer {KEY}", KEY]
        assert result.state == {"auth_scheme": "raw"}
    else:
        assert sent == [f"Bearer {KEY}"]
        assert result.state is None


def test_the_form_that_worked_is_tried_first_next_time(
    make_settings: Callable[..., Settings], http_for: HttpFor
) -> None:
    with ZaiFake(KEY, accept="raw") as fake:
        http = http_for("zai", make_settings(zai=fake.url))
        state = zai.fetch({"key": KEY}, {}, http, {}, NOW).state
        fake.upstream.clear_log()
        again = zai.fetch({"key": KEY}, {}, http, state or {}, NOW)
        assert [r.headers["authorization"] for r in fake.requests] == [KEY]
    assert again.state is None  # unchanged, so nothing to store


def test_a_remembered_raw_form_falls_back_to_bearer(
    make_settings: Callable[..., Settings], http_for: HttpFor
) -> None:
    with ZaiFake(KEY, accept="bearer") as fake:
        http = http_for("zai", make_settings(zai=fake.url))
        result = zai.fetch({"key": KEY}, {}, http, {"auth_scheme": "raw"}, NOW)
        assert [r.headers["authorization"] for r in fake.requests] == [KEY, f"Bearer {KEY}"]
    assert result.state == {"auth_scheme": "bearer"}


def test_a_wrong_key_is_tried_in_both_forms_then_auth_failed(zai_fake: ZaiFake, poll) -> None:
    with pytest.raises(AuthFailed) as err:
        poll(key="not-the-key")
    assert [r.headers["authorization"] for r in zai_fake.requests] == [
        "Bearer not-the-key",
        "not-the-key",
    ]
    assert err.value.message == (
        "Z.ai rejected the API key (code 1001: Authentication parameter not received in "
        "Header); check the key or replace it."
    )


@pytest.mark.parametrize("mode", ["error_envelope", "429", "500", "html"])
def test_other_failures_are_not_retried_with_the_other_form(
    zai_fake: ZaiFake, poll, mode: str
) -> None:
    zai_fake.fail(mode)
    with pytest.raises(ProviderError) as err:
        poll()
    assert not isinstance(err.value, AuthFailed)
    assert zai_fake.calls == 1


def test_a_token_limit_message_is_not_an_auth_failure(zai_fake: ZaiFake, poll) -> None:
    zai_fake.upstream.script(
        QUOTA_PATH,
        json={"code": 1308, "msg": "Token limit reached for the 5 hour window", "success": False},
    )
    with pytest.raises(ProviderError) as err:
        poll()
    assert type(err.value) is ProviderError
    assert zai_fake.calls == 1


def test_the_fake_refuses_an_unknown_accept_form() -> None:
    with pytest.raises(ValueError, match="accept must be"):
        ZaiFake(KEY, accept="basic")


@pytest.mark.parametrize("mode", ZAI_FAILURE_MODES)
def test_no_failure_mode_leaks_the_key(
    mode: str,
    make_settings: Callable[..., Settings],
    http_for: HttpFor,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    with ZaiFake(KEY) as fake:
        fake.fail(mode, hang_s=3.0)
        settings = make_settings(zai=fake.url).replace(http_timeout_s=0.3)
        with pytest.raises(ProviderError) as err:
            zai.fetch({"key": KEY}, {}, http_for("zai", settings), {}, NOW)
    assert err.value.message.startswith("Z.ai") and err.value.message.endswith(".")
    assert KEY not in err.value.message and KEY not in caplog.text
