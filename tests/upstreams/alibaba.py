"""Fake Alibaba Cloud console RPC (POST /data/api.json) for the Coding Plan (docs/providers.md).

    fake = alibaba_upstream(key="sk-sp-alibaba-test")   # started; stop() it or use `with`
    env = {"QUOTA_SENTINEL_ALIBABA_BASE_URL": fake.url}
    fake.set_instances([instance(used_5h=900), instance(status="EXPIRED")])
    fake.set_shape("success_body")           # the answer as a JSON string in successResponse.body
    fake.set_shape("no_status")              # instances without `status`, quota 5.2 / 16 / 6 %
    fake.fail("console_need_login"); fake.ok()

The fake checks what the real gateway needs: the action/product/api/currentRegionId query, the
commodity code of its region in the body, and the key in `Authorization: Bearer`, `x-api-key`
and `X-DashScope-API-Key`. A wrong key gets an HTTP-200 `InvalidApiKey` code; a wrong query or
body gets `InvalidParameter`. Errors are HTTP 200 with a string `code`, as the gateway sends them.
"""

from __future__ import annotations

import copy
import json
import time
from typing import Any

from tests.upstreams.provider_fake import FAILURE_MODES, HOUR_MS, ProviderFake
from tests.upstreams.server import FakeUpstream, Reply, Request

QUOTA_PATH = "/data/api.json"
ACTION = "zeldaEasy.broadscope-bailian.codingPlan.queryCodingPlanInstanceInfoV2"
REGIONS = {
    "intl": ("ap-southeast-1", "sfm_codingplan_public_intl"),
    "cn": ("cn-beijing", "sfm_codingplan_public_cn"),
}
SHAPES = ("datav2", "success_body", "flat", "no_status")

CODE_REPLIES: dict[str, dict[str, Any]] = {
    "console_need_login": {
        "code": "ConsoleNeedLogin",
        "message": "You need to log in.",
        "requestId": "6C1F0E4B-0000-4000-8000-000000000001",
        "successResponse": False,
    },
    "error_code": {
        "code": "Throttling.User",
        "message": "Request was denied due to user flow control.",
        "requestId": "6C1F0E4B-0000-4000-8000-000000000002",
        "successResponse": False,
    },
}
# Alibaba-specific failure modes, on top of FAILURE_MODES; both answer HTTP 200.
ALIBABA_FAILURE_MODES = FAILURE_MODES + tuple(CODE_REPLIES)


