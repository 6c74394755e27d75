"""Kimi Code subscription quota windows from /coding/v1/usages (providers.md §7b).

Windows: `weekly` (the `usage` object: the weekly request quota) and one window per `limits[]`
entry, named by its duration: `5h` for 300 minutes, otherwise `<n>m`, `<n>h` or `<n>d`.
Numbers arrive as strings; `utilization = used / limit * 100`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from quota_sentinel.providers.base import BadPayload, UsageResult, WindowUsage
from quota_sentinel.providers.http import HttpFactory
from quota_sentinel.providers.parsing import (
    api_key_from,
    clamp_pct,
    epoch_s,
    first_float,
    first_text,
    to_float,
    unique_name,
)

log = logging.getLogger(__name__)

NAME = "kimi"
USAGES_PATH = "/coding/v1/usages"

_RESET_AT_KEYS = ("resetTime", "resetAt", "reset_time", "reset_at")
_RESET_IN_KEYS = ("reset_in", "resetIn", "ttl")  # seconds from now
_MINUTES_PER_UNIT = {"SECOND": 1 / 60, "MINUTE": 1, "HOUR": 60, "DAY": 1440}


def fetch(
    credentials: Mapping[str, Any],
    options: Mapping[str, Any],
    http: HttpFactory,
    state: Mapping[str, Any],
    now: float,
) -> UsageResult:
    """Poll the Kimi Code usage endpoint once.

    Args:
        credentials: `{"key": "<Kimi Code API key>"}`.
        options: unused (one host, base key `kimi`).
        http: factory `http(base_key) -> HttpClient` (see providers.http.ClientFactory).
        state: unused.
        now: current time, epoch seconds, for resets given as seconds from now.

    Returns:
        The windows of the module docstring, utilization in percent used (0–100), resets_at
        in epoch seconds UTC.

    Raises:
        AuthFailed: no key stored, or HTTP 401/403.
        BadPayload: no window could be read.
        ProviderError: other HTTP trouble (mapped by providers.http).
    """
    key = api_key_from(credentials, "Kimi")
    body = http("kimi").get_json(
        USAGES_PATH, headers={"Authorization": f"Bearer {key}", "Accept": "application/json"}
    )
    return parse_usages(body, now)


def parse_usages(body: Any, now: float) -> UsageResult:
    """Turn a /coding/v1/usages answer into windows.

    Args:
        body: the decoded JSON answer (optionally wrapped in `data`).
        now: current time, epoch seconds.

    Returns:
        The UsageResult (see `fetch`).

    Raises:
        BadPayload: neither `usage` nor any `limits[]` entry could be read.
    """
    if not isinstance(body, Mapping):
        raise BadPayload("Kimi answered with JSON that is not an object; the API may have changed.")
    data = body.get("data") if isinstance(body.get("data"), Mapping) else body
    usage = data.get("usage", body.get("usage"))
    limits = data.get("limits", body.get("limits"))
    windows: dict[str, WindowUsage] = {}
    weekly = _window(usage, now) if isinstance(usage, Mapping) else None
    if weekly is not None:
        windows["weekly"] = weekly
    for index, item in enumerate(limits if isinstance(limits, list) else []):
        if not isinstance(item, Mapping):
            continue
        detail = item.get("detail") if isinstance(item.get("detail"), Mapping) else item
        window = _window(detail, now)
        if window is None:
            log.debug("kimi: skipped limits[%d] without a readable limit and use", index)
            continue
        spec = item.get("window") if isinstance(item.get("window"), Mapping) else item
        windows[unique_name(_duration_name(spec, index), windows)] = window
    if not windows:
        raise BadPayload(
            "Kimi answered without any usage it could read (no usage or limits with a limit "
            "and a use count); the key may not belong to a Kimi Code plan, or the API changed."
        )
    return UsageResult(windows=windows)


def _window(detail: Mapping[str, Any], now: float) -> WindowUsage | None:
    limit = to_float(detail.get("limit"))
    used = to_float(detail.get("used"))
    remaining = to_float(detail.get("remaining"))
    if used is None and limit is not None and remaining is not None:
        used = limit - remaining
    # A zero limit is a placeholder (nothing metered), not "0 % used".
    if limit is None or used is None or limit <= 0:
        return None
    metadata: dict[str, Any] = {"used": used, "limit": limit}
    if remaining is not None:
        metadata["remaining"] = remaining
    return WindowUsage(
        utilization=clamp_pct(used / limit * 100),
        resets_at=_resets_at(detail, now),
        metadata=metadata,
    )


def _resets_at(detail: Mapping[str, Any], now: float) -> float | None:
    for field in _RESET_AT_KEYS:
        # ISO text with up to nanosecond fractions, or an epoch number.
        moment = epoch_s(detail.get(field))
        if moment is not None:
            return moment
    seconds = first_float(detail, _RESET_IN_KEYS)
    return now + seconds if seconds is not None and seconds > 0 else None


def _duration_name(spec: Mapping[str, Any], index: int) -> str:
    duration = to_float(spec.get("duration"))
    unit = (first_text(spec, ("timeUnit", "time_unit")) or "TIME_UNIT_MINUTE").upper()
    per_unit = next((m for name, m in _MINUTES_PER_UNIT.items() if name in unit), None)
    if duration is None or duration <= 0 or per_unit is None:
        return f"limit_{index + 1}"
    minutes = duration * per_unit
    if minutes == 300:
        return "5h"
    if minutes % 1440 == 0:
        return f"{minutes / 1440:g}d"
    if minutes % 60 == 0:
        return f"{minutes / 60:g}h"
    return f"{minutes:g}m"
