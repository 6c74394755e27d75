"""GitHub Copilot premium-request quota from copilot_internal/user, billing report as fallback.

Windows (docs/providers.md, Copilot): `monthly` (premium requests) from
`quota_snapshots.premium_interactions`, or from the premium-request billing report when
`copilot_internal/user` answers 404 or has no metered premium bucket and `github_username` and
`plan` are configured; `chat` and `completions` only when metered (free plans). Only
`unlimited: true` (or the -1 entitlement sentinel) means unlimited, and the zero placeholders of
org seats are not "0 % used": both produce no window, only the plan. A negative remainder is
overage and reads above 100 % (remaining -75 of 300 is 125 %).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from quota_sentinel.providers.base import (
    AuthFailed,
    BadPayload,
    ProviderError,
    UsageResult,
    WindowUsage,
)
from quota_sentinel.providers.http import HttpFactory
from quota_sentinel.providers.parsing import (
    clamp_pct,
    epoch_s,
    first_float,
    first_text,
    http_status,
    next_month_start_s,
    no_known_fields,
    number_at,
    to_float,
    unreadable,
)

log = logging.getLogger(__name__)

NAME = "copilot"
USER_PATH = "/copilot_internal/user"
BILLING_PATH = "/users/{username}/settings/billing/premium_request/usage"

# copilot_internal/user is only answered for the headers of the VS Code Copilot Chat client.
EDITOR_HEADERS = {
    "Accept": "application/json",
    "Editor-Version": "vscode/1.96.2",
    "Editor-Plugin-Version": "copilot-chat/0.26.7",
    "User-Agent": "GitHubCopilotChat/0.26.7",
    "X-Github-Api-Version": "2025-04-01",
}
BILLING_API_VERSION = "2026-03-10"

# Monthly premium requests per plan (the billing report gives usage only, no allowance).
PLAN_ALLOWANCES = {
    "free": 50,
    "pro": 300,
    "pro_plus": 1500,
    "pro+": 1500,
    "business": 300,
    "enterprise": 1000,
}
_BUCKETS = (("premium_interactions", "monthly"), ("chat", "chat"), ("completions", "completions"))
_RESET_KEYS = ("quota_reset_date_utc", "quota_reset_date", "limited_user_reset_date")
_SHAPE_KEYS = ("quota_snapshots", "monthly_quotas", "limited_user_quotas", "copilot_plan")
_FRESH_TOKEN = "send a fresh GitHub token (`gh auth token`, or sign in to Copilot again)."


def fetch(
    credentials: Mapping[str, Any],
    options: Mapping[str, Any],
    http: HttpFactory,
    state: Mapping[str, Any],
    now: float,
) -> UsageResult:
    """Poll GitHub for the Copilot quota once.

    Args:
        credentials: `{"token": "<GitHub OAuth token>"}` (gho_/ghu_/PAT, not a Copilot API token).
        options: `github_username` and `plan` (free, pro, pro_plus / pro+, business,
            enterprise, or a number of premium requests per month) enable the billing fallback.
        http: factory `http(base_key) -> HttpClient`; both endpoints use base key "copilot".
        state: unused.
        now: current time, epoch seconds (the billing report's year and month, in UTC).

    Returns:
        The windows named in the module docstring (utilization in percent used, 0–100;
        resets_at epoch seconds UTC) and the plan.

    Raises:
        AuthFailed: no token, or GitHub refused it (401/403).
        ProviderError: 404 without a configured fallback, or other upstream trouble.
        BadPayload: the answer is not a Copilot user object.
    """
    token = _token(credentials)
    username = first_text(options, ("github_username",))
    allowance = plan_allowance(options.get("plan"))
    fallback = username is not None and allowance is not None
    try:
        body = http("copilot").get_json(
            USER_PATH, headers={**EDITOR_HEADERS, "Authorization": f"token {token}"}
        )
    except AuthFailed as exc:
        raise AuthFailed(_refused_sentence(http_status(exc))) from None
    except ProviderError as exc:
        if http_status(exc) != 404:
            raise
        if not fallback:
            raise ProviderError(
                "GitHub answered 404 for copilot_internal/user (no Copilot seat for this token "
                "on this host); set provider_config.copilot.github_username and plan to read "
                "the premium-request billing report instead."
            ) from None
        result = UsageResult(windows={})
    else:
        result = parse_user(body)
    if "monthly" in result.windows or username is None or allowance is None:
        return result
    monthly = _billing_window(http, token, username, allowance, options.get("plan"), now)
    return UsageResult(windows={**result.windows, "monthly": monthly}, plan=result.plan)


def plan_allowance(plan: Any) -> float | None:
    """Monthly premium requests of a plan name or number.

    Args:
        plan: "free", "pro", "pro_plus" / "pro+", "business", "enterprise", or a positive
            number (int or numeric string) of requests.

    Returns:
        The allowance in requests per month, or None when `plan` is unknown or missing.
    """
    if isinstance(plan, str) and plan.strip().lower() in PLAN_ALLOWANCES:
        return float(PLAN_ALLOWANCES[plan.strip().lower()])
    number = to_float(plan)
    return number if number is not None and number > 0 else None


def parse_user(body: Any) -> UsageResult:
    """Turn a copilot_internal/user answer into windows.

    Args:
        body: the decoded JSON answer (current `quota_snapshots` or legacy free shape).

    Returns:
        The UsageResult: metered windows only, plus the plan label.

    Raises:
        BadPayload: the answer has none of the Copilot quota fields.
    """
    if not isinstance(body, Mapping) or not any(key in body for key in _SHAPE_KEYS):
        raise no_known_fields("GitHub", "copilot_internal/user", _SHAPE_KEYS)
    plan = first_text(body, ("copilot_plan", "access_type_sku"))
    reset = next((t for t in (epoch_s(body.get(k)) for k in _RESET_KEYS) if t), None)
    windows: dict[str, WindowUsage] = {}
    snapshots = body.get("quota_snapshots")
    if isinstance(snapshots, Mapping):
        for bucket, name in _BUCKETS:
            window = _snapshot_window(
                snapshots.get(bucket),
                reset,
                plan if name == "monthly" else None,
                f"quota_snapshots.{bucket}",
            )
            if window is not None:
                windows[name] = window
    else:
        # Legacy free shape: monthly_quotas is the allowance, limited_user_quotas what remains.
        allowances, remaining = body.get("monthly_quotas"), body.get("limited_user_quotas")
        for name in ("chat", "completions"):
            window = _legacy_window(allowances, remaining, name, reset)
            if window is not None:
                windows[name] = window
    return UsageResult(windows=windows, plan=plan)


def _token(credentials: Mapping[str, Any]) -> str:
    token = first_text(credentials, ("token",))
    if token is None:
        raise AuthFailed(f"No GitHub token is stored for this Copilot account; {_FRESH_TOKEN}")
    # Some tools store the header value; never send "token token …".
    for prefix in ("token ", "bearer "):
        if token[: len(prefix)].lower() == prefix:
            token = token[len(prefix) :].strip()
    return token


def _refused_sentence(status: int | None) -> str:
    if status == 403:
        return (
            "GitHub refused Copilot usage for this token (HTTP 403): the account has no Copilot "
            "access, or the token is a short-lived Copilot API token rather than a GitHub OAuth "
            f"token (gho_/ghu_); {_FRESH_TOKEN}"
        )
    return f"GitHub rejected the token (HTTP 401): it expired or was revoked; {_FRESH_TOKEN}"


def _snapshot_window(
    bucket: Any, reset: float | None, plan: str | None, where: str
) -> WindowUsage | None:
    if bucket is None:
        return None
    if not isinstance(bucket, Mapping):
        raise unreadable("GitHub", where, bucket, "an object")
    if bucket.get("unlimited") is True:
        return None
    entitlement = number_at(bucket, "entitlement", "GitHub", where)
    percent_remaining = number_at(bucket, "percent_remaining", "GitHub", where)
    remaining = number_at(bucket, "remaining", "GitHub", where)
    if remaining is None:
        remaining = number_at(bucket, "quota_remaining", "GitHub", where)
    # -1 is the unlimited sentinel; entitlement 0 (with remaining 0) is an org-seat placeholder.
    if entitlement is not None and entitlement <= 0:
        return None
    if percent_remaining is not None:
        utilization = 100 - percent_remaining
    elif entitlement is not None and remaining is not None:
        # A negative remainder is overage: remaining -75 of 300 is 125 % used.
        utilization = (entitlement - remaining) / entitlement * 100
    else:
        raise BadPayload(
            f"GitHub answered {where} without percent_remaining, or entitlement and "
            "remaining; the API may have changed (`quota-sentinel probe --raw` shows the answer)."
        )
    metadata: dict[str, Any] = {"entitlement": entitlement, "remaining": remaining}
    overage = to_float(bucket.get("overage_count"))
    if overage is not None:
        metadata["overage_count"] = overage
    if remaining is not None and remaining < 0:
        metadata["overage"] = -remaining
    if plan:
        metadata["plan"] = plan
    # Not clamped at 100: overage is reported as such (the engine reads anything >= cap as RED).
    return WindowUsage(max(0.0, utilization) + 0.0, reset, metadata)


def _legacy_window(
    allowances: Any, remaining: Any, name: str, reset: float | None
) -> WindowUsage | None:
    total = first_float(allowances, (name,))
    left = first_float(remaining, (name,))
    if total is None or total <= 0 or left is None or left < 0:
        return None
    metadata = {"entitlement": total, "remaining": left}
    return WindowUsage(clamp_pct((total - left) / total * 100), reset, metadata)


def _billing_window(
    http: HttpFactory, token: str, username: str, allowance: float, plan: Any, now: float
) -> WindowUsage:
    moment = datetime.fromtimestamp(now, UTC)
    try:
        body = http("copilot").get_json(
            # Quoted: the login comes from the registration and must stay one path segment.
            BILLING_PATH.format(username=quote(username, safe="")),
            headers={
                "Accept": "application/vnd.github+json",
                "Authorization": f"Bearer {token}",
                "X-GitHub-Api-Version": BILLING_API_VERSION,
            },
            params={"year": moment.year, "month": moment.month},
        )
    except AuthFailed as exc:
        raise AuthFailed(
            f"GitHub refused the premium-request billing report (HTTP {http_status(exc)}): the "
            'token needs the "Plan: read" user permission (or a classic token) and '
            "github_username must be the token's own login."
        ) from None
    except ProviderError as exc:
        if http_status(exc) != 404:
            raise
        raise ProviderError(
            f"GitHub has no premium-request billing report for {username} (HTTP 404); check "
            "github_username, or remove it if Copilot is billed to an organization."
        ) from None
    items = body.get("usageItems", body.get("usage_items")) if isinstance(body, Mapping) else None
    if not isinstance(items, list):
        raise BadPayload(
            "GitHub's billing report has no usageItems list; the API may have changed."
        )
    used = sum(first_float(item, ("grossQuantity", "gross_quantity")) or 0.0 for item in items)
    metadata = {"used": used, "entitlement": allowance, "source": "billing_report"}
    if isinstance(plan, str) and plan.strip():
        metadata["plan"] = plan.strip()
    return WindowUsage(clamp_pct(used / allowance * 100), next_month_start_s(now), metadata)
