"""Fake ChatGPT usage endpoint (wham/usage) and OpenAI token endpoint, providers.md §7a.

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

import copy
import threading
import time
from typing import Any

from tests.upstreams.claude import form_fields
from tests.upstreams.provider_fake import ProviderFake
from tests.upstreams.server import Reply, Request

USAGE_PATH = "/backend-api/wham/usage"
TOKEN_PATH = "/oauth/token"
CLIENT_ID = "app_EMoamEEZ73f0CkXaXp7hrann"

UNAUTHORIZED = {
    "detail": {"message": "Your authentication token has expired.", "code": "token_expired"}
}
WRONG_ACCOUNT = {"detail": "You do not have access to this workspace."}


def usage_body(now: float) -> dict[str, Any]:
    """The providers.md §7a example answer, with resets after `now` (epoch seconds)."""
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


def _window(used: Any, seconds: Any, after: Any, reset_at: Any) -> dict[str, Any]:
    window = {"used_percent": used, "limit_window_seconds": seconds, "reset_at": reset_at}
    if after is not None:
        window["reset_after_seconds"] = after
    return window


class CodexFake(ProviderFake):
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
        super().__init__()
        self.upstream.route("POST", TOKEN_PATH, self._token)
        self._token_lock = threading.Lock()
        self._valid = {access_token}
        self.access_token = access_token
        self.refresh_token = refresh_token
        self.account_id = account_id
        self.require_account = require_account
        self.expires_in_s = expires_in_s
        self._issued = 0
        self._body: Any = usage_body(time.time() if now is None else now)

    def credentials(self, expires_at_ms: int | None = None) -> dict[str, Any]:
        """The current tokens as the worker passes them to fetch."""
        return {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "expires_at_ms": expires_at_ms,
            "account_id": self.account_id,
        }

    def set_usage(self, body: Any = None, **keys: Any) -> None:
        """Serve `body` as the usage answer; or change top-level keys of the current one."""
        with self._lock:
            if body is not None:
                self._body = copy.deepcopy(body)
            for key, value in keys.items():
                self._body[key] = copy.deepcopy(value)

    def add_token(self, access_token: str) -> None:
        """Accept another access token."""
        with self._lock:
            self._valid.add(access_token)

    def revoke(self, access_token: str) -> None:
        """Make an access token expired/unknown (401)."""
        with self._lock:
            self._valid.discard(access_token)

    @property
    def token_calls(self) -> int:
        """Requests received on the token endpoint."""
        return self.upstream.count(TOKEN_PATH)

    def _healthy(self, request: Request) -> Reply:
        with self._lock:
            return Reply(json=copy.deepcopy(self._body))

    def _rejection(self, request: Request) -> Reply | None:
        value = request.headers.get("authorization", "")
        with self._lock:
            if not value.startswith("Bearer ") or value[7:] not in self._valid:
                return Reply(status=401, json=UNAUTHORIZED)
        account = request.headers.get("chatgpt-account-id")
        if self.account_id is not None and account != self.account_id:
            if account is not None or self.require_account:
                return Reply(status=403, json=WRONG_ACCOUNT)
        return None

    def _authorized(self, request: Request) -> bool:
        return self._rejection(request) is None

    def _unauthorized(self, request: Request) -> Reply:
        return self._rejection(request) or Reply(status=401, json=UNAUTHORIZED)

    def _token(self, request: Request) -> Reply:
        form = form_fields(request)
        if form.get("grant_type") != "refresh_token" or form.get("client_id") != CLIENT_ID:
            return Reply(status=400, json={"error": {"code": "invalid_request"}})
        with self._token_lock, self._lock:
            if form.get("refresh_token") != self.refresh_token:
                error = {"code": "refresh_token_reused", "message": "Refresh token already used"}
                return Reply(status=401, json={"error": error})
            self._issued += 1
            self.access_token = f"codex-fake-access-{self._issued}"
            self.refresh_token = f"codex-fake-refresh-{self._issued}"
            self._valid.add(self.access_token)
            body: dict[str, Any] = {
                "access_token": self.access_token,
                "refresh_token": self.refresh_token,
                "id_token": f"codex-fake-id-{self._issued}",
            }
            if self.expires_in_s is not None:
                body["expires_in"] = self.expires_in_s
        return Reply(json=body)


def codex_upstream(**kwargs: Any) -> CodexFake:
    """Build and start a CodexFake (keyword arguments as in CodexFake); the caller stops it."""
    fake = CodexFake(**kwargs)
    fake.start()
    return fake
