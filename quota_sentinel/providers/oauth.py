"""The OAuth poll flow Claude and Codex share: use the access token, refresh only when opted in.

Their refresh tokens rotate: a refresh by the server would spend the token the user's own client
(Claude Code, Codex) holds and log it out. So by default an expired token is reported, not
refreshed; clients send fresh tokens with their heartbeat. With `refresh: "server"` (a credential
dedicated to the monitor) the token is refreshed shortly before it expires, or once after a 401,
and the rotated credentials travel with the result — or with the error, when the usage call
fails after a refresh, because the old refresh token is spent either way. The worker holds the
account's poll lock around `fetch`, so two refreshes of one account never race.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from quota_sentinel.providers.base import (
    AuthFailed,
    CredentialsExpired,
    ProviderError,
    UsageResult,
)

# Refresh this long before expiry, so a poll never starts with a token about to lapse.
REFRESH_MARGIN_S = 300.0

Credentials = dict[str, Any]


@dataclass(frozen=True)
class OAuthFlow:
    """What one provider plugs into `poll_with_refresh`.

    Args:
        server_refresh: True when the registration opted in to server-side refresh.
        expires_within: (credentials, now, margin_s) → the access token is missing or expires
            within margin_s seconds of now.
        expired_sentence: credentials → what to tell the user about an expired token.
        refresh: credentials → rotated credentials (raises AuthFailed when rejected).
        usage: credentials → the poll's result (raises ProviderError).
        rejected: the final AuthFailed of the usage call → the error to report.
        may_refresh_after: an AuthFailed of the usage call → whether a refresh could help
            (Claude's 403 scope error cannot be fixed by one).
    """

    server_refresh: bool
    expires_within: Callable[[Mapping[str, Any], float, float], bool]
    expired_sentence: Callable[[Mapping[str, Any]], str]
    refresh: Callable[[Mapping[str, Any]], Credentials]
    usage: Callable[[Mapping[str, Any]], UsageResult]
    rejected: Callable[[AuthFailed], ProviderError]
    may_refresh_after: Callable[[AuthFailed], bool] = lambda exc: True


def _has_refresh_token(creds: Mapping[str, Any]) -> bool:
    token = creds.get("refresh_token")
    return isinstance(token, str) and bool(token.strip())


def poll_with_refresh(flow: OAuthFlow, credentials: Mapping[str, Any], now: float) -> UsageResult:
    """One poll with the provider's access token, refreshing only as `flow` allows.

    Raises:
        CredentialsExpired: the token expired and refreshing is not opted in or not possible
            (no request is made).
        ProviderError: what the usage call or the refresh raised; after a refresh it carries
            the rotated credentials.
    """
    creds: Mapping[str, Any] = dict(credentials)
    rotated: Credentials | None = None
    server = flow.server_refresh and _has_refresh_token(creds)
    if flow.expires_within(creds, now, REFRESH_MARGIN_S if server else 0.0):
        if server:
            rotated = creds = flow.refresh(creds)
        elif flow.expires_within(creds, now, 0.0):
            raise CredentialsExpired(flow.expired_sentence(creds))
    while True:
        try:
            result = flow.usage(creds)
            return replace(result, credentials=rotated) if rotated is not None else result
        except AuthFailed as exc:
            if server and rotated is None and flow.may_refresh_after(exc):
                rotated = creds = flow.refresh(creds)
                continue
            error = flow.rejected(exc)
        except ProviderError as exc:
            error = exc
        if rotated is not None:
            error = type(error)(error.message, error.retry_after_s, credentials=rotated)
        raise error from None
