"""providers.minimax against the fake MiniMax remains endpoints."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from quota_sentinel.config import Settings
from quota_sentinel.providers import minimax
from quota_sentinel.providers.base import (
    AuthFailed,
    BadPayload,
    ProviderError,
    RateLimitedUpstream,
    UpstreamUnavailable,
    UsageResult,
)
from tests.providers.support import NOW, HttpFor, ProviderCase
from tests.upstreams.minimax import (
    CODING_PLAN_PATH,
    MINIMAX_FAILURE_MODES,
    TOKEN_PLAN_PATH,
    MiniMaxFake,
    lane,
    placeholder,
    unnamed,
)

KEY = "sk-cp-minimax-test-0000"
END_MS = 1_778_779_200_000
WEEKLY_END_MS = 1_779_062_400_000

CASE = ProviderCase.keyed(
    minimax.fetch,
    MiniMaxFake,
    KEY,
    window="interval",
    names=("MiniMax",),
    modes=MINIMAX_FAILURE_MODES,
    errors={
        "auth_envelope": AuthFailed,
        "invalid_key_envelope": AuthFailed,
        "error_envelope": ProviderError,
    },
    missing="No MiniMax API key",
    reads=("model_remains",),
    unreadable=(
        {"model_remains": [{"model_name": "MiniMax-M*", "current_interval_total_count": "n/a"}]},
        "model_remains[0].current_interval_total_count",
    ),
)


def utilizations(result: UsageResult) -> dict[str, float]:
    return {name: round(w.utilization, 2) for name, w in result.windows.items()}


def test_reads_interval_and_weekly_of_the_coding_lane(fake: MiniMaxFake, poll) -> None:
    fake.set_lanes(
        [lane(end_ms=END_MS, weekly_end_ms=WEEKLY_END_MS, weekly_boost_permille=1000)]
        + [placeholder("video")]
    )
    result = poll()
    assert list(result.windows) == ["interval", "weekly"]
    interval, weekly = result.windows["interval"], result.windows["weekly"]
    # usage_count is what REMAINS: 1130 of 1500 left is 24.67 % used.
    assert interval.utilization == pytest.approx(370 / 1500 * 100)
    assert interval.resets_at == END_MS / 1000
    assert interval.metadata == {"model": "MiniMax-M*", "limit": 1500, "remaining": 1130}
    assert weekly.utilization == pytest.approx(2590 / 15000 * 100)
    assert weekly.resets_at == WEEKLY_END_MS / 1000
    assert weekly.metadata["boost_permille"] == 1000
    assert result.plan is None and result.state is None


def test_sends_the_bearer_key_to_the_token_plan_path_first(fake: MiniMaxFake, poll) -> None:
    poll()
    assert [r.path for r in fake.requests] == [TOKEN_PLAN_PATH]
    request = fake.requests[0]
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert request.headers["accept"] == "application/json"
    assert request.query == {}


def test_group_id_is_sent_when_configured(fake: MiniMaxFake, poll) -> None:
    poll(group_id="1890001234")
    assert fake.requests[-1].query == {"GroupId": "1890001234"}


def test_stored_bearer_prefix_is_not_doubled(fake: MiniMaxFake, poll) -> None:
    poll(f"Bearer {KEY}")
    assert fake.requests[-1].headers["authorization"] == f"Bearer {KEY}"


def test_remaining_percent_is_preferred_over_counts(fake: MiniMaxFake, poll) -> None:
    fake.set_lanes([lane(interval_pct=75, weekly_pct=82)])
    result = poll()
    assert utilizations(result) == {"interval": 25.0, "weekly": 18.0}
    assert result.windows["interval"].metadata["remaining_percent"] == 75


def test_newer_answers_with_zero_counts_and_only_percents(fake: MiniMaxFake, poll) -> None:
    fake.set_lanes(
        [
            lane(
                "general",
                interval_total=0,
                interval_left=0,
                interval_pct=60,
                weekly_total=0,
                weekly_left=0,
                weekly_pct="90",
            )
        ]
    )
    result = poll()
    assert utilizations(result) == {"interval": 40.0, "weekly": 10.0}
    assert result.windows["interval"].metadata == {"model": "general", "remaining_percent": 60}


def test_numbers_may_be_strings(fake: MiniMaxFake, poll) -> None:
    fake.set_lanes([lane(interval_total="1500", interval_left="300", end_ms=str(END_MS))])
    window = poll().windows["interval"]
    assert (window.utilization, window.resets_at) == (80.0, END_MS / 1000)


def test_reset_falls_back_to_now_plus_remains_time(fake: MiniMaxFake, poll) -> None:
    fake.set_lanes([lane(remains_ms=9_320_000, weekly_remains_ms="292520000")])
    windows = poll().windows
    assert windows["interval"].resets_at == NOW + 9320
    assert windows["weekly"].resets_at == NOW + 292_520


def test_no_reset_information_gives_none(fake: MiniMaxFake, poll) -> None:
    fake.set_lanes([lane(remains_ms=None, weekly_remains_ms=None, end_ms=-1)])
    assert {w.resets_at for w in poll().windows.values()} == {None}


def test_weekly_window_only_when_the_plan_has_one(fake: MiniMaxFake, poll) -> None:
    fake.set_lanes([lane(weekly_total=0, weekly_left=0)])
    assert list(poll().windows) == ["interval"]


def test_other_text_lanes_get_prefixed_windows_and_media_lanes_are_skipped(
    fake: MiniMaxFake, poll
) -> None:
    fake.set_lanes(
        [
            lane("MiniMax-M2.7-highspeed", interval_left=750),
            lane("MiniMax-M*"),
            lane("speech-02-hd"),
            lane("image-01"),
            lane("Hailuo-02"),
            lane("music-1.5"),
            lane("audio-x"),
            lane("video"),
        ]
    )
    windows = poll().windows
    assert list(windows) == [
        "interval",
        "weekly",
        "minimax_m2_7_highspeed_interval",
        "minimax_m2_7_highspeed_weekly",
    ]
    assert windows["minimax_m2_7_highspeed_interval"].utilization == 50.0
    assert windows["interval"].metadata["model"] == "MiniMax-M*"


def test_general_lane_is_the_coding_lane(fake: MiniMaxFake, poll) -> None:
    fake.set_lanes([placeholder("video"), lane("general", interval_left=1500)])
    assert utilizations(poll())["interval"] == 0.0


def test_first_minimax_m_lane_is_canonical_without_a_wildcard(fake: MiniMaxFake, poll) -> None:
    fake.set_lanes([lane("abab6.5s"), lane("MiniMax-M2.7"), lane("MiniMax-M2.7-highspeed")])
    windows = poll().windows
    assert {"interval", "weekly"} <= set(windows)
    assert windows["interval"].metadata["model"] == "MiniMax-M2.7"
    assert {"abab6_5s_interval", "minimax_m2_7_highspeed_weekly"} <= set(windows)


def test_a_placeholder_coding_lane_yields_no_window_but_the_plan(poll_of) -> None:
    with MiniMaxFake(KEY, plan_title="Starter") as fake:
        fake.set_lanes([placeholder("MiniMax-M*"), placeholder("video")])
        result = poll_of(fake)()
    assert result.windows == {} and result.plan == "Starter"


def test_only_media_lanes_yield_no_window(fake: MiniMaxFake, poll) -> None:
    fake.set_lanes([lane("video"), lane("speech-02")])
    assert poll().windows == {}


def test_a_text_lane_without_readable_figures_is_a_bad_payload(fake: MiniMaxFake, poll) -> None:
    fake.set_lanes([{"model_name": "MiniMax-M*", "left": 3, "quota": 10}])
    says = r"answered model_remains\[0\] \(MiniMax-M\*\) without current_interval_total"
    with pytest.raises(BadPayload, match=says):
        poll()


def test_usage_count_can_be_read_as_used(fake: MiniMaxFake, poll) -> None:
    fake.set_lanes([lane(interval_total=1500, interval_left=300)])
    window = poll(usage_count="used").windows["interval"]
    assert window.utilization == 20.0
    assert window.metadata["used"] == 300 and "remaining" not in window.metadata


def test_everything_wrapped_in_data_with_the_plan_title(poll_of) -> None:
    with MiniMaxFake(KEY, wrap_in_data=True, plan_title="Plus · Monthly") as fake:
        result = poll_of(fake)()
    assert set(result.windows) == {"interval", "weekly"}
    assert result.plan == "Plus · Monthly"


@pytest.mark.parametrize("field", ["plan_name", "combo_title"])
def test_plan_label_alternatives(fake: MiniMaxFake, poll, field: str) -> None:
    fake.upstream.script(TOKEN_PLAN_PATH, json={"model_remains": [lane()], field: "Max"})
    assert poll().plan == "Max"


def test_utilization_is_clamped(fake: MiniMaxFake, poll) -> None:
    fake.set_lanes([lane(interval_pct=-5, weekly_pct=120)])
    assert utilizations(poll()) == {"interval": 100.0, "weekly": 0.0}


@pytest.mark.parametrize("status", [404, 405, 401, 403])
def test_falls_back_to_the_coding_plan_path(fake: MiniMaxFake, poll, status: int) -> None:
    fake.set_path_status(token_plan=status)
    assert set(poll().windows) == {"interval", "weekly"}
    assert [r.path for r in fake.requests] == [TOKEN_PLAN_PATH, CODING_PLAN_PATH]
    assert fake.requests[1].headers["authorization"] == f"Bearer {KEY}"


@pytest.mark.parametrize(
    ("status", "error"), [(429, RateLimitedUpstream), (500, UpstreamUnavailable)]
)
def test_other_failures_of_the_token_plan_path_do_not_fall_back(
    fake: MiniMaxFake, poll, status: int, error: type[ProviderError]
) -> None:
    fake.set_path_status(token_plan=status)
    with pytest.raises(error):
        poll()
    assert fake.upstream.count(CODING_PLAN_PATH) == 0


def test_neither_path_present_is_a_provider_error(fake: MiniMaxFake, poll) -> None:
    fake.set_path_status(token_plan=404, coding_plan=404)
    with pytest.raises(ProviderError) as err:
        poll()
    assert type(err.value) is ProviderError
    assert "no quota endpoint here (HTTP 404 on both" in err.value.message
    assert "base URL setting" in err.value.message


def test_wrong_key_tries_both_paths_and_says_what_to_check(fake: MiniMaxFake, poll) -> None:
    wrong = "sk-cp-wrong-key-9999"
    with pytest.raises(AuthFailed) as err:
        poll(wrong)
    assert fake.calls == 2
    assert err.value.message.startswith("MiniMax rejected the API key (HTTP 401)")
    assert 'needs region "cn"' in err.value.message
    assert wrong not in err.value.message


def test_region_cn_polls_the_china_host(
    fake: MiniMaxFake, make_settings: Callable[..., Settings], http_for: HttpFor
) -> None:
    with MiniMaxFake("cn-key") as cn_fake:
        http = http_for("minimax", make_settings(minimax=fake.url, minimax_cn=cn_fake.url))
        result = minimax.fetch({"key": "cn-key"}, {"region": "cn"}, http, {}, NOW)
        assert cn_fake.calls == 1
        with pytest.raises(AuthFailed, match='drop the "cn" region'):
            minimax.fetch({"key": "global-key"}, {"region": "CN"}, http, {}, NOW)
    assert fake.calls == 0
    assert "interval" in result.windows


@pytest.mark.parametrize(
    ("mode", "error", "text"),
    [
        ("auth_envelope", AuthFailed, "status 1004: cookie is missing, log in again"),
        ("invalid_key_envelope", AuthFailed, "status 2049: invalid api key"),
        ("error_envelope", ProviderError, "status 1000: unknown error, please retry"),
    ],
)
def test_base_resp_errors_in_an_http_200(
    fake: MiniMaxFake, poll, mode: str, error: type[ProviderError], text: str
) -> None:
    fake.fail(mode)
    with pytest.raises(error) as err:
        poll()
    assert type(err.value) is error
    assert text in err.value.message
    assert fake.upstream.count(CODING_PLAN_PATH) == 0


def test_error_envelope_sentence(fake: MiniMaxFake, poll) -> None:
    fake.fail("error_envelope")
    with pytest.raises(ProviderError) as err:
        poll()
    assert (
        err.value.message == "MiniMax reported an error (status 1000: unknown error, please retry)."
    )


def test_base_resp_inside_data_is_checked_and_its_message_redacted(fake: MiniMaxFake, poll) -> None:
    resp = {"status_code": 1001, "status_msg": f"invalid api key {KEY}"}
    fake.upstream.script(TOKEN_PLAN_PATH, json={"data": {"base_resp": resp}})
    with pytest.raises(AuthFailed) as err:
        poll()
    assert "invalid api key ****" in err.value.message and KEY not in err.value.message


@pytest.mark.parametrize(
    "body",
    [
        {"base_resp": {"status_code": 0, "status_msg": "success"}},
        {"model_remains": [], "base_resp": {"status_code": 0}},
        {"model_remains": {"MiniMax-M*": {}}},
        ["model_remains"],
    ],
)
def test_no_model_remains_is_a_bad_payload(fake: MiniMaxFake, poll, body: Any) -> None:
    fake.upstream.script(TOKEN_PLAN_PATH, json=body)
    with pytest.raises(BadPayload) as err:
        poll()
    assert err.value.message.startswith("MiniMax answered")


def test_a_row_without_model_name_is_the_coding_lane(fake: MiniMaxFake, poll) -> None:
    fake.set_lanes([unnamed(interval_left=750), placeholder("video")])
    windows = poll().windows
    assert set(windows) == {"interval", "weekly"}
    assert windows["interval"].utilization == 50.0
    assert "model" not in windows["interval"].metadata


def test_a_row_without_model_name_beside_the_coding_lane_keeps_its_windows(
    fake: MiniMaxFake, poll
) -> None:
    fake.set_lanes([unnamed(interval_left=750), lane()])
    windows = poll().windows
    assert set(windows) == {"interval", "weekly", "unnamed_interval", "unnamed_weekly"}
    assert windows["unnamed_interval"].utilization == 50.0


def test_a_row_without_model_name_or_figures_is_an_error_naming_it(fake: MiniMaxFake, poll) -> None:
    fake.set_lanes([{"left": 3}])
    with pytest.raises(BadPayload) as err:
        poll()
    assert "MiniMax answered model_remains[0] without current_interval_total" in err.value.message


def test_an_unreadable_figure_is_an_error_naming_the_field(fake: MiniMaxFake, poll) -> None:
    fake.set_lanes([lane(weekly_total="lots")])
    with pytest.raises(BadPayload) as err:
        poll()
    assert "answered model_remains[0].current_weekly_total_count with text" in err.value.message
