"""OAuthFake: the usage endpoint and rotating token endpoint shared by the Claude and Codex fakes.

An OAuth subscription fake serves one usage answer to a set of valid access tokens and has a
token endpoint (POST, JSON or form body) that trades the current refresh token for a new access
token; with `rotate` it also issues a new refresh token, which spends the old one.

Subclasses set `path`, `name`, `token_path`, `access_prefix`, `refresh_prefix` and
`expired_body`, and implement:
- `_usage_body(now)`: the default usage answer;
- `_rejection(request)`: why the usage endpoint refuses a request (None when it does not);
- `_refuse_client(form)`: the answer to a token request of the wrong client or grant type;
- `_spent()`: the answer to a refresh token that is not the current one;
- `_grant()`: the body of a successful refresh (the new tokens are already set).
"""

from __future__ import annotations

import copy
import json
import time
from typing import Any
from urllib.parse import parse_qsl

from tests.upstreams.provider_fake import ProviderFake
from tests.upstreams.server import Reply, Request


def form_fields(request: Request) -> dict[str, str]:
    """The token request's fields, from a JSON or a form-encoded body ({} when unreadable)."""
    if "json" in request.headers.get("content-type", ""):
        try:
            data = json.loads(request.body)
        except ValueError:
            return {}
        return (
            {k: v for k, v in data.items() if isinstance(v, str)} if isinstance(data, dict) else {}
        )
    return dict(parse_qsl(request.body.decode(errors="replace")))


def bearer_token(request: Request) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, or None."""
    value = request.headers.get("authorization", "")
    return value[7:] if value.startswith("Bearer ") else None


class OAuthFake(ProviderFake):
    """A usage endpoint for valid access tokens plus a token endpoint that rotates them.

    Args:
        access_token: the access token the usage endpoint accepts at first.
        refresh_token: the refresh token the token endpoint accepts at first.
        now: base time of the default usage answer, epoch seconds (default: the wall clock).
        expires_in_s: `expires_in` of refresh answers, seconds (None: left out).
        rotate: False keeps the refresh token (and leaves it out of refresh answers).
    """

    token_path = "/oauth/token"
    access_prefix = "fake-access-"
    refresh_prefix = "fake-refresh-"
    expired_body: Any = {"error": "unauthorized"}

    def __init__(
        self,
        access_token: str,
        refresh_token: str,
        *,
        now: float | None,
        expires_in_s: int | None,
        rotate: bool = True,
    ) -> None:
        super().__init__()
        self.upstream.route("POST", self.token_path, self._token)
        self._valid: set[str] = {access_token}
        self.access_token = access_token
        self.refresh_token = refresh_token
        self.expires_in_s = expires_in_s
        self.rotate = rotate
        self._issued = 0
        self._body: Any = self._usage_body(time.time() if now is None else now)

    # -- test controls -------------------------------------------------------------------------

    def credentials(self, expires_at_ms: int | None = None) -> dict[str, Any]:
        """The current tokens as the worker passes them to fetch."""
        return {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "expires_at_ms": expires_at_ms,
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
        """Make an access token expired/unknown: the usage endpoint answers it with 401."""
        with self._lock:
            self._valid.discard(access_token)

    @property
    def token_calls(self) -> int:
        """Requests received on the token endpoint."""
        return self.upstream.count(self.token_path)

    # -- usage endpoint ------------------------------------------------------------------------

    def _usage_body(self, now: float) -> Any:
        raise NotImplementedError

    def _valid_token(self, request: Request) -> bool:
        with self._lock:
            return bearer_token(request) in self._valid

    def _healthy(self, request: Request) -> Reply:
        with self._lock:
            return Reply(json=copy.deepcopy(self._body))

    def _rejection(self, request: Request) -> Reply | None:
        raise NotImplementedError

    def _authorized(self, request: Request) -> bool:
        return self._rejection(request) is None

    def _unauthorized(self, request: Request) -> Reply:
        return self._rejection(request) or Reply(status=401, json=self.expired_body)

    # -- token endpoint ------------------------------------------------------------------------

    def _refuse_client(self, form: dict[str, str]) -> Reply | None:
        raise NotImplementedError

    def _spent(self) -> Reply:
        raise NotImplementedError

    def _grant(self) -> dict[str, Any]:
        raise NotImplementedError

    def _token(self, request: Request) -> Reply:
        form = form_fields(request)
        refused = self._refuse_client(form)
        if refused is not None:
            return refused
        with self._lock:
            presented = form.get("refresh_token")
            if not presented or presented != self.refresh_token:
                return self._spent()
            self._issued += 1
            self.access_token = f"{self.access_prefix}{self._issued}"
            self._valid.add(self.access_token)
            if self.rotate:
                self.refresh_token = f"{self.refresh_prefix}{self._issued}"
            return Reply(json=self._grant())
