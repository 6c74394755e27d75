"""Fake OpenRouter key endpoint (GET /api/v1/key, alias /api/v1/auth/key; docs/providers.md).

    fake = openrouter_upstream(key="sk-or-v1-test")   # started; stop() it or use `with`
    env = {"QUOTA_SENTINEL_OPENROUTER_BASE_URL": fake.url}
    fake.set_key(limit=50, limit_remaining=37.25, limit_reset="monthly")
    fake.set_key(limit=None)                 # an unlimited key
    fake.legacy_only = True                  # /api/v1/key answers 404, the alias still works
    fake.fail("401"); fake.ok()

Only `Authorization: Bearer <key>` is accepted; anything else gets HTTP 401, as the real API.
"""

from __future__ import annotations

from typing import Any

from tests.upstreams.provider_fake import ProviderFake
from tests.upstreams.server import Reply, Request

KEY_PATH = "/api/v1/key"
LEGACY_KEY_PATH = "/api/v1/auth/key"


class OpenRouterFake(ProviderFake):
    """An OpenRouter API key with a monthly $50 limit, $12.75 spent.

    Args:
        key: the API key the fake accepts after "Bearer ".
    """

    path = KEY_PATH
    name = "openrouter"

    def __init__(self, key: str = "sk-or-v1-test-0000") -> None:
        super().__init__()
        self.upstream.route("GET", LEGACY_KEY_PATH, self._serve)
        self.key = key
        self.legacy_only = False
        self.data: dict[str, Any] = {
            "label": f"{key[:9]}...{key[-3:]}",
            "limit": 50,
            "limit_remaining": 37.25,
            "limit_reset": "monthly",
            "usage": 12.75,
            "usage_daily": 0.8,
            "usage_weekly": 4.1,
            "usage_monthly": 12.75,
            "byok_usage": 0,
            "is_free_tier": False,
            "include_byok_in_limit": False,
            "is_provisioning_key": False,
            "expires_at": None,
            "rate_limit": {"requests": 1000, "interval": "1h", "note": "deprecated"},
        }

    @property
    def calls(self) -> int:
        """Requests received on either key path."""
        return self.upstream.count(KEY_PATH) + self.upstream.count(LEGACY_KEY_PATH)

    def set_key(self, **fields: Any) -> None:
        """Change fields of `data` (limit, limit_remaining, limit_reset, usage, …); a field
        given as `...` (Ellipsis) is removed."""
        with self._lock:
            for name, value in fields.items():
                if value is ...:
                    self.data.pop(name, None)
                else:
                    self.data[name] = value

    def _serve(self, request: Request) -> Reply:
        with self._lock:
            hidden = self.legacy_only and request.path == KEY_PATH
        if hidden:
            return Reply(status=404, json={"error": {"code": 404, "message": "Not Found"}})
        return super()._serve(request)

    def _healthy(self, request: Request) -> Reply:
        with self._lock:
            return Reply(json={"data": dict(self.data)})

    def _authorized(self, request: Request) -> bool:
        return request.headers.get("authorization", "") == f"Bearer {self.key}"

    def _unauthorized(self, request: Request) -> Reply:
        return Reply(status=401, json={"error": {"code": 401, "message": "User not found."}})


def openrouter_upstream(key: str = "sk-or-v1-test-0000", **kwargs: Any) -> OpenRouterFake:
    """Build and start an OpenRouterFake (keywords as in OpenRouterFake); the caller stops it."""
    return OpenRouterFake(key, **kwargs).start()
