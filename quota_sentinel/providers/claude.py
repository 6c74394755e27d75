"""Claude subscription windows from /api/oauth/usage and the opt-in OAuth refresh.

See docs/providers.md (Claude). Windows: `five_hour`, `seven_day`, and every other `seven_day_*`
object that carries a utilization under its own key (`seven_day_sonnet`, `seven_day_opus`,
`seven_day_cowork`, `seven_day_routines`, …), `seven_day_<model>` for each scoped weekly limit
in `limits[]`, and `extra_usage` (pay-as-you-go overage, percent of the monthly limit) when it
is enabled. A utilization that is not a number is an error naming the field.

Credentials (docs/providers.md, Claude): Claude's refresh token rotates, so refreshing a token
that Claude Code also holds would log Claude Code out. By default this module never refreshes: it
uses the access token until `expires_at_ms`, then reports `credentials_expired` without calling
Claude, and the switcher's heartbeat brings a fresh token. With `options["refresh"] == "server"`
(a credential dedicated to the monitor) it refreshes when the token expires within 5 minutes, or
once after a 401, and hands back the rotated tokens in `UsageResult.credentials`, or on the raised
ProviderError when the usage call then fails, since the old refresh token is spent either way.
The worker holds `lock:poll:{fp}` around every poll, so two refreshes of one account never race.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

from quota_sentinel.providers.base import (
    AuthFailed,
    BadPayload,
    CredentialsExpired,
    ProviderError,
    RateLimitedUpstream,
    UsageResult,
    WindowUsage,
)
from quota_sentinel.providers.http import HttpFactory
from quota_sentinel.providers.oauth import OAuthFlow, poll_with_refresh
from quota_sentinel.providers.parsing import (
    clamp_pct,
    epoch_s,
    http_status,
    next_month_start_s,
    no_known_fields,
    safe_message,
    slug,
    to_float,
    unreadable,
    utc_text,
)

log = logging.getLogger(__name__)

NAME = "claude"
USAGE_PATH = "/api/oauth/usage"
TOKEN_PATH = "/v1/oauth/token"
CLIENT_ID = "9d1c250a-e61b-44d9-88ed-5944d1962f5e"  # Claude Code's public OAuth client
OAUTH_BETA = "oauth-2025-04-20"
# Without a claude-code/<version> User-Agent the usage endpoint answers 429 indefinitely.
CLAUDE_CODE_VERSION = "2.1.69"
# Claude's Retry-After is often 0 while the bucket stays closed: wait at least 5 minutes.
MIN_RATE_LIMIT_WAIT_S = 300.0

FLAT_WINDOWS = ("five_hour", "seven_day", "seven_day_sonnet", "seven_day_opus")
# Newer `limits[]` rows standing in for a flat window that the answer left out.
_LIMIT_KINDS = {"session": "five_hour", "weekly_all": "seven_day"}
_KNOWN_KEYS = (*FLAT_WINDOWS, "limits", "extra_usage", "seven_day_oauth_apps")
_VERSION = re.compile(r"^[0-9A-Za-z.+-]{1,32}$")
# Every weekly lane (`seven_day_cowork`, `seven_day_routines`, …) is read under its own key.
_WEEKLY_KEY = re.compile(r"^seven_day_[a-z0-9_]+$")

_SEND_FRESH = (
    "keep Claude Code running so the switcher/agent heartbeat sends a fresh token, or opt in "
    'to server-side refresh with provider_config.claude.refresh = "server" for a credential '
    "dedicated to the monitor."
)
SCOPE_SENTENCE = (
    "This token lacks the user:profile scope (tokens from `claude setup-token` have only "
    "user:inference); re-login with full OAuth scope (`claude login`)."
)
_RELOGIN = "log in to Claude Code again and send fresh credentials."
REFRESH_REJECTED = (
    "Claude: the refresh token was rejected (it rotates: another client may have used it); "
    + _RELOGIN
)


def fetch(
    credentials: Mapping[str, Any],
    options: Mapping[str, Any],
    http: HttpFactory,
    state: Mapping[str, Any],
    now: float,
) -> UsageResult:
    """Poll Claude's OAuth usage endpoint once (refreshing first only when opted in).

    Args:
        credentials: `{"access_token", "refresh_token", "expires_at_ms"}`; expiry in epoch
            milliseconds, any field may be None.
        options: `refresh` ("server" opts in to server-side refresh) and
            `claude_code_version` (the version in the User-Agent; default CLAUDE_CODE_VERSION).
        http: factory `http(base_key) -> HttpClient`; base keys "claude" (usage) and
            "claude_oauth" (token endpoint).
        state: unused.
        now: current time, epoch seconds.

    Returns:
        The windows named in the module docstring (utilization in percent used, 0–100;
        resets_at epoch seconds UTC); `credentials` holds the rotated tokens after a refresh.

    Raises:
        CredentialsExpired: the access token expired and refreshing is not opted in (no
            request is made), or there is nothing to refresh with.
        AuthFailed: the token was rejected (401), lacks the user:profile scope (403), or the
            refresh token was rejected.
        RateLimitedUpstream: HTTP 429; retry_after_s is at least 300.
        ProviderError: any other upstream trouble; after a refresh it carries the new tokens.
    """
    server = str(options.get("refresh", "")).strip().lower() == "server"
    headers = _headers(options)
    flow = OAuthFlow(
        server_refresh=server,
        expires_within=_expires_within,
        expired_sentence=_expired_sentence,
        refresh=lambda creds: _refresh(http, creds, headers, now),
        usage=lambda creds: parse_usage(_get_usage(http, creds, headers), now),
        rejected=lambda exc: _rejected(http_status(exc), server),
        # A 403 is the scope error: a refreshed token has the same scopes.
        may_refresh_after=lambda exc: http_status(exc) != 403,
    )
    return poll_with_refresh(flow, credentials, now)


def parse_usage(body: Any, now: float) -> UsageResult:
    """Turn an /api/oauth/usage answer into windows.

    Args:
        body: the decoded JSON answer.
        now: current time, epoch seconds (the extra-usage reset is the next month's start).

    Returns:
        The UsageResult; no windows when every window is null (nothing started yet).

    Raises:
        ProviderError: the answer is an Anthropic error envelope.
        BadPayload: the answer is not a usage object at all.
    """
    if not isinstance(body, Mapping):
        raise BadPayload(
            "Claude answered with JSON that is not an object; the API may have changed."
        )
    if body.get("type") == "error":
        error = body.get("error") if isinstance(body.get("error"), Mapping) else {}
        message = safe_message(error.get("message"), [])
        raise ProviderError(f"Claude reported an error{': ' + message if message else ''}.")
    weekly = sorted(k for k in body if _WEEKLY_KEY.match(str(k)) and k not in FLAT_WINDOWS)
    if not weekly and not any(key in body for key in _KNOWN_KEYS):
        raise no_known_fields("Claude", "/api/oauth/usage", ("five_hour", "seven_day", "limits"))
    flat = [*FLAT_WINDOWS, *weekly]
    windows = {k: w for k in flat if (w := _window(body.get(k), "utilization", where=k))}
    limits = body.get("limits")
    for index, entry in enumerate(limits if isinstance(limits, list) else []):
        name, model = _limit_name(entry)
        if name and name not in windows:
            metadata = {"model": model} if model else {}
            window = _window(entry, "percent", metadata, where=f"limits[{index}]")
            if window is not None:
                windows[name] = window
    extra = _extra_usage(body.get("extra_usage"), now)
    if extra is not None:
        windows["extra_usage"] = extra
    return UsageResult(windows=windows)


def _headers(options: Mapping[str, Any]) -> dict[str, str]:
    version = str(options.get("claude_code_version") or "").strip()
    return {
        "User-Agent": f"claude-code/{version if _VERSION.match(version) else CLAUDE_CODE_VERSION}",
        "anthropic-beta": OAUTH_BETA,
        "Accept": "application/json",
        "Content-Type": "application/json",
    }


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _expires_within(creds: Mapping[str, Any], now: float, margin_s: float) -> bool:
    if not _text(creds.get("access_token")):
        return True
    expires_ms = to_float(creds.get("expires_at_ms"))
    return expires_ms is not None and expires_ms <= (now + margin_s) * 1000


def _expired_sentence(creds: Mapping[str, Any]) -> str:
    expires_ms = to_float(creds.get("expires_at_ms"))
    if not _text(creds.get("access_token")) or expires_ms is None:
        return f"No Claude access token is stored for this account; {_SEND_FRESH}"
    return f"The Claude access token expired at {utc_text(expires_ms / 1000)}; {_SEND_FRESH}"


def _rejected(status: int | None, server: bool) -> AuthFailed:
    if status == 403:
        return AuthFailed(SCOPE_SENTENCE)
    if server:
        return AuthFailed(
            f"Claude rejected the access token (HTTP 401) after a refresh; {_RELOGIN}"
        )
    return AuthFailed(
        f"Claude rejected the access token (HTTP 401): expired or revoked; {_SEND_FRESH}"
    )


def _get_usage(http: HttpFactory, creds: Mapping[str, Any], headers: Mapping[str, str]) -> Any:
    auth = {"Authorization": f"Bearer {_text(creds.get('access_token'))}"}
    try:
        return http("claude").get_json(USAGE_PATH, headers={**headers, **auth})
    except RateLimitedUpstream as exc:
        wait_s = max(exc.retry_after_s or 0.0, MIN_RATE_LIMIT_WAIT_S)
        raise RateLimitedUpstream(
            f"Claude is rate limiting the usage endpoint (HTTP 429); next try in {wait_s:g} s.",
            wait_s,
        ) from None


def _refresh(
    http: HttpFactory, creds: Mapping[str, Any], headers: Mapping[str, str], now: float
) -> dict[str, Any]:
    token = _text(creds.get("refresh_token"))
    if token is None:
        raise CredentialsExpired(_expired_sentence(creds))
    payload = {"grant_type": "refresh_token", "refresh_token": token, "client_id": CLIENT_ID}
    try:
        body = http("claude_oauth").post_json(TOKEN_PATH, json=payload, headers=headers)
    except ProviderError as exc:
        # A 400/401 is OAuth's invalid_grant (the body is not available here; see the README).
        if http_status(exc) in (400, 401):
            raise AuthFailed(REFRESH_REJECTED) from None
        raise
    access = _text(body.get("access_token")) if isinstance(body, Mapping) else None
    if access is None:
        raise BadPayload(f"Claude's token endpoint answered without an access token; {_RELOGIN}")
    expires_in = to_float(body.get("expires_in"))
    log.info("claude: refreshed the OAuth access token (server-side refresh is opted in)")
    return {
        **creds,
        "access_token": access,
        # Claude may omit the refresh token from the answer: the old one then stays valid.
        "refresh_token": _text(body.get("refresh_token")) or token,
        "expires_at_ms": int((now + expires_in) * 1000) if expires_in else None,
    }


def _window(
    item: Any, field: str, metadata: Mapping[str, Any] | None = None, *, where: str
) -> WindowUsage | None:
    # A null window (or a null figure) has not started: nothing to read. Anything else that
    # is not a number is a shape we do not know, and says so.
    if item is None:
        return None
    if not isinstance(item, Mapping):
        raise unreadable("Claude", where, item, "an object")
    raw = item.get(field)
    value = to_float(raw)
    if value is None:
        if raw is not None:
            raise unreadable("Claude", f"{where}.{field}", raw)
        return None
    return WindowUsage(clamp_pct(value), epoch_s(item.get("resets_at")), dict(metadata or {}))


def _limit_name(entry: Any) -> tuple[str | None, str | None]:
    kind = entry.get("kind") if isinstance(entry, Mapping) else None
    if kind in _LIMIT_KINDS:
        return _LIMIT_KINDS[kind], None
    scope = entry.get("scope") if kind == "weekly_scoped" else None
    model = scope.get("model") if isinstance(scope, Mapping) else None
    label = _text(model.get("display_name")) if isinstance(model, Mapping) else None
    return (f"seven_day_{slug(label)}", label) if label and slug(label) else (None, None)


def _extra_usage(item: Any, now: float) -> WindowUsage | None:
    # monthly_limit and used_credits are minor units (cents): 2050 means 20.50.
    if not isinstance(item, Mapping) or item.get("is_enabled") is not True:
        return None
    limit = to_float(item.get("monthly_limit"))
    if limit is None or limit <= 0:
        return None
    used = to_float(item.get("used_credits"))
    utilization = to_float(item.get("utilization"))
    if utilization is None:
        if used is None:
            return None
        utilization = used / limit * 100
    currency = _text(item.get("currency")) or "USD"
    metadata: dict[str, Any] = {"limit": limit / 100, "currency": currency}
    if used is not None:
        metadata["used"] = used / 100
    # The payload carries no reset date; the allowance is monthly.
    return WindowUsage(clamp_pct(utilization), next_month_start_s(now), metadata)