def instance(
    status: str = "VALID",
    *,
    used_5h: Any = 412,
    total_5h: Any = 6000,
    used_week: Any = 9120,
    total_week: Any = 45000,
    used_month: Any = 20310,
    total_month: Any = 90000,
    reset_5h: Any = None,
    reset_week: Any = None,
    reset_month: Any = None,
    instance_type: str = "pro",
    quota: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One `codingPlanInstanceInfos` entry (counts are used requests; resets epoch ms or ISO).

    Args:
        status: "VALID", "EXPIRED", …
        used_* / total_*: the per5Hour / perWeek / perBillMonth counters.
        reset_*: the *QuotaNextRefreshTime values; default a few hours/days from now.
        instance_type: "lite", "starter", "pro".
        quota: a raw `codingPlanQuotaInfo` to serve instead (e.g. {} or alias field names).

    Returns:
        The entry.
    """
    now_ms = int(time.time() * 1000)
    counters = {
        "per5HourUsedQuota": used_5h,
        "per5HourTotalQuota": total_5h,
        "per5HourQuotaNextRefreshTime": reset_5h or now_ms + 3 * HOUR_MS,
        "perWeekUsedQuota": used_week,
        "perWeekTotalQuota": total_week,
        "perWeekQuotaNextRefreshTime": reset_week or now_ms + 72 * HOUR_MS,
        "perBillMonthUsedQuota": used_month,
        "perBillMonthTotalQuota": total_month,
        "perBillMonthQuotaNextRefreshTime": reset_month or now_ms + 400 * HOUR_MS,
    }
    return {
        "instanceName": f"Coding Plan {instance_type.capitalize()}",
        "instanceType": instance_type,
        "status": status,
        "remainingDays": 19,
        "codingPlanQuotaInfo": counters if quota is None else quota,
    }


def no_status_instances() -> list[dict[str, Any]]:
    """Instances as some accounts list them: no `status` on any, the quota beside the list
    (5.2 % of the 5-hour, 16 % of the weekly, 6 % of the monthly counter)."""
    counted = instance(used_5h=312, used_week=7200, used_month=5400)
    del counted["status"]
    listed = {"instanceName": "Coding Plan Pro", "instanceType": "pro", "remainingDays": 19}
    return [listed, counted]


class AlibabaFake(ProviderFake):
    """An Alibaba Model Studio account with one VALID Pro Coding Plan instance.

    Args:
        key: the API key the fake accepts.
        region: "intl" or "cn": which currentRegionId and commodity code it expects.
    """

    path = QUOTA_PATH
    method = "POST"
    name = "alibaba"

    def __init__(self, key: str = "sk-sp-alibaba-test-0000", *, region: str = "intl") -> None:
        super().__init__()
        # The gateway takes POST only; a GET on the path gets the generic 404.
        self.upstream = FakeUpstream({("POST", self.path): self._serve}, name=self.name)
        self.key = key
        self.region_id, self.commodity_code = REGIONS[region]
        self.shape = "datav2"
        self._instances: list[Any] = [instance()]

    def set_instances(self, instances: list[Any]) -> None:
        """Serve these raw `codingPlanInstanceInfos` entries (see `instance()`)."""
        with self._lock:
            self._instances = copy.deepcopy(instances)

    def set_shape(self, shape: str) -> None:
        """Choose the envelope: "datav2" (the real one), "success_body" or "flat"."""
        if shape not in SHAPES:
            raise ValueError(f"unknown shape {shape!r}; expected one of {SHAPES}")
        with self._lock:
            self.shape = shape

    def _healthy(self, request: Request) -> Reply:
        problem = self._bad_request(request)
        if problem:
            return Reply(json={"code": "InvalidParameter", "message": problem})
        with self._lock:
            infos, shape = copy.deepcopy(self._instances), self.shape
        if shape == "no_status":
            infos = no_status_instances()
        inner = {"codingPlanInstanceInfos": infos}
        if shape == "success_body":
            body = json.dumps({"data": inner, "success": True})
            return Reply(json={"code": "200", "successResponse": {"body": body}})
        if shape == "flat":
            return Reply(json={"code": "200", "data": {"result": inner}})
        return Reply(json={"code": "200", "data": {"DataV2": {"data": {"data": inner}}}})

    def _bad_request(self, request: Request) -> str | None:
        expected = {
            "action": ACTION,
            "product": "broadscope-bailian",
            "api": "queryCodingPlanInstanceInfoV2",
            "currentRegionId": self.region_id,
        }
        for name, value in expected.items():
            if request.query.get(name) != value:
                return f"Query parameter {name} is missing or invalid."
        try:
            body = request.json()
            code = body["queryCodingPlanInstanceInfoRequest"]["commodityCode"]
        except (ValueError, KeyError, TypeError):
            return "The request body is missing queryCodingPlanInstanceInfoRequest."
        if code != self.commodity_code:
            return "The specified commodityCode is invalid."
        return None

    def _authorized(self, request: Request) -> bool:
        headers = request.headers
        return (
            headers.get("authorization") == f"Bearer {self.key}"
            and headers.get("x-api-key") == self.key
            and headers.get("x-dashscope-api-key") == self.key
        )

    def _unauthorized(self, request: Request) -> Reply:
        return Reply(
            json={
                "code": "InvalidApiKey",
                "message": "Invalid API-key provided.",
                "successResponse": False,
            }
        )

    def _extra_failure(self, mode: str) -> Reply | None:
        if mode in CODE_REPLIES:
            return Reply(json=dict(CODE_REPLIES[mode]))
        return None


def alibaba_upstream(key: str = "sk-sp-alibaba-test-0000", **kwargs: Any) -> AlibabaFake:
    """Build and start an AlibabaFake (keywords as in AlibabaFake); the caller stops it."""
    return AlibabaFake(key, **kwargs).start()
