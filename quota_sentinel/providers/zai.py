"""Z.ai / Zhipu GLM Coding Plan quota windows from /api/monitor/usage/quota/limit.

See docs/providers.md (Z.ai). Windows: `5h` and `weekly` (TOKENS_LIMIT or CREDIT_LIMIT rows;
other lengths as `<n>h`, `<n>d`, `<n>w`, `<n>mo`); TIME_LIMIT rows (the MCP / web-search
tool-call quota) as `mcp_` + their real length: `mcp_monthly` (1 month, or no unit given),
`mcp_5h` (5 hours), `mcp_<n><unit>` otherwise. A percentage or count that is not a number is an
error naming the field.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from quota_sentinel.providers.base import (
    AuthFailed,
    BadPayload,
    ProviderError,
    UsageResult,
    WindowUsage,
)
from quota_sentinel.providers.http import HttpClient, HttpFactory
from quota_sentinel.providers.parsing import (
    api_key_from,
    clamp_pct,
    epoch_s,
    no_known_fields,
    number_at,
    safe_message,
    to_float,
    unique_name,
    unreadable,
)

log = logging.getLogger(__name__)

NAME = "zai"
QUOTA_PATH = "/api/monitor/usage/quota/limit"

# Z.ai's envelope codes for a missing or unusable credential.
_AUTH_CODES = {1001, 1002, 1003}
# "token" alone means a credential, but "token limit/quota/usage" is about the plan's tokens.
_AUTH_WORDS = re.compile(
    r"auth|api[ _-]?key|\bkey\b|\btoken\b(?!\W+(?:limit|quota|usage))", re.IGNORECASE
)

# `unit` values of a limit row: 1 = days, 3 = hours, 5 = months, 6 = weeks (not days: the
# original labelled unit 6 "days" and named the weekly window "1days").
_UNIT_SUFFIX = {1: "d", 3: "h", 5: "mo", 6: "w"}
_DURATION_TYPES = {"TOKENS_LIMIT", "CREDIT_LIMIT"}
_PLAN_KEYS = ("level", "planName", "plan", "plan_type", "packageName")


def fetch(
    credentials: Mapping[str, Any],
    options: Mapping[str, Any],
    http: HttpFactory,
    state: Mapping[str, Any],
    now: float,
) -> UsageResult:
    """Poll the Z.ai quota endpoint once.

    Z.ai documents both `Authorization: Bearer <key>` and the raw key as the header value, and
    its own plugins send the raw key. If the form tried first is refused (an auth envelope such
    as code 1001, or HTTP 401/403), the other form is tried once; the one that worked is kept
    in `state` so later polls start with it.

    Args:
        credentials: `{"key": "<API key>"}`; a stored "Bearer " prefix is tolerated.
        options: `{"region": "cn"}` selects the BigModel host (base key `zai_cn`);
            anything else uses `zai`.
        http: factory `http(base_key) -> HttpClient` (see providers.http.ClientFactory).
        state: the previous UsageResult.state: `{"auth_scheme": "bearer" | "raw"}`, or {}.
        now: current time, epoch seconds (unused: resets come from the payload).

    Returns:
        The windows named in the module docstring, utilization in percent used (0–100),
        resets_at in epoch seconds UTC, plan from `data.level` and friends, and
        `state = {"auth_scheme": ...}` only when the header form that worked changed.

    Raises:
        AuthFailed: no key stored, or both header forms refused (HTTP 401/403 or an auth
            error envelope).
        ProviderError: another error envelope (Z.ai's message, key redacted) or HTTP trouble.
        BadPayload: the answer has no recognisable limits.
    """
    key = api_key_from(credentials, "Z.ai")
    base_key = "zai_cn" if str(options.get("region", "")).strip().lower() == "cn" else "zai"
    client = http(base_key)
    preferred = "raw" if state.get("auth_scheme") == "raw" else "bearer"
    other = "bearer" if preferred == "raw" else "raw"
    try:
        return parse_quota(_get(client, key, preferred), key)
    except AuthFailed:
        log.debug("zai: the %s header form was refused; trying the %s form", preferred, other)
    result = parse_quota(_get(client, key, other), key)
    return replace(result, state={"auth_scheme": other})


def _get(client: HttpClient, key: str, scheme: str) -> Any:
    return client.get_json(
        QUOTA_PATH,
        headers={
            "Authorization": f"Bearer {key}" if scheme == "bearer" else key,
            "Accept": "application/json",
            "Accept-Language": "en-US,en",
        },
    )


def parse_quota(body: Any, key: str | None = None) -> UsageResult:
    """Turn a quota/limit answer into windows.

    Args:
        body: the decoded JSON answer.
        key: the API key, redacted from any provider message that is passed on.

    Returns:
        The UsageResult (see `fetch`).

    Raises:
        AuthFailed / ProviderError: the envelope reports failure.
        BadPayload: no limit row could be read.
    """
    if not isinstance(body, Mapping):
        raise BadPayload("Z.ai answered with JSON that is not an object; the API may have changed.")
    _check_envelope(body, key)
    data = body.get("data") if isinstance(body.get("data"), Mapping) else {}
    rows = data.get("limits")
    if not isinstance(rows, list):
        rows = body.get("limits")
    if not isinstance(rows, list):
        raise no_known_fields("Z.ai", "quota/limit", ("data.limits",))
    windows: dict[str, WindowUsage] = {}
    for index, row in enumerate(rows):
        if not isinstance(row, Mapping):
            raise unreadable("Z.ai", f"limits[{index}]", row, "an object")
        name = _window_name(row)
        if name is None:
            log.debug("zai: skipped a limit row of type %r", row.get("type"))
            continue
        windows[unique_name(name, windows)] = _window(row, f"limits[{index}]")
    if not windows:
        raise BadPayload(
            "Z.ai answered without any usage limits it could read; the account may have no "
            "active Coding Plan, or the API changed."
        )
    return UsageResult(windows=windows, plan=_plan(data, body))


def _check_envelope(body: Mapping[str, Any], key: str | None) -> None:
    # Z.ai reports most errors as HTTP 200 with success:false, so the HTTP status says little.
    # A bare {"limits": [...]} without any envelope keys is accepted (OCQ tolerates it).
    success = body.get("success", True)
    code = body.get("code", 200)
    if (success is True or str(success).lower() == "true") and _as_int(code) == 200:
        return
    number = _as_int(code)
    message = safe_message(body.get("msg") or body.get("message"), [key])
    detail = f"code {code}" + (f": {message}" if message else "")
    if number in _AUTH_CODES or _AUTH_WORDS.search(message):
        raise AuthFailed(f"Z.ai rejected the API key ({detail}); check the key or replace it.")
    raise ProviderError(f"Z.ai reported an error ({detail}).")


def _as_int(value: Any) -> int | None:
    number = to_float(value)
    return int(number) if number is not None and number.is_integer() else None


def _window_name(row: Mapping[str, Any]) -> str | None:
    kind = str(row.get("type", "")).upper()
    if kind == "TIME_LIMIT":
        # Named by its real length: a 5-hour tool-call limit is not a monthly one.
        if row.get("unit") is None:
            return "mcp_monthly"
        length = _length_name(row)
        return "mcp_monthly" if length == "1mo" else f"mcp_{length}"
    if kind not in _DURATION_TYPES:
        return None
    return _length_name(row)


def _length_name(row: Mapping[str, Any]) -> str:
    unit = _as_int(row.get("unit"))
    number = to_float(row.get("number"))
    count = f"{number:g}" if number is not None and number > 0 else "1"
    if unit == 3 and count == "5":
        return "5h"
    if unit == 6 and count == "1":
        return "weekly"
    if unit in _UNIT_SUFFIX:
        return f"{count}{_UNIT_SUFFIX[unit]}"
    # An unknown unit still gets a stable, distinct name rather than being dropped.
    return f"{count}u{unit if unit is not None else 'x'}"


def _window(row: Mapping[str, Any], where: str) -> WindowUsage:
    used = number_at(row, "currentValue", "Z.ai", where)
    total = number_at(row, "usage", "Z.ai", where)
    # Counts give a finer figure than the integer `percentage` when both are present.
    if used is not None and total is not None and total > 0:
        utilization = used / total * 100
    else:
        utilization = number_at(row, "percentage", "Z.ai", where)
    if utilization is None:
        raise BadPayload(
            f"Z.ai answered {where} without a percentage or currentValue and usage; the API "
            "may have changed (`quota-sentinel probe --raw` shows the answer)."
        )
    metadata: dict[str, Any] = {"limit_type": str(row.get("type")).upper()}
    for field, label in (("currentValue", "used"), ("usage", "limit"), ("remaining", "remaining")):
        value = to_float(row.get(field))
        if value is not None:
            metadata[label] = value
    return WindowUsage(
        utilization=clamp_pct(utilization),
        resets_at=epoch_s(row.get("nextResetTime")),
        metadata=metadata,
    )


def _plan(data: Mapping[str, Any], body: Mapping[str, Any]) -> str | None:
    for source in (data, body):
        for field in _PLAN_KEYS:
            value = source.get(field)
            if isinstance(value, str) and value.strip():
                return value.strip()
    return None
