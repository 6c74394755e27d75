"""Kimi Code subscription quota windows from /coding/v1/usages (docs/providers.md, Kimi).

Windows: `weekly` (the `usage` object: the weekly request quota) and one window per `limits[]`
entry, named by its duration: `5h` for 300 minutes, otherwise `<n>m`, `<n>h` or `<n>d`. The
current shape carries its pools in a `usages` map (or list) of per-feature entries: each is
named by its length (`weekly`, `monthly`, `daily`, …; `<feature>_<length>` when that name is
taken) and its own `limits[]` are read as above. Numbers arrive as strings;
`utilization = used / limit * 100`.
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
    no_known_fields,
    number_at,
    slug,
    to_float,
    unique_name,
    unreadable,
)

log = logging.getLogger(__name__)

NAME = "kimi"
USAGES_PATH = "/coding/v1/usages"

_RESET_AT_KEYS = ("resetTime", "resetAt", "reset_time", "reset_at")
_RESET_IN_KEYS = ("reset_in", "resetIn", "ttl")  # seconds from now
_MINUTES_PER_UNIT = {
    "SECOND": 1 / 60,
    "MINUTE": 1,
    "HOUR": 60,
    "DAY": 1440,
    "WEEK": 10_080,
    "MONTH": 43_200,
}
_SHAPE_KEYS = ("usage", "limits", "usages")
_PERIOD_NAMES = {"week": "weekly", "weekly": "weekly", "month": "monthly", "monthly": "monthly"}


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
        BadPayload: none of `usage`, `limits`, `usages` is there, or one holds a value that
            cannot be read (the message names the field).
    """
    if not isinstance(body, Mapping):
        raise BadPayload("Kimi answered with JSON that is not an object; the API may have changed.")
    data = body.get("data") if isinstance(body.get("data"), Mapping) else body
    found = {key: data.get(key, body.get(key)) for key in _SHAPE_KEYS}
    if all(value is None for value in found.values()):
        raise no_known_fields("Kimi", USAGES_PATH, _SHAPE_KEYS)
    windows: dict[str, WindowUsage] = {}
    weekly = None if found["usage"] is None else _window(found["usage"], now, "usage")
    if weekly is not None:
        windows["weekly"] = weekly
    _add_limits(windows, found["limits"], now, "limits")
    _add_usages(windows, found["usages"], now)
    if not windows:
        raise BadPayload(
            "Kimi answered without any usage it could read (usage, limits and usages are "
            "empty); the key may not belong to a Kimi Code plan, or the API changed."
        )
    return UsageResult(windows=windows)


def _add_limits(windows: dict[str, WindowUsage], limits: Any, now: float, where: str) -> None:
    if limits is None:
        return
    if not isinstance(limits, list):
        raise unreadable("Kimi", where, limits, "a list")
    for index, item in enumerate(limits):
        at = f"{where}[{index}]"
        if not isinstance(item, Mapping):
            raise unreadable("Kimi", at, item, "an object")
        detail = item.get("detail") if isinstance(item.get("detail"), Mapping) else item
        window = _window(detail, now, f"{at}.detail" if detail is not item else at)
        spec = item.get("window") if isinstance(item.get("window"), Mapping) else item
        if window is not None:
            windows[unique_name(_duration_name(spec, index), windows)] = window


def _add_usages(windows: dict[str, WindowUsage], usages: Any, now: float) -> None:
    # The current shape: a map of per-feature pools (or a list of them with a `scope`), each
    # with limit / used / remaining / reset and optionally its own rolling `limits[]`.
    if usages is None:
        return
    if isinstance(usages, Mapping):
        entries = [(str(key), value, f"usages.{key}") for key, value in usages.items()]
    elif isinstance(usages, list):
        entries = [
            (_scope(value) or str(index), value, f"usages[{index}]")
            for index, value in enumerate(usages)
        ]
    else:
        raise unreadable("Kimi", "usages", usages, "a map of quota pools")
    for feature, entry, where in entries:
        if not isinstance(entry, Mapping):
            raise unreadable("Kimi", where, entry, "an object")
        detail = entry.get("detail") if isinstance(entry.get("detail"), Mapping) else entry
        window = _window(detail, now, f"{where}.detail" if detail is not entry else where)
        length = _pool_length(entry, detail, feature)
        if length is None:
            # No length given: the first pool is the weekly request quota, others keep
            # their feature's name.
            length = "weekly" if "weekly" not in windows else slug(feature) or "pool"
        name = length if length not in windows else f"{slug(feature) or 'pool'}_{length}"
        if window is not None:
            windows[unique_name(name, windows)] = window
        _add_limits(windows, entry.get("limits"), now, f"{where}.limits")


def _scope(entry: Any) -> str | None:
    return first_text(entry, ("scope", "feature", "name")) if isinstance(entry, Mapping) else None


def _pool_length(entry: Mapping[str, Any], detail: Mapping[str, Any], feature: str) -> str | None:
    # A pool is named by its length: the weekly one stays `weekly`, a monthly pool beside it
    # becomes `monthly`, never dropped.
    for source in (entry, detail):
        spec = source.get("window") if isinstance(source.get("window"), Mapping) else source
        minutes = _minutes(spec)
        if minutes is not None:
            return _pool_name(minutes)
        period = first_text(source, ("period", "cycle", "resetPeriod", "reset_period"))
        if period:
            return _PERIOD_NAMES.get(slug(period), slug(period) or "pool")
    words = slug(feature).split("_")
    return next((name for word, name in _PERIOD_NAMES.items() if word in words), None)


def _pool_name(minutes: float) -> str:
    if minutes == 10_080:
        return "weekly"
    if 28 * 1440 <= minutes <= 31 * 1440:
        return "monthly"
    if minutes == 1440:
        return "daily"
    return _length_name(minutes)


def _window(detail: Any, now: float, where: str) -> WindowUsage | None:
    if not isinstance(detail, Mapping):
        raise unreadable("Kimi", where, detail, "an object")
    limit = number_at(detail, "limit", "Kimi", where)
    used = number_at(detail, "used", "Kimi", where)
    remaining = number_at(detail, "remaining", "Kimi", where)
    if used is None and limit is not None and remaining is not None:
        used = limit - remaining
    if limit is None or used is None:
        missing = "limit" if limit is None else "used or remaining"
        raise BadPayload(
            f"Kimi answered {where} without {missing}; the API may have changed "
            "(`quota-sentinel probe --raw` shows the answer)."
        )
    metadata: dict[str, Any] = {"used": used, "limit": limit}
    if remaining is not None:
        metadata["remaining"] = remaining
    if limit <= 0:
        return None  # a zero limit is a placeholder (nothing metered), not "0 % used"
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


def _minutes(spec: Mapping[str, Any]) -> float | None:
    duration = to_float(spec.get("duration"))
    unit = (first_text(spec, ("timeUnit", "time_unit")) or "TIME_UNIT_MINUTE").upper()
    per_unit = next((m for name, m in _MINUTES_PER_UNIT.items() if name in unit), None)
    if duration is None or duration <= 0 or per_unit is None:
        return None
    return duration * per_unit


def _duration_name(spec: Mapping[str, Any], index: int) -> str:
    minutes = _minutes(spec)
    return f"limit_{index + 1}" if minutes is None else _length_name(minutes)


def _length_name(minutes: float) -> str:
    if minutes == 300:
        return "5h"
    if minutes % 1440 == 0:
        return f"{minutes / 1440:g}d"
    if minutes % 60 == 0:
        return f"{minutes / 60:g}h"
    return f"{minutes:g}m"
