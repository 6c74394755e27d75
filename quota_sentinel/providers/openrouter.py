"""OpenRouter API-key spend limit from /api/v1/key (docs/providers.md, OpenRouter).

One window, named by the key's `limit_reset`: `daily`, `weekly`, `monthly`, or `credit` for a
limit that never resets; `utilization = (limit - limit_remaining) / limit * 100`. OpenRouter
gives no reset time, so it is computed from the period (UTC): next midnight, next Monday, or
the 1st of next month. A key without a limit is unlimited: no window, plan "unlimited".
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from quota_sentinel.providers.base import (
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
    http_status,
    no_known_fields,
    to_float,
    unreadable,
)

log = logging.getLogger(__name__)

NAME = "openrouter"
KEY_PATH = "/api/v1/key"
LEGACY_KEY_PATH = "/api/v1/auth/key"

# limit_reset → the usage field that counts spend over the same period.
_PERIOD_USAGE = {
    "daily": "usage_daily",
    "weekly": "usage_weekly",
    "monthly": "usage_monthly",
    None: "usage",
}
_METADATA_FIELDS = (
    "limit",
    "limit_remaining",
    "usage",
    "usage_daily",
    "usage_weekly",
    "usage_monthly",
)


def fetch(
    credentials: Mapping[str, Any],
    options: Mapping[str, Any],
    http: HttpFactory,
    state: Mapping[str, Any],
    now: float,
) -> UsageResult:
    """Poll the OpenRouter key endpoint once (`/api/v1/key`, or `/api/v1/auth/key` on 404).

    Args:
        credentials: `{"key": "<OpenRouter API key, sk-or-v1-…>"}`.
        options: unused (one host, base key `openrouter`).
        http: factory `http(base_key) -> HttpClient` (see providers.http.ClientFactory).
        state: unused.
        now: current time, epoch seconds: the reset is computed from it.

    Returns:
        The window of the module docstring (percent of the limit spent, 0–100; metadata in
        USD), or no window and plan "unlimited" for a key without a limit.

    Raises:
        AuthFailed: no key stored, or HTTP 401/403.
        BadPayload: the answer has no `data` object with a readable limit.
        ProviderError: other HTTP trouble (mapped by providers.http).
    """
    key = api_key_from(credentials, "OpenRouter")
    client = http("openrouter")
    headers = {"Authorization": f"Bearer {key}", "Accept": "application/json"}
    try:
        body = client.get_json(KEY_PATH, headers=headers)
    except ProviderError as exc:
        if http_status(exc) != 404:
            raise
        log.debug("openrouter: %s answered 404; trying %s", KEY_PATH, LEGACY_KEY_PATH)
        body = client.get_json(LEGACY_KEY_PATH, headers=headers)
    return parse_key(body, now)


def parse_key(body: Any, now: float) -> UsageResult:
    """Turn a /api/v1/key answer into the spend-limit window.

    Args:
        body: the decoded JSON answer (`{"data": {...}}`).
        now: current time, epoch seconds.

    Returns:
        The UsageResult (see `fetch`).

    Raises:
        BadPayload: no `data` object, or a limit that is neither null nor a number.
    """
    data = body.get("data") if isinstance(body, Mapping) else None
    if not isinstance(data, Mapping) or "limit" not in data:
        raise no_known_fields("OpenRouter", "/api/v1/key", ("data.limit",))
    if data.get("limit") is None:
        # An unlimited key spends without a cap: nothing to run out of, so no window.
        return UsageResult(windows={}, plan="unlimited")
    limit = to_float(data.get("limit"))
    if limit is None:
        raise unreadable("OpenRouter", "data.limit", data.get("limit"), "a number or null")
    period = _period(data.get("limit_reset"))
    spent = _spent(data, limit, period)
    # A limit of 0 lets the key spend nothing: it is used up.
    utilization = 100.0 if limit <= 0 else clamp_pct(spent / limit * 100)
    free = data.get("is_free_tier") is True
    window = WindowUsage(
        utilization=utilization,
        resets_at=next_reset(period, now),
        metadata=_metadata(data, free),
    )
    return UsageResult(windows={period or "credit": window}, plan="free" if free else None)


def _metadata(data: Mapping[str, Any], free: bool) -> dict[str, Any]:
    metadata: dict[str, Any] = {"currency": "USD", "is_free_tier": free}
    for field in _METADATA_FIELDS:
        value = to_float(data.get(field))
        if value is not None:
            metadata[field] = value
    expires_at = epoch_s(data.get("expires_at"))
    if expires_at is not None:
        metadata["expires_at"] = expires_at
    return metadata


def _period(value: Any) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    return re.sub(r"[^a-z0-9]+", "_", value.strip().lower()).strip("_") or None


def _spent(data: Mapping[str, Any], limit: float, period: str | None) -> float:
    raw = data.get("limit_remaining")
    remaining = to_float(raw)
    if remaining is not None:
        return limit - remaining
    if raw is not None:
        raise unreadable("OpenRouter", "data.limit_remaining", raw)
    # Without limit_remaining, the usage over the same period is the spend against the limit.
    usage = to_float(data.get(_PERIOD_USAGE.get(period, "usage")))
    if usage is None:
        raise BadPayload(
            "OpenRouter answered with a key limit but neither limit_remaining nor the usage "
            "of its period; the API may have changed."
        )
    return usage


def next_reset(period: str | None, now: float) -> float | None:
    """When a `limit_reset` period next starts over, in UTC.

    Args:
        period: "daily", "weekly" (weeks start on Monday), "monthly", or anything else.
        now: current time, epoch seconds.

    Returns:
        Epoch seconds of the next midnight / Monday 00:00 / 1st of the month 00:00 UTC
        strictly after `now`; None for a limit that never resets or an unknown period.
    """
    moment = datetime.fromtimestamp(now, UTC)
    midnight = datetime(moment.year, moment.month, moment.day, tzinfo=UTC)
    if period == "daily":
        return (midnight + timedelta(days=1)).timestamp()
    if period == "weekly":
        return (midnight + timedelta(days=7 - moment.weekday())).timestamp()
    if period == "monthly":
        year, month = (
            (moment.year + 1, 1) if moment.month == 12 else (moment.year, moment.month + 1)
        )
        return datetime(year, month, 1, tzinfo=UTC).timestamp()
    return None
