"""OpenAI Codex / ChatGPT subscription windows from /backend-api/wham/usage (docs/providers.md).

Windows are named by their length, not by their slot (Codex sometimes moves the weekly window
into the primary slot): `5h`, `daily`, `weekly`, `monthly` (28–31 days, Business/Team), else
`<n>d`, `<n>h` or `<n>s`. A window with `limit_window_seconds: 0` is a placeholder and gives no
window. Each `additional_rate_limits[]` entry (a model with its own cap) gives
`<metered_feature>_<length>`, e.g. `gpt_5_3_codex_spark_5h`. `spend_limit` comes from
`spend_control.individual_limit` (Business spend control), from `remaining_percent` or
`used_percent`, and is at least 100 % once `reached` is true.
`code_review_rate_limit` is not read: code review is not a coding quota.

Credentials are handled as for Claude (docs/providers.md, Codex): the refresh token rotates and
is shared with the user's Codex CLI / OpenCode, so by default the access token is used until it
expires (`expires_at_ms`, else the token's JWT `exp`) and `credentials_expired` is reported
after that.
With `options["refresh"] == "server"` it refreshes within 5 minutes of expiry or once after a
401/403, returning the rotated tokens as Claude does; the worker's `lock:poll:{fp}` serializes it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from quota_sentinel.providers.base import (
    AuthFailed,
    BadPayload,
    CredentialsExpired,
    ProviderError,
    UsageResult,
    WindowUsage,
)
from quota_sentinel.providers.http import HttpFactory
from quota_sentinel.providers.oauth import OAuthFlow, poll_with_refresh
from quota_sentinel.providers.parsing import (
    clamp_pct,
    epoch_s,
    first_text,
    http_status,
    jwt_claims,
    no_known_fields,
    number_at,
    slug,
    to_float,
    unreadable,
    utc_text,
)

log = logging.getLogger(__name__)

NAME = "codex"
USAGE_PATH = "/backend-api/wham/usage"
TOKEN_PATH = "/oauth/token"
CLIENT_ID = "app_EMoamEEZ73f0CkXaXp7hrann"  # the Codex CLI's public OAuth client
SCOPE = "openid profile email"
_AUTH_CLAIM = "https://api.openai.com/auth"
_SLOTS = (("primary_window", "5h"), ("secondary_window", "weekly"))
_SEND_FRESH = (
    "keep Codex (or OpenCode) signed in so the switcher/agent heartbeat sends a fresh token, "
    'or opt in to server-side refresh with provider_config.codex.refresh = "server" for a '
    "credential dedicated to the monitor."
)
_RELOGIN = "run `codex login` again and send fresh credentials."


def fetch(
    credentials: Mapping[str, Any],
    options: Mapping[str, Any],
    http: HttpFactory,
    state: Mapping[str, Any],
    now: float,
) -> UsageResult:
    """Poll the ChatGPT usage endpoint once (refreshing first only when opted in).

    Args:
        credentials: `{"access_token", "refresh_token", "expires_at_ms", "account_id"}`;
            expiry in epoch milliseconds; any field may be None.
        options: `refresh` ("server" opts in to server-side refresh).
        http: factory `http(base_key) -> HttpClient`; base keys "codex" (usage) and
            "codex_oauth" (token endpoint).
        state: unused.
        now: current time, epoch seconds.

    Returns:
        The windows named in the module docstring (utilization in percent used, 0–100;
        resets_at epoch seconds UTC), the plan, and `credentials` after a refresh.

    Raises:
        CredentialsExpired: the access token expired and refreshing is not opted in (no
            request is made), or there is nothing to refresh with.
        AuthFailed: the token or the refresh token was rejected.
        ProviderError: any other upstream trouble; after a refresh it carries the new tokens.
    """
    server = str(options.get("refresh", "")).strip().lower() == "server"
    hint = _RELOGIN if server else _SEND_FRESH

    def rejected(exc: AuthFailed) -> AuthFailed:
        return AuthFailed(
            f"ChatGPT rejected the Codex access token (HTTP {http_status(exc)}): it expired or "
            f"was revoked, or the account id does not match; {hint}"
        )

    flow = OAuthFlow(
        server_refresh=server,
        expires_within=_expires_within,
        expired_sentence=_expired_sentence,
        refresh=lambda creds: _refresh(http, creds, now),
        usage=lambda creds: parse_usage(_get_usage(http, creds), now),
        rejected=rejected,
    )
    return poll_with_refresh(flow, credentials, now)


def parse_usage(body: Any, now: float) -> UsageResult:
    """Turn a wham/usage answer into windows.

    Args:
        body: the decoded JSON answer.
        now: current time, epoch seconds (for `reset_after_seconds`).

    Returns:
        The UsageResult with `plan_type` as the plan.

    Raises:
        BadPayload: the answer has neither `rate_limit` nor `spend_control`.
    """
    if not isinstance(body, Mapping) or not ({"rate_limit", "spend_control"} & body.keys()):
        raise no_known_fields("ChatGPT", "wham/usage", ("rate_limit", "spend_control"))
    windows: dict[str, WindowUsage] = {}
    _add_windows(windows, "", body.get("rate_limit"), now, "rate_limit")
    extras = body.get("additional_rate_limits")
    for index, extra in enumerate(extras if isinstance(extras, list) else []):
        if isinstance(extra, Mapping):
            feature = slug(extra.get("metered_feature")) or slug(extra.get("limit_name"))
            if feature:
                where = f"additional_rate_limits[{index}].rate_limit"
                _add_windows(windows, f"{feature}_", extra.get("rate_limit"), now, where)
    spend = body.get("spend_control")
    individual = spend.get("individual_limit") if isinstance(spend, Mapping) else None
    spend_limit = _spend_limit(individual, now)
    if spend_limit is not None:
        windows["spend_limit"] = spend_limit
    return UsageResult(windows=windows, plan=first_text(body, ("plan_type",)))


def _spend_limit(individual: Any, now: float) -> WindowUsage | None:
    where = "spend_control.individual_limit"
    if individual is None:
        return None
    if not isinstance(individual, Mapping):
        raise unreadable("ChatGPT", where, individual, "an object")
    remaining = number_at(individual, "remaining_percent", "ChatGPT", where)
    used = number_at(individual, "used_percent", "ChatGPT", where)
    if remaining is not None:
        utilization = 100 - remaining
    elif used is not None:
        utilization = used
    else:
        raise BadPayload(
            f"ChatGPT answered {where} without remaining_percent or used_percent; the API may "
            "have changed (`quota-sentinel probe --raw` shows the answer)."
        )
    reached = individual.get("reached", individual.get("limit_reached")) is True
    utilization = 100.0 if reached else clamp_pct(utilization)
    return WindowUsage(utilization, _reset(individual, now), {"reached": reached})


def window_name(seconds: float | None, slot_default: str) -> str:
    """Name a window by its length.

    Args:
        seconds: `limit_window_seconds`, or None when the answer left it out.
        slot_default: the name used when the length is unknown ("5h" for the primary slot,
            "weekly" for the secondary one).

    Returns:
        "5h", "daily", "weekly", "monthly" (28–31 days), else "<n>d", "<n>h" or "<n>s".
    """
    if seconds is None or seconds <= 0:
        return slot_default
    whole = int(seconds)
    if whole == 18_000:
        return "5h"
    if whole == 86_400:
        return "daily"
    if whole == 604_800:
        return "weekly"
    if 28 * 86_400 <= whole <= 31 * 86_400:
        return "monthly"
    if whole % 86_400 == 0:
        return f"{whole // 86_400}d"
    return f"{whole // 3600}h" if whole % 3600 == 0 else f"{whole}s"


def _add_windows(
    windows: dict[str, WindowUsage], prefix: str, rate: Any, now: float, where: str
) -> None:
    if rate is None:
        return
    if not isinstance(rate, Mapping):
        raise unreadable("ChatGPT", where, rate, "an object")
    for slot, default in _SLOTS:
        item = rate.get(slot)
        if item is None:
            continue
        if not isinstance(item, Mapping):
            raise unreadable("ChatGPT", f"{where}.{slot}", item, "an object")
        seconds = number_at(item, "limit_window_seconds", "ChatGPT", f"{where}.{slot}")
        if seconds is not None and seconds <= 0:
            continue  # a placeholder slot, not a 5-hour window at 0 %
        used = number_at(item, "used_percent", "ChatGPT", f"{where}.{slot}")
        if used is None:
            continue  # a slot without a figure (null): nothing to read, nothing invented
        name = prefix + window_name(seconds, default)
        candidate, n = name, 2
        while candidate in windows:
            candidate, n = f"{name}_{n}", n + 1
        metadata = {"window_s": seconds} if seconds is not None else {}
        windows[candidate] = WindowUsage(clamp_pct(used), _reset(item, now), metadata)


def _reset(item: Mapping[str, Any], now: float) -> float | None:
    at = epoch_s(item.get("reset_at"))
    if at is not None:
        return at
    after = to_float(item.get("reset_after_seconds"))
    return now + after if after is not None and after >= 0 else None


def _expiry_ms(creds: Mapping[str, Any]) -> float | None:
    expires_ms = to_float(creds.get("expires_at_ms"))
    if expires_ms is None:
        exp = to_float(jwt_claims(creds.get("access_token")).get("exp"))
        expires_ms = exp * 1000 if exp is not None else None
    return expires_ms


def _expires_within(creds: Mapping[str, Any], now: float, margin_s: float) -> bool:
    if not first_text(creds, ("access_token",)):
        return True
    expires_ms = _expiry_ms(creds)
    return expires_ms is not None and expires_ms <= (now + margin_s) * 1000


def _expired_sentence(creds: Mapping[str, Any]) -> str:
    expires_ms = _expiry_ms(creds)
    if not first_text(creds, ("access_token",)) or expires_ms is None:
        return f"No Codex (ChatGPT) access token is stored for this account; {_SEND_FRESH}"
    when = utc_text(expires_ms / 1000)
    return f"The Codex (ChatGPT) access token expired at {when}; {_SEND_FRESH}"


def _account_id(creds: Mapping[str, Any]) -> str | None:
    account = first_text(creds, ("account_id",))
    if account is None:
        claim = jwt_claims(creds.get("access_token")).get(_AUTH_CLAIM)
        account = first_text(claim, ("chatgpt_account_id",))
    return account


def _get_usage(http: HttpFactory, creds: Mapping[str, Any]) -> Any:
    headers = {
        "Authorization": f"Bearer {first_text(creds, ('access_token',))}",
        "Accept": "application/json",
    }
    account = _account_id(creds)
    if account:
        headers["ChatGPT-Account-Id"] = account
    return http("codex").get_json(USAGE_PATH, headers=headers)


def _refresh(http: HttpFactory, creds: Mapping[str, Any], now: float) -> dict[str, Any]:
    token = first_text(creds, ("refresh_token",))
    if token is None:
        raise CredentialsExpired(_expired_sentence(creds))
    payload = {
        "grant_type": "refresh_token",
        "refresh_token": token,
        "client_id": CLIENT_ID,
        "scope": SCOPE,
    }
    try:
        body = http("codex_oauth").post_json(
            TOKEN_PATH, json=payload, headers={"Accept": "application/json"}
        )
    except ProviderError as exc:
        # 400/401 carry refresh_token_expired / _reused / _invalidated: all terminal.
        if http_status(exc) in (400, 401):
            raise AuthFailed(
                "ChatGPT rejected the Codex refresh token (it rotates: Codex or OpenCode may "
                f"have used it since); {_RELOGIN}"
            ) from None
        raise
    access = first_text(body, ("access_token",))
    if access is None:
        raise BadPayload(f"ChatGPT's token endpoint answered without an access token; {_RELOGIN}")
    expires_in = to_float(body.get("expires_in"))
    rotated = {
        **creds,
        "access_token": access,
        "refresh_token": first_text(body, ("refresh_token",)) or token,
        "expires_at_ms": int((now + expires_in) * 1000) if expires_in else None,
    }
    rotated["account_id"] = _account_id(creds) or _account_id({"access_token": access})
    log.info("codex: refreshed the OAuth access token (server-side refresh is opted in)")
    return rotated
