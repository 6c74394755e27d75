"""Alibaba Cloud Model Studio (Bailian) Coding Plan quota from the console RPC.

See docs/providers.md (Alibaba). Windows: `5h`, `weekly`, `monthly` (request counts: used /
total), from the first `VALID` instance of `codingPlanInstanceInfos`; when no instance carries a
`status` at all, from the first one that carries quota counters. An active plan whose answer
carries no counters gives no window at all (plan only), never an invented 0 %; a counter that is
not a number is an error naming it.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from quota_sentinel.providers.base import (
    AuthFailed,
    BadPayload,
    ProviderError,
    UsageResult,
    WindowUsage,
)
from quota_sentinel.providers.http import HttpFactory
from quota_sentinel.providers.parsing import (
    api_key_from,
    clamp_pct,
    epoch_s,
    first_text,
    no_known_fields,
    number_at,
    safe_message,
)

log = logging.getLogger(__name__)

NAME = "alibaba"
QUOTA_PATH = "/data/api.json"
API = "queryCodingPlanInstanceInfoV2"
ACTION = f"zeldaEasy.broadscope-bailian.codingPlan.{API}"
PRODUCT = "broadscope-bailian"


@dataclass(frozen=True)
class Region:
    """One Alibaba console: which base URL, region id and commodity code it takes."""

    base_key: str
    region_id: str
    commodity_code: str


INTL = Region("alibaba", "ap-southeast-1", "sfm_codingplan_public_intl")
CN = Region("alibaba_cn", "cn-beijing", "sfm_codingplan_public_cn")

# Where the real gateway puts the instances (depth 6, which the original's search missed).
_INFOS_PATH = ("data", "DataV2", "data", "data", "codingPlanInstanceInfos")
_INFOS_KEYS = ("codingPlanInstanceInfos", "coding_plan_instance_infos")
_MAX_SEARCH_DEPTH = 10
_OK_CODES = {"200", "0", ""}
_AUTH_WORDS = re.compile(r"api[ _-]?key|unauthori[sz]ed|invalid[ _-]?token", re.IGNORECASE)
_WINDOWS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("5h", ("per5Hour", "perFiveHour")),
    ("weekly", ("perWeek",)),
    ("monthly", ("perBillMonth", "perMonth")),
)

CONSOLE_LOGIN_MESSAGE = (
    "Alibaba Cloud answered ConsoleNeedLogin, so this Alibaba account needs a console login: the "
    "Coding Plan quota API does not accept an API key for it; check the quota in the Model "
    "Studio console instead, or, if the plan was bought on the China site (aliyun.com), set "
    'provider_config.alibaba.region to "cn" and register again.'
)


def fetch(
    credentials: Mapping[str, Any],
    options: Mapping[str, Any],
    http: HttpFactory,
    state: Mapping[str, Any],
    now: float,
) -> UsageResult:
    """Poll the Coding Plan instance info once (a POST; not retried after sending).

    Args:
        credentials: `{"key": "<Coding Plan / DashScope API key>"}`.
        options: `region: "cn"` selects the China console (base key `alibaba_cn`, region
            cn-beijing); anything else the international one (`alibaba`, ap-southeast-1).
        http: factory `http(base_key) -> HttpClient` (see providers.http.ClientFactory).
        state: unused.
        now: current time, epoch seconds (unused: resets come from the payload).

    Returns:
        The windows of the module docstring (percent used 0–100, resets_at epoch seconds UTC)
        and the instance type (`lite`, `pro`, …) as plan; no windows when the VALID
        instance reports no counters.

    Raises:
        AuthFailed: no key, HTTP 401/403, `ConsoleNeedLogin`, or a code/message about the key.
        ProviderError: another error code, or no VALID instance (no or an expired plan).
        BadPayload: no `codingPlanInstanceInfos` anywhere in the answer.
    """
    key = api_key_from(credentials, "Alibaba Cloud")
    region = CN if str(options.get("region", "")).strip().lower() == "cn" else INTL
    body = http(region.base_key).post_json(
        QUOTA_PATH,
        params={
            "action": ACTION,
            "product": PRODUCT,
            "api": API,
            "currentRegionId": region.region_id,
        },
        json={"queryCodingPlanInstanceInfoRequest": {"commodityCode": region.commodity_code}},
        headers={
            "Authorization": f"Bearer {key}",
            "x-api-key": key,
            "X-DashScope-API-Key": key,
            "Content-Type": "application/json",
            "Accept": "application/json",
        },
    )
    return parse_instances(body, key=key)


def parse_instances(body: Any, *, key: str | None = None) -> UsageResult:
    """Turn a queryCodingPlanInstanceInfoV2 answer into windows.

    Args:
        body: the decoded JSON answer.
        key: the API key, redacted from any provider message that is passed on.

    Returns:
        The UsageResult (see `fetch`).

    Raises:
        AuthFailed / ProviderError / BadPayload: see `fetch`.
    """
    if not isinstance(body, Mapping):
        raise BadPayload(
            "Alibaba Cloud answered with JSON that is not an object; the API may have changed."
        )
    _check_code(body, key)
    infos = _instance_infos(body)
    if infos is None:
        raise no_known_fields(
            "Alibaba Cloud", "queryCodingPlanInstanceInfoV2", ("codingPlanInstanceInfos",)
        )
    instances = [info for info in infos if isinstance(info, Mapping)]
    instance = next((i for i in instances if _status(i) == "VALID"), None)
    if instance is None and not any(_status(i) for i in instances):
        # Some answers list the instances without any status: the one with counters is the plan.
        instance = next((i for i in instances if _has_counters(i)), None)
    if instance is None:
        seen = sorted({_status(i) or "unknown" for i in instances})
        which = f" (instance status: {', '.join(seen)})" if seen else ""
        raise ProviderError(
            f"Alibaba Cloud reports no active Coding Plan for this account{which}; renew or buy "
            "the plan, or check the region setting."
        )
    quota, where = _quota(instance)
    windows: dict[str, WindowUsage] = {}
    for name, prefixes in _WINDOWS:
        window = _window(quota, prefixes, where)
        if window is not None:
            windows[name] = window
    if not windows:
        log.debug("alibaba: the VALID instance has no quota counters; reporting the plan only")
    plan = first_text(instance, ("instanceType", "planName", "instanceName", "packageName"))
    return UsageResult(windows=windows, plan=plan)


def _check_code(body: Mapping[str, Any], key: str | None) -> None:
    # The gateway answers HTTP 200 with a string `code` ("200" on success) and a message.
    code = body.get("code", body.get("statusCode"))
    text = "" if code is None else str(code).strip()
    if text in _OK_CODES:
        return
    if "needlogin" in text.lower():
        raise AuthFailed(CONSOLE_LOGIN_MESSAGE)
    message = safe_message(body.get("message") or body.get("msg"), [key])
    detail = f"code {safe_message(text, [key])}" + (f": {message}" if message else "")
    if text in ("401", "403") or _AUTH_WORDS.search(f"{text} {message}"):
        raise AuthFailed(
            f"Alibaba Cloud rejected the API key ({detail}); check that it is the Coding Plan "
            "key of this account and region, or replace it."
        )
    raise ProviderError(f"Alibaba Cloud reported an error ({detail}).")


def _instance_infos(body: Mapping[str, Any]) -> list[Any] | None:
    node: Any = body
    for step in _INFOS_PATH:
        node = node.get(step) if isinstance(node, Mapping) else None
    if isinstance(node, list):
        return node
    # Other envelopes (e.g. successResponse.body holding the answer as a JSON string).
    return _search(body, _MAX_SEARCH_DEPTH)


def _search(node: Any, depth: int) -> list[Any] | None:
    if depth < 0:
        return None
    if isinstance(node, str):
        node = _json_text(node)
    if isinstance(node, Mapping):
        for key in _INFOS_KEYS:
            if isinstance(node.get(key), list):
                return node[key]
        children = list(node.values())
    elif isinstance(node, list):
        children = node
    else:
        return None
    for child in children:
        found = _search(child, depth - 1)
        if found is not None:
            return found
    return None


def _json_text(text: str) -> Any:
    stripped = text.strip()
    if not stripped.startswith(("{", "[")):
        return None
    try:
        return json.loads(stripped)
    except ValueError:
        return None


def _status(instance: Mapping[str, Any]) -> str:
    return (first_text(instance, ("status", "instanceStatus")) or "").upper()


def _quota(instance: Mapping[str, Any]) -> tuple[Mapping[str, Any], str]:
    quota = instance.get("codingPlanQuotaInfo")
    if isinstance(quota, Mapping):
        return quota, "codingPlanQuotaInfo"
    return instance, ""  # flattened shapes carry the counters on the instance itself


def _has_counters(instance: Mapping[str, Any]) -> bool:
    quota, _ = _quota(instance)
    return any(str(key).endswith(("TotalQuota", "UsedQuota")) for key in quota)


def _window(quota: Mapping[str, Any], prefixes: tuple[str, ...], where: str) -> WindowUsage | None:
    for prefix in prefixes:
        total = number_at(quota, f"{prefix}TotalQuota", "Alibaba Cloud", where)
        used = number_at(quota, f"{prefix}UsedQuota", "Alibaba Cloud", where)
        if total is None or used is None or total <= 0:
            continue
        return WindowUsage(
            utilization=clamp_pct(used / total * 100),
            # Epoch ms, or ISO text (a naive time is taken as UTC).
            resets_at=epoch_s(quota.get(f"{prefix}QuotaNextRefreshTime")),
            metadata={"used": used, "limit": total},
        )
    return None
