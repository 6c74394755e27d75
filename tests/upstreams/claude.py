"""Fake Claude OAuth usage and token endpoints with the shapes of docs/providers.md (Claude).

    fake = claude_upstream()                       # started; stop() it or use `with`
    env = {"QUOTA_SENTINEL_CLAUDE_BASE_URL": fake.url,
           "QUOTA_SENTINEL_CLAUDE_OAUTH_BASE_URL": fake.url}
    creds = fake.credentials()                     # the credential dict the worker decrypts
    fake.set_usage(five_hour={"utilization": 52, "resets_at": "2026-05-14T18:00:00Z"})
    fake.fail("scope_403"); fake.ok()
    fake.token_calls                               # requests on /v1/oauth/token

GET /api/oauth/usage checks, in this order:
- `anthropic-beta: oauth-2025-04-20`; without it, HTTP 400 with an Anthropic error envelope
  (invalid_request_error). No source records what the real API answers there (the provider notes
  say "pick an error"); a 400 makes a missing header look like a client bug, which it is.
- a `claude-code/…` User-Agent; otherwise HTTP 429 with `retry-after: 0`, as the real endpoint
  does for other clients.
- `Authorization: Bearer <access token>`: an unknown or revoked token gets the 401
  authentication_error envelope; a token added with `scope_limited=True` gets the 403
  oauth_scope_insufficient envelope (a `claude setup-token` token).

POST /v1/oauth/token takes JSON or form bodies (grant_type, refresh_token, client_id) and rotates:
every refresh issues a new access and refresh token and spends the old refresh token, which then
gets HTTP 400 `{"error": "invalid_grant"}`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tests.upstreams.oauth import OAuthFake, bearer_token
from tests.upstreams.provider_fake import FAILURE_MODES
from tests.upstreams.server import Reply, Request

USAGE_PATH = "/api/oauth/usage"
TOKEN_PATH = "/v1/oauth/token"
CLIENT_ID = "9d1c250a-e61b-44d9-88ed-5944d1962f5e"
OAUTH_BETA = "oauth-2025-04-20"

# Claude-specific failure modes on the usage path, on top of FAILURE_MODES.
CLAUDE_FAILURE_MODES = FAILURE_MODES + ("scope_403", "429_zero", "error_envelope")


def anthropic_error(kind: str, message: str, **extra: Any) -> dict[str, Any]:
    """The standard Anthropic error envelope."""
    return {"type": "error", "error": {"type": kind, "message": message, **extra}}


EXPIRED_401 = anthropic_error(
    "authentication_error",
    "OAuth token has expired. Please obtain a new token or refresh your existing token.",
)
SCOPE_403 = {
    **anthropic_error(
        "permission_error",
        "OAuth token does not meet scope requirement user:profile",
        details={
            "required_scopes": ["user:profile"],
            "match": "any",
            "error_code": "oauth_scope_insufficient",
        },
    ),
    "request_id": "req_fake_0001",
}
RATE_LIMITED_429 = {
    "error": {"message": "Rate limited. Please try again later.", "type": "rate_limit_error"}
}
NO_BETA_400 = anthropic_error("invalid_request_error", "OAuth authentication is not supported.")


def iso(epoch: float) -> str:
    """`epoch` as Claude writes it: ISO-8601 with microseconds and +00:00."""
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="microseconds")


def usage_body(now: float) -> dict[str, Any]:
    """The docs/providers.md (Claude) example answer, with resets after `now` (epoch seconds)."""
    five, week = iso(now + 2 * 3600), iso(now + 4 * 86400)
    return {
        "five_hour": {"utilization": 37.0, "resets_at": five},
        "seven_day": {"utilization": 12.0, "resets_at": week},
        "seven_day_oauth_apps": None,
        "seven_day_opus": None,
        "seven_day_sonnet": {"utilization": 4.0, "resets_at": week},
        "seven_day_routines": None,
        "extra_usage": {
            "is_enabled": True,
            "monthly_limit": 5000,
            "used_credits": 1240,
            "utilization": 24.8,
            "currency": "USD",
        },
        "limits": [
            _limit("session", "session", 37, five, None, True),
            _limit("weekly_all", "weekly", 12, week, None, False),
            _limit("weekly_scoped", "weekly", 6, week, "Opus", False),
        ],
    }


def weekly_lanes_body(now: float) -> dict[str, Any]:
    """The example answer plus the extra weekly lanes some accounts report (Cowork, Daily
    Routines) with a utilization, and one the API names but leaves null."""
    body = usage_body(now)
    week = iso(now + 4 * 86400)
    body["seven_day_cowork"] = {"utilization": 63.0, "resets_at": week}
    body["seven_day_routines"] = {"utilization": 20.0, "resets_at": week}
    body["seven_day_omelette"] = None
    return body


def _limit(
    kind: str, group: str, percent: float, resets_at: str, model: str | None, active: bool
) -> dict[str, Any]:
    scope = {"model": {"id": None, "display_name": model}, "surface": None} if model else None
    return {
        "kind": kind,
        "group": group,
        "percent": percent,
        "resets_at": resets_at,
        "scope": scope,
        "is_active": active,
    }


class ClaudeFake(OAuthFake):
    """A Claude Max account: usage windows, one valid access token, a rotating refresh token.

    Args:
        access_token: the access token the usage endpoint accepts at first.
        refresh_token: the refresh token the token endpoint accepts at first.
        now: base time of the default usage answer, epoch seconds (default: the wall clock).
        expires_in_s: `expires_in` of refresh answers, seconds.
        rotate: False makes refresh answers omit `refresh_token` (the old one stays valid).
    """

    path = USAGE_PATH
    name = "claude"
    token_path = TOKEN_PATH
    access_prefix = "sk-ant-oat01-fake-access-"
    refresh_prefix = "sk-ant-ort01-fake-refresh-"
    expired_body = EXPIRED_401

    def __init__(
        self,
        access_token: str = "sk-ant-oat01-fake-access-0",
        refresh_token: str = "sk-ant-ort01-fake-refresh-0",
        *,
        now: float | None = None,
        expires_in_s: int = 28800,
        rotate: bool = True,
    ) -> None:
        super().__init__(
            access_token, refresh_token, now=now, expires_in_s=expires_in_s, rotate=rotate
        )
        self._scope_limited: set[str] = set()

    def add_token(self, access_token: str, *, scope_limited: bool = False) -> None:
        """Accept another access token; `scope_limited` ones get the 403 scope error."""
        with self._lock:
            super().add_token(access_token)
            if scope_limited:
                self._scope_limited.add(access_token)

    # -- usage endpoint ------------------------------------------------------------------------

    def _usage_body(self, now: float) -> Any:
        return usage_body(now)

    def _rejection(self, request: Request) -> Reply | None:
        headers = request.headers
        if headers.get("anthropic-beta") != OAUTH_BETA:
            return Reply(status=400, json=NO_BETA_400)
        if not headers.get("user-agent", "").startswith("claude-code/"):
            return Reply(status=429, json=RATE_LIMITED_429, headers={"retry-after": "0"})
        with self._lock:
            if not self._valid_token(request):
                return Reply(status=401, json=EXPIRED_401)
            if bearer_token(request) in self._scope_limited:
                return Reply(status=403, json=SCOPE_403)
        return None

    def _extra_failure(self, mode: str) -> Reply | None:
        if mode == "scope_403":
            return Reply(status=403, json=SCOPE_403)
        if mode == "429_zero":
            return Reply(status=429, json=RATE_LIMITED_429, headers={"retry-after": "0"})
        if mode == "error_envelope":
            return Reply(status=200, json=anthropic_error("api_error", "Internal server error"))
        return None

    # -- token endpoint ------------------------------------------------------------------------

    def _refuse_client(self, form: dict[str, str]) -> Reply | None:
        if form.get("grant_type") != "refresh_token":
            return Reply(status=400, json={"error": "unsupported_grant_type"})
        if form.get("client_id") != CLIENT_ID:
            return Reply(status=400, json={"error": "invalid_client"})
        return None

    def _spent(self) -> Reply:
        return Reply(
            status=400,
            json={"error": "invalid_grant", "error_description": "Invalid refresh token"},
        )

    def _grant(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "token_type": "Bearer",
            "access_token": self.access_token,
            "expires_in": self.expires_in_s,
            "scope": "user:inference user:profile",
        }
        if self.rotate:
            body["refresh_token"] = self.refresh_token
        return body


def claude_upstream(**kwargs: Any) -> ClaudeFake:
    """Build and start a ClaudeFake (keyword arguments as in ClaudeFake); the caller stops it."""
    return ClaudeFake(**kwargs).start()
