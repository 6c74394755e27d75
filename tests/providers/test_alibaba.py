"""providers.alibaba against the fake Alibaba Cloud console RPC."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from quota_sentinel.config import Settings
from quota_sentinel.providers import alibaba
from quota_sentinel.providers.base import AuthFailed, BadPayload, ProviderError, UpstreamUnavailable
from tests.providers.support import NOW, HttpFor, ProviderCase
from tests.upstreams.alibaba import (
    ACTION,
    ALIBABA_FAILURE_MODES,
    QUOTA_PATH,
    AlibabaFake,
    instance,
)

KEY = "sk-sp-alibaba-test-0000"
RESET_5H_MS = 1_778_779_200_000
RESET_WEEK_MS = 1_779_062_400_000
RESET_MONTH_MS = 1_780_272_000_000

# The fake: an international account with one VALID Pro Coding Plan instance.
CASE = ProviderCase.keyed(
    alibaba.fetch,
    AlibabaFake,
    KEY,
    window="5h",
    names=("Alibaba Cloud",),
    modes=ALIBABA_FAILURE_MODES,
    errors={"console_need_login": AuthFailed, "error_code": ProviderError},
    missing="No Alibaba Cloud API key",
    reads=("codingPlanInstanceInfos",),
    unreadable=(
        {
            "code": "200",
            "data": {
                "codingPlanInstanceInfos": [
                    {
                        "status": "VALID",
                        "codingPlanQuotaInfo": {
                            "per5HourUsedQuota": "n/a",
                            "per5HourTotalQuota": 6000,
                        },
                    }
                ]
            },
        },
        "codingPlanQuotaInfo.per5HourUsedQuota",
    ),
)


def script(fake: AlibabaFake, body: Any) -> None:
    fake.upstream.script(QUOTA_PATH, method="POST", json=body)


def test_reads_the_three_windows_from_the_real_envelope(fake: AlibabaFake, poll) -> None:
    fake.set_instances(
        [instance(reset_5h=RESET_5H_MS, reset_week=RESET_WEEK_MS, reset_month=RESET_MONTH_MS)]
    )
    result = poll()
    assert list(result.windows) == ["5h", "weekly", "monthly"]
    five, week, month = (result.windows[n] for n in ("5h", "weekly", "monthly"))
    assert five.utilization == pytest.approx(412 / 6000 * 100)
    assert five.resets_at == RESET_5H_MS / 1000
    assert five.metadata == {"used": 412, "limit": 6000}
    assert (week.utilization, week.resets_at) == (
        pytest.approx(9120 / 45000 * 100),
        RESET_WEEK_MS / 1000,
    )
    assert (month.utilization, month.resets_at) == (
        pytest.approx(20310 / 90000 * 100),
        RESET_MONTH_MS / 1000,
    )
    assert result.plan == "pro" and result.state is None


def test_sends_the_rpc_query_body_and_the_key_three_times(fake: AlibabaFake, poll) -> None:
    poll()
    request = fake.upstream.last(QUOTA_PATH)
    assert request.method == "POST"
    assert request.query == {
        "action": ACTION,
        "product": "broadscope-bailian",
        "api": "queryCodingPlanInstanceInfoV2",
        "currentRegionId": "ap-southeast-1",
    }
    assert request.json() == {
        "queryCodingPlanInstanceInfoRequest": {"commodityCode": "sfm_codingplan_public_intl"}
    }
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert request.headers["x-api-key"] == KEY
    assert request.headers["x-dashscope-api-key"] == KEY
    assert request.headers["content-type"] == "application/json"
    assert request.headers["accept"] == "application/json"


def test_region_cn_uses_the_china_console_region_and_commodity(
    fake: AlibabaFake, make_settings: Callable[..., Settings], http_for: HttpFor
) -> None:
    with AlibabaFake("cn-key", region="cn") as cn_fake:
        http = http_for("alibaba", make_settings(alibaba=fake.url, alibaba_cn=cn_fake.url))
        result = alibaba.fetch({"key": "cn-key"}, {"region": "cn"}, http, {}, NOW)
        request = cn_fake.upstream.last(QUOTA_PATH)
    assert set(result.windows) == {"5h", "weekly", "monthly"}
    assert request.query["currentRegionId"] == "cn-beijing"
    assert request.json()["queryCodingPlanInstanceInfoRequest"]["commodityCode"] == (
        "sfm_codingplan_public_cn"
    )
    assert fake.calls == 0


def test_an_intl_request_to_a_cn_console_is_refused_by_the_fake(poll_of) -> None:
    with AlibabaFake(KEY, region="cn") as cn_fake:
        with pytest.raises(ProviderError, match="code InvalidParameter"):
            poll_of(cn_fake)()


@pytest.mark.parametrize("shape", ["success_body", "flat"])
def test_other_envelopes_are_searched(fake: AlibabaFake, poll, shape: str) -> None:
    fake.set_shape(shape)
    assert set(poll().windows) == {"5h", "weekly", "monthly"}


def test_deeply_nested_instances_are_found_within_the_search_depth(fake: AlibabaFake, poll) -> None:
    inner: Any = {"codingPlanInstanceInfos": [instance(used_5h=600)]}
    for level in range(7):
        inner = {f"level{level}": inner}
    script(fake, {"code": "200", "data": inner})
    assert poll().windows["5h"].utilization == 10.0


def test_instances_beyond_the_search_depth_are_a_bad_payload(fake: AlibabaFake, poll) -> None:
    inner: Any = {"codingPlanInstanceInfos": [instance()]}
    for level in range(12):
        inner = {f"level{level}": inner}
    script(fake, {"code": "200", "data": inner})
    with pytest.raises(BadPayload, match=r"quota-sentinel reads \(codingPlanInstanceInfos\)"):
        poll()


def test_success_body_may_also_be_an_object(fake: AlibabaFake, poll) -> None:
    body = {"data": {"codingPlanInstanceInfos": [instance(used_week=4500)]}}
    script(fake, {"code": "200", "successResponse": {"body": body}})
    assert poll().windows["weekly"].utilization == 10.0
    script(fake, {"code": "200", "successResponse": {"body": json.dumps(body)[:-3]}})
    with pytest.raises(BadPayload):
        poll()


def test_first_valid_instance_is_used(fake: AlibabaFake, poll) -> None:
    fake.set_instances(
        [
            instance("EXPIRED", used_5h=6000, instance_type="lite"),
            "not an instance",
            instance("valid", used_5h=1200),
            instance("VALID", used_5h=0),
        ]
    )
    result = poll()
    assert result.windows["5h"].utilization == 20.0
    assert result.plan == "pro"


def test_alias_field_names_and_numbers_as_strings(fake: AlibabaFake, poll) -> None:
    quota = {
        "perFiveHourUsedQuota": "300",
        "perFiveHourTotalQuota": "1200",
        "perFiveHourQuotaNextRefreshTime": str(RESET_5H_MS),
        "perWeekUsedQuota": "900",
        "perWeekTotalQuota": "9000",
        "perMonthUsedQuota": 1800,
        "perMonthTotalQuota": 18000,
        "perMonthQuotaNextRefreshTime": "2026-06-01T00:00:00Z",
    }
    fake.set_instances([instance(quota=quota, instance_type="lite")])
    result = poll()
    assert {n: w.utilization for n, w in result.windows.items()} == {
        "5h": 25.0,
        "weekly": 10.0,
        "monthly": 10.0,
    }
    assert result.windows["5h"].resets_at == RESET_5H_MS / 1000
    assert result.windows["weekly"].resets_at is None
    assert result.windows["monthly"].resets_at == 1_780_272_000.0
    assert result.plan == "lite"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-05-14T18:00:00+08:00", 1_778_752_800.0),
        ("2026-05-14 18:00:00", 1_778_781_600.0),
        (1_778_781_600, 1_778_781_600.0),
        (-1, None),
    ],
)
def test_refresh_time_forms(fake: AlibabaFake, poll, value: Any, expected: float | None) -> None:
    fake.set_instances([instance(reset_5h=value)])
    assert poll().windows["5h"].resets_at == expected


def test_counters_flattened_on_the_instance(fake: AlibabaFake, poll) -> None:
    flat = {
        "status": "VALID",
        "instanceType": "pro",
        "perWeekUsedQuota": 5,
        "perWeekTotalQuota": 50,
    }
    fake.set_instances([flat])
    assert {n: w.utilization for n, w in poll().windows.items()} == {"weekly": 10.0}


@pytest.mark.parametrize(
    "quota",
    [
        {},
        {"per5HourUsedQuota": 0, "per5HourTotalQuota": 0},
        {"per5HourUsedQuota": None, "per5HourTotalQuota": 6000},
    ],
)
def test_valid_instance_without_counters_reports_the_plan_only(
    fake: AlibabaFake, poll, quota: dict[str, Any]
) -> None:
    fake.set_instances([instance(quota=quota)])
    result = poll()
    assert result.windows == {} and result.plan == "pro"


def test_no_valid_instance_is_a_provider_error_naming_the_status(fake: AlibabaFake, poll) -> None:
    fake.set_instances([instance("EXPIRED"), instance("EXPIRED")])
    with pytest.raises(ProviderError) as err:
        poll()
    assert type(err.value) is ProviderError
    assert err.value.message == (
        "Alibaba Cloud reports no active Coding Plan for this account (instance status: "
        "EXPIRED); renew or buy the plan, or check the region setting."
    )


def test_no_instance_at_all(fake: AlibabaFake, poll) -> None:
    fake.set_instances([])
    with pytest.raises(ProviderError, match="no active Coding Plan for this account; renew"):
        poll()


def test_console_need_login_is_auth_failed_with_a_sentence(fake: AlibabaFake, poll) -> None:
    fake.fail("console_need_login")
    with pytest.raises(AuthFailed) as err:
        poll()
    message = err.value.message
    assert "this Alibaba account needs a console login" in message
    assert "does not accept an API key for it" in message
    assert 'region to "cn"' in message


def test_wrong_key_gets_the_invalid_api_key_code(fake: AlibabaFake, poll) -> None:
    wrong = "sk-sp-wrong-9999"
    with pytest.raises(AuthFailed) as err:
        poll(wrong)
    assert err.value.message.startswith(
        "Alibaba Cloud rejected the API key (code InvalidApiKey: Invalid API-key provided.)"
    )
    assert wrong not in err.value.message


def test_other_string_codes_are_provider_errors_with_the_message(fake: AlibabaFake, poll) -> None:
    fake.fail("error_code")
    with pytest.raises(ProviderError) as err:
        poll()
    assert type(err.value) is ProviderError
    assert err.value.message == (
        "Alibaba Cloud reported an error (code Throttling.User: Request was denied due to user "
        "flow control.)."
    )


@pytest.mark.parametrize(
    "body",
    [
        {"code": "Unauthorized", "message": "Access denied."},
        {"code": 401, "message": "Access denied."},
        {"statusCode": "500", "message": "Your api key is not allowed here."},
    ],
)
def test_codes_and_messages_about_the_key_are_auth_failed(
    fake: AlibabaFake, poll, body: dict[str, Any]
) -> None:
    script(fake, body)
    with pytest.raises(AuthFailed):
        poll()


def test_a_code_message_carrying_the_key_is_redacted(fake: AlibabaFake, poll) -> None:
    script(fake, {"code": "InvalidParameter", "message": f"bad header x-api-key={KEY}"})
    with pytest.raises(AuthFailed) as err:
        poll()
    assert KEY not in err.value.message and "x-api-key=****" in err.value.message


@pytest.mark.parametrize("body", [{"code": "200"}, {"code": "200", "data": {}}, ["200"]])
def test_no_instance_list_is_a_bad_payload(fake: AlibabaFake, poll, body: Any) -> None:
    script(fake, body)
    with pytest.raises(BadPayload) as err:
        poll()
    assert err.value.message.startswith("Alibaba Cloud answered")


def test_the_post_is_sent_once_even_when_it_fails(fake: AlibabaFake, poll) -> None:
    fake.fail("503")
    with pytest.raises(UpstreamUnavailable):
        poll()
    assert fake.calls == 1


def test_quota_beside_instances_without_status_is_read(fake: AlibabaFake, poll) -> None:
    fake.set_shape("no_status")
    result = poll()
    assert {n: round(w.utilization, 1) for n, w in result.windows.items()} == {
        "5h": 5.2,
        "weekly": 16.0,
        "monthly": 6.0,
    }
    assert result.plan == "pro"


def test_instances_with_statuses_but_none_valid_still_say_so(fake: AlibabaFake, poll) -> None:
    without = {k: v for k, v in instance().items() if k != "status"}
    fake.set_instances([instance("EXPIRED"), without])
    with pytest.raises(ProviderError, match=r"no active Coding Plan .*status: EXPIRED"):
        poll()


def test_an_unreadable_counter_is_an_error_naming_it(fake: AlibabaFake, poll) -> None:
    fake.set_instances([instance(total_week="lots")])
    with pytest.raises(BadPayload) as err:
        poll()
    assert "answered codingPlanQuotaInfo.perWeekTotalQuota with text" in err.value.message
