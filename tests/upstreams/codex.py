"""Fake ChatGPT usage endpoint (wham/usage) and OpenAI token endpoint, docs/providers.md (Codex).

    fake = codex_upstream()                        # started; stop() it or use `with`
    env = {"QUOTA_SENTINEL_CODEX_BASE_URL": fake.url,
           "QUOTA_SENTINEL_CODEX_OAUTH_BASE_URL": fake.url}
    creds = fake.credentials()
    fake.set_usage(rate_limit=None, spend_control={...})
    fake.token_calls

GET /backend-api/wham/usage needs `Authorization: Bearer <access token>` (401 otherwise) and,
when the fake has an account id, `ChatGPT-Account-Id: <that id>` (403 when missing or wrong;
`require_account=False` lets a request without the header through).
POST /oauth/token takes JSON or form bodies with the Codex client id and rotates like the real
one: a spent refresh token gets 401 with error code `refresh_token_reused`.
"""

from __future__ import annotations

from typing import Any

from tests.upstreams.oauth import OAuthFake
from tests.upstreams.server import Reply, Request

USAGE_PATH = "/backend-api/wham/usage"
TOKEN_PATH = "/oauth/token"
CLIENT_ID = "app_EMoamEEZ73f0CkXaXp7hrann"

UNAUTHORIZED = {
    "detail": {"message": "Your authentication token has expired.", "code": "token_expired"}
}
WRONG_ACCOUNT = {"detail": "You do not have access to this workspace."}


def usage_body(now: float) -> dict[str, Any]:
    """The docs/providers.md (Codex) example answer, with resets after `now` (epoch seconds)."""
    five, week = int(now) + 7410, int(now) + 301200
    return {
        "plan_type": "plus",
        "rate_limit": {
            "allowed": True,
            "limit_reached": False,
            "primary_window": _window(23, 18000, 7410, five),
            "secondary_window": _window(41, 604800, 301200, week),
        },
        "code_review_rate_limit": {"primary_window": _window(0, 604800, None, week)},
        "additional_rate_limits": [
            {
                "limit_name": "GPT-5.3-Codex-Spark",
                "metered_feature": "gpt_5_3_codex_spark",
                "rate_limit": {
                    "allowed": True,
                    "limit_reached": False,
                    "primary_window": _window(10, 18000, None, five),
                },
            }
        ],
        "credits": {"has_credits": False, "unlimited": False, "balance": "0"},
        "rate_limit_reset_credits": {"available_count": 1},
    }


def placeholder_body(now: float) -> dict[str, Any]:
    """A primary slot with `limit_window_seconds: 0` (a placeholder) beside the weekly one."""
    body = usage_body(now)
    body["rate_limit"]["primary_window"] = _window(0, 0, 0, 0)
    del body["additional_rate_limits"]
    return body


def spend_used_percent_body(now: float) -> dict[str, Any]:
    """Business spend control: no rate_limit, the individual limit given as used percent."""
    return {
        "plan_type": "business",
        "rate_limit": None,
        "spend_control": {
            "individual_limit": {
                "used_percent": 42.5,
                "reached": False,
                "reset_after_seconds": 7200,
            }
        },
    }


SHAPES = {
    "plus": usage_body,
    "placeholder": placeholder_body,
    "spend_used_percent": spend_used_percent_body,
}


def _window(used: Any, seconds: Any, after: Any, reset_at: Any) -> dict[str, Any]:
    window = {"used_percent": used, "limit_window_seconds": seconds, "reset_at": reset_at}
    if after is not None:
        window["reset_after_seconds"] = after
    return window


class CodexFake(OAuthFake):
    """A ChatGPT Plus account with a 5-hour, a weekly and a per-model window.

    Args:
        access_token / refresh_token: the tokens accepted at first.
        account_id: the workspace id the usage endpoint expects; None accepts any.
        require_account: False lets requests without ChatGPT-Account-Id through.
        now: base time of the default usage answer, epoch seconds (default: the wall clock).
        expires_in_s: `expires_in` of refresh answers in seconds; None leaves it out.
    """

    path = USAGE_PATH
    name = "codex"
    token_path = TOKEN_PATH
    access_prefix = "codex-fake-access-"
    refresh_prefix = "codex-fake-refresh-"
    expired_body = UNAUTHORIZED

    def __init__(
        self,
        access_token: str = "codex-fake-access-0",
        refresh_token: str = "codex-fake-refresh-0",
        *,
        account_id: str | None = "acct-fake-0001",
        require_account: bool = True,
        now: float | None = None,
        expires_in_s: int | None = 864000,
    ) -> None:
        super().__init__(access_token, refresh_token, now=now, expires_in_s=expires_in_s)
        self.account_id = account_id
        self.require_account = require_account

    def credentials(self, expires_at_ms: int | None = None) -> dict[str, Any]:
        """The current tokens as the worker passes them to fetch."""
        return {**super().credentials(expires_at_ms), "account_id": self.account_id}

    def set_shape(self, shape: str) -> None:
        """Serve one of SHAPES ("plus", "placeholder", "spend_used_percent") as of `now`."""
        self.set_usage(SHAPES[shape](self.base_now))

    def _usage_body(self, now: float) -> Any:
        self.base_now = now
        return usage_body(now)

    def _rejection(self, request: Request) -> Reply | None:
        if not self._valid_token(request):
            return Reply(status=401, json=UNAUTHORIZED)
        account = request.headers.get("chatgpt-account-id")
        if self.account_id is not None and account != self.account_id:
            if account is not None or self.require_account:
                return Reply(status=403, json=WRONG_ACCOUNT)
        return None

    def _refuse_client(self, form: dict[str, str]) -> Reply | None:
        if form.get("grant_type") != "refresh_token" or form.get("client_id") != CLIENT_ID:
            return Reply(status=400, json={"error": {"code": "invalid_request"}})
        return None

    def _spent(self) -> Reply:
        error = {"code": "refresh_token_reused", "message": "Refresh token already used"}
        return Reply(status=401, json={"error": error})

    def _grant(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "id_token": f"codex-fake-id-{self._issued}",
        }
        if self.expires_in_s is not None:
            body["expires_in"] = self.expires_in_s
        return body


def codex_upstream(**kwargs: Any) -> CodexFake:
    """Build and start a CodexFake (keyword arguments as in CodexFake); the caller stops it."""
    return CodexFake(**kwargs).start()
