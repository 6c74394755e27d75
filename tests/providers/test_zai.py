"""providers.zai against the fake Z.ai quota endpoint."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from quota_sentinel.config import Settings
from quota_sentinel.providers import zai
from quota_sentinel.providers.base import AuthFailed, BadPayload, ProviderError
from tests.providers.support import NOW, HttpFor, ProviderCase
from tests.upstreams.zai import QUOTA_PATH, ZAI_FAILURE_MODES, ZaiFake

KEY = "zai-test-key"
RESET_5H_MS = 1_778_779_200_000
RESET_WEEK_MS = 1_779_148_800_000
RESET_MCP_MS = 1_780_272_000_000

CASE = ProviderCase.keyed(
    zai.fetch,
    ZaiFake,
    KEY,
    window="5h",
    names=("Z.ai",),
    modes=ZAI_FAILURE_MODES,
    errors={"auth_envelope": AuthFailed, "error_envelope": ProviderError},
    missing="No Z.ai API key",
    reads=("data.limits",),
    unreadable=(
        {
            "code": 200,
            "success": True,
            "data": {
                "limits": [{"type": "TOKENS_LIMIT", "unit": 3, "number": 5, "percentage": "41%"}]
            },
        },
        "limits[0].percentage",
    ),
)


def _row(kind: str, unit: Any, number: Any, **fields: Any) -> dict[str, Any]:
    return {"type": kind, "unit": unit, "number": number, **fields}


def test_reads_the_three_documented_windows(fake: ZaiFake, poll) -> None:
    fake.set_usage(
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


def test_sends_bearer_key_and_headers(fake: ZaiFake, poll) -> None:
    poll()
    headers = fake.upstream.last(QUOTA_PATH).headers
    assert headers["authorization"] == f"Bearer {KEY}"
    assert headers["accept"] == "application/json"
    assert headers["accept-language"] == "en-US,en"


def test_stored_bearer_prefix_is_not_doubled(fake: ZaiFake, poll) -> None:
    poll(f"Bearer {KEY}")
    assert fake.upstream.last(QUOTA_PATH).headers["authorization"] == f"Bearer {KEY}"


def test_usage_climbs_between_polls(fake: ZaiFake, poll) -> None:
    assert poll().windows["5h"].utilization == 41.0
    fake.set_usage(five_hour=63)
    assert poll().windows["5h"].utilization == 63.0
    assert fake.calls == 2


def test_credit_limit_rows_are_windows_too(poll_of) -> None:
    with ZaiFake(KEY, limit_type="CREDIT_LIMIT") as fake:
        result = poll_of(fake)()
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
    fake: ZaiFake, poll, unit: int, number: int, name: str
) -> None:
    fake.set_limits([_row("TOKENS_LIMIT", unit, number, percentage=10)])
    assert list(poll().windows) == [name]


def test_numbers_may_be_strings(fake: ZaiFake, poll) -> None:
    fake.set_limits(
        [
            _row("TOKENS_LIMIT", "3", "5", percentage="41", nextResetTime=str(RESET_5H_MS)),
            _row("TIME_LIMIT", "5", "1", usage="1000", currentValue="250", percentage="99"),
        ]
    )
    windows = poll().windows
    assert (windows["5h"].utilization, windows["5h"].resets_at) == (41.0, RESET_5H_MS / 1000)
    assert windows["mcp_monthly"].utilization == 25.0


def test_percentage_is_used_when_counts_cannot_give_a_ratio(fake: ZaiFake, poll) -> None:
    fake.set_limits([_row("TIME_LIMIT", 5, 1, usage=0, currentValue=0, percentage=12)])
    assert poll().windows["mcp_monthly"].utilization == 12.0


def test_missing_or_negative_reset_time_gives_none(fake: ZaiFake, poll) -> None:
    fake.set_limits(
        [
            _row("TOKENS_LIMIT", 3, 5, percentage=1),
            _row("TOKENS_LIMIT", 6, 1, percentage=2, nextResetTime=-1),
        ]
    )
    windows = poll().windows
    assert windows["5h"].resets_at is None and windows["weekly"].resets_at is None


def test_utilization_is_clamped(fake: ZaiFake, poll) -> None:
    fake.set_limits(
        [_row("TOKENS_LIMIT", 3, 5, percentage=130), _row("TOKENS_LIMIT", 6, 1, percentage=-4)]
    )
    windows = poll().windows
    assert (windows["5h"].utilization, windows["weekly"].utilization) == (100.0, 0.0)


def test_a_second_row_with_the_same_name_gets_a_suffix(fake: ZaiFake, poll) -> None:
    fake.set_limits(
        [
            _row("TOKENS_LIMIT", 3, 5, percentage=10),
            _row("CREDIT_LIMIT", 3, 5, percentage=20),
            _row("TOKENS_LIMIT", 3, 5, percentage=30),
        ]
    )
    windows = poll().windows
    assert {n: w.utilization for n, w in windows.items()} == {"5h": 10, "5h_2": 20, "5h_3": 30}


def test_rows_of_an_unknown_type_are_skipped(fake: ZaiFake, poll) -> None:
    fake.set_limits(
        [_row("SOMETHING_NEW", 3, 5, percentage=10), _row("TOKENS_LIMIT", 3, 5, percentage=7)]
    )
    assert {n: w.utilization for n, w in poll().windows.items()} == {"5h": 7.0}


@pytest.mark.parametrize(
    ("row", "says"),
    [
        (_row("TOKENS_LIMIT", 6, 1), "limits[1] without a percentage"),
        ("not a row", "limits[1] with text, not an object"),
        (_row("TOKENS_LIMIT", 6, 1, percentage="high"), "limits[1].percentage with text"),
        (_row("TIME_LIMIT", 5, 1, usage=[1000], currentValue=3), "limits[1].usage with a list"),
    ],
)
def test_an_unreadable_row_is_an_error_naming_the_field(
    fake: ZaiFake, poll, row: Any, says: str
) -> None:
    fake.set_limits([_row("TOKENS_LIMIT", 3, 5, percentage=7), row])
    with pytest.raises(BadPayload) as err:
        poll()
    assert f"Z.ai answered {says}" in err.value.message


@pytest.mark.parametrize(
    ("window", "name"),
    [((5, 1), "mcp_monthly"), ((3, 5), "mcp_5h"), ((1, 1), "mcp_1d"), ((6, 1), "mcp_weekly")],
)
def test_a_time_limit_is_named_by_its_real_length(
    fake: ZaiFake, poll, window: tuple[int, int], name: str
) -> None:
    fake.set_mcp_window(*window)
    windows = poll().windows
    assert set(windows) == {"5h", "weekly", name}
    assert windows[name].metadata["limit_type"] == "TIME_LIMIT"
    assert windows[name].utilization == pytest.approx(13.7)


def test_a_time_limit_without_a_unit_stays_monthly(fake: ZaiFake, poll) -> None:
    fake.set_limits([{"type": "TIME_LIMIT", "percentage": 12}])
    assert set(poll().windows) == {"mcp_monthly"}


def test_limits_may_sit_at_the_top_level(fake: ZaiFake, poll) -> None:
    fake.upstream.script(
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


def test_a_bare_limits_object_without_envelope_is_accepted(fake: ZaiFake, poll) -> None:
    fake.upstream.script(QUOTA_PATH, json={"limits": [_row("TOKENS_LIMIT", 6, 1, percentage=5)]})
    assert poll().windows["weekly"].utilization == 5.0


def test_region_cn_polls_the_bigmodel_host(
    fake: ZaiFake, make_settings: Callable[..., Settings], http_for: HttpFor
) -> None:
    with ZaiFake("cn-key", level="max") as cn_fake:
        http = http_for("zai", make_settings(zai=fake.url, zai_cn=cn_fake.url))
        result = zai.fetch({"key": "cn-key"}, {"region": "cn"}, http, {}, NOW)
        assert cn_fake.calls == 1
    assert fake.calls == 0
    assert result.plan == "max"


def test_wrong_key_gets_the_auth_envelope_and_auth_failed(fake: ZaiFake, poll) -> None:
    with pytest.raises(AuthFailed) as err:
        poll("not-the-key")
    assert "code 1001" in err.value.message
    assert "Authentication parameter not received in Header" in err.value.message
    assert "not-the-key" not in err.value.message


def test_error_envelope_with_another_code_is_a_provider_error(fake: ZaiFake, poll) -> None:
    fake.fail("error_envelope")
    with pytest.raises(ProviderError) as err:
        poll()
    assert type(err.value) is ProviderError
    assert err.value.message == (
        "Z.ai reported an error (code 500: Service busy, please try again later)."
    )


def test_envelope_message_mentioning_the_key_is_auth_failed_and_redacted(
    fake: ZaiFake, poll
) -> None:
    fake.upstream.script(
        QUOTA_PATH, json={"code": 4010, "msg": f"API key {KEY} has expired", "success": False}
    )
    with pytest.raises(AuthFailed) as err:
        poll()
    assert KEY not in err.value.message and "API key **** has expired" in err.value.message


def test_success_true_with_another_code_is_an_error(fake: ZaiFake, poll) -> None:
    fake.upstream.script(QUOTA_PATH, json={"code": 500, "success": True, "data": {}})
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
def test_no_recognisable_limits_is_a_bad_payload(fake: ZaiFake, poll, body: Any) -> None:
    fake.upstream.script(QUOTA_PATH, json=body)
    with pytest.raises(BadPayload) as err:
        poll()
    assert err.value.message.startswith("Z.ai answered")


@pytest.mark.parametrize("accept", ["raw", "bearer", "both"])
def test_either_header_form_the_upstream_takes_is_found(poll_of, accept: str) -> None:
    with ZaiFake(KEY, accept=accept) as fake:
        result = poll_of(fake)()
        sent = [r.headers["authorization"] for r in fake.requests]
    assert "5h" in result.windows
    if accept == "raw":
        assert sent == [f"Bearer {KEY}", KEY]
        assert result.state == {"auth_scheme": "raw"}
    else:
        assert sent == [f"Bearer {KEY}"]
        assert result.state is None


def test_the_form_that_worked_is_tried_first_next_time(poll_of) -> None:
    with ZaiFake(KEY, accept="raw") as fake:
        poll = poll_of(fake)
        state = poll().state
        fake.upstream.clear_log()
        again = poll(state=state)
        assert [r.headers["authorization"] for r in fake.requests] == [KEY]
    assert again.state is None  # unchanged, so nothing to store


def test_a_remembered_raw_form_falls_back_to_bearer(poll_of) -> None:
    with ZaiFake(KEY, accept="bearer") as fake:
        result = poll_of(fake)(state={"auth_scheme": "raw"})
        assert [r.headers["authorization"] for r in fake.requests] == [KEY, f"Bearer {KEY}"]
    assert result.state == {"auth_scheme": "bearer"}


def test_a_wrong_key_is_tried_in_both_forms_then_auth_failed(fake: ZaiFake, poll) -> None:
    with pytest.raises(AuthFailed) as err:
        poll("not-the-key")
    assert [r.headers["authorization"] for r in fake.requests] == [
        "Bearer not-the-key",
        "not-the-key",
    ]
    assert err.value.message == (
        "Z.ai rejected the API key (code 1001: Authentication parameter not received in "
        "Header); check the key or replace it."
    )


@pytest.mark.parametrize("mode", ["error_envelope", "429", "500", "html"])
def test_other_failures_are_not_retried_with_the_other_form(fake: ZaiFake, poll, mode: str) -> None:
    fake.fail(mode)
    with pytest.raises(ProviderError) as err:
        poll()
    assert not isinstance(err.value, AuthFailed)
    assert fake.calls == 1


def test_a_token_limit_message_is_not_an_auth_failure(fake: ZaiFake, poll) -> None:
    fake.upstream.script(
        QUOTA_PATH,
        json={"code": 1308, "msg": "Token limit reached for the 5 hour window", "success": False},
    )
    with pytest.raises(ProviderError) as err:
        poll()
    assert type(err.value) is ProviderError
    assert fake.calls == 1


def test_the_fake_refuses_an_unknown_accept_form() -> None:
    with pytest.raises(ValueError, match="accept must be"):
        ZaiFake(KEY, accept="basic")
