"""Fake Kimi Code usage endpoint (GET /coding/v1/usages), shapes of docs/providers.md (Kimi).

    fake = kimi_upstream(key="sk-kimi-test")     # started; stop() it or use `with`
    env = {"QUOTA_SENTINEL_KIMI_BASE_URL": fake.url}
    fake.set_usage(used=1024)                    # weekly requests used (of 2048)
    fake.set_limits([limit_row(60, used=5, limit=20)])
    fake.fail("429"); fake.ok()
    fake.set_shape("usages")                     # the current shape: a `usages` map of pools

Numbers are strings and reset times ISO-8601 with nanoseconds, as the real API sends them.
Only `Authorization: Bearer <key>` is accepted; anything else gets HTTP 401.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.upstreams.provider_fake import ProviderFake
from tests.upstreams.server import Reply, Request

USAGES_PATH = "/coding/v1/usages"


def iso_nanos(moment: datetime) -> str:
    """`moment` as the API writes it: UTC, nine fraction digits, `Z`."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "300Z"


def limit_row(
    duration: Any = 300,
    *,
    used: Any = 57,
    limit: Any = 200,
    unit: str = "TIME_UNIT_MINUTE",
    reset: str | None = None,
) -> dict[str, Any]:
    """One `limits[]` entry: a rolling window of `duration` `unit`s with string counts."""
    reset = reset or iso_nanos(datetime.now(UTC) + timedelta(hours=2))
    return {
        "window": {"duration": duration, "timeUnit": unit},
        "detail": {
            "limit": str(limit),
            "used": str(used),
            "remaining": str(float(limit) - float(used)).removesuffix(".0"),
            "resetTime": reset,
        },
    }


def pool(used: Any, limit: Any, reset: str, **window: Any) -> dict[str, Any]:
    """One entry of the current `usages` map: a per-feature pool with string counts; `window`
    (duration=, timeUnit=) gives its length when the answer states one."""
    entry: dict[str, Any] = {
        "limit": str(limit),
        "used": str(used),
        "remaining": f"{float(limit) - float(used):g}",
        "resetTime": reset,
    }
    if window:
        entry["window"] = window
    return entry


class KimiFake(ProviderFake):
    """A Kimi Code account: a weekly request quota and a 5-hour rolling limit.

    Args:
        key: the API key the fake accepts after "Bearer ".
        wrap_in_data: answer `{"data": {...}}` instead of the bare object.
    """

    path = USAGES_PATH
    name = "kimi"

    def __init__(self, key: str = "sk-kimi-test-0000", *, wrap_in_data: bool = False) -> None:
        super().__init__()
        self.key = key
        self.wrap_in_data = wrap_in_data
        self.used = 314
        self.limit = 2048
        self.weekly_reset = iso_nanos(datetime.now(UTC) + timedelta(days=3))
        self._limits: list[Any] = [limit_row()]
        self.shape = "usage"
        self.monthly: tuple[float, float] = (1000, 8000)  # (used, limit) of the monthly pool
        self.monthly_reset = iso_nanos(datetime.now(UTC) + timedelta(days=17))

    def set_shape(self, shape: str) -> None:
        """ "usage": the `usage` object and `limits[]`; "usages": the current `usages` map,
        a weekly coding pool and a monthly pool beside it, plus `limits[]`."""
        if shape not in ("usage", "usages"):
            raise ValueError(f"unknown Kimi shape {shape!r}")
        with self._lock:
            self.shape = shape

    def set_usage(self, used: float | None = None, limit: float | None = None) -> None:
        """Change the weekly quota the next answer reports; None keeps a value."""
        with self._lock:
            self.used = self.used if used is None else used
            self.limit = self.limit if limit is None else limit

    def set_limits(self, limits: list[Any]) -> None:
        """Serve these raw `limits[]` entries (see `limit_row()`)."""
        with self._lock:
            self._limits = copy.deepcopy(limits)

    def _healthy(self, request: Request) -> Reply:
        with self._lock:
            usage = {
                "limit": f"{self.limit:g}",
                "used": f"{self.used:g}",
                "remaining": f"{self.limit - self.used:g}",
                "resetTime": self.weekly_reset,
            }
            body: dict[str, Any] = {"usage": usage, "limits": copy.deepcopy(self._limits)}
            if self.shape == "usages":
                used, limit = self.monthly
                body = {
                    "usages": {
                        "FEATURE_CODING": {
                            **usage,
                            "window": {"duration": 7, "timeUnit": "TIME_UNIT_DAY"},
                        },
                        "FEATURE_CODING_MONTHLY": pool(
                            used, limit, self.monthly_reset, duration=1, timeUnit="TIME_UNIT_MONTH"
                        ),
                    },
                    "limits": copy.deepcopy(self._limits),
                }
            return Reply(json={"data": body} if self.wrap_in_data else body)

    def _authorized(self, request: Request) -> bool:
        return request.headers.get("authorization", "") == f"Bearer {self.key}"

    def _unauthorized(self, request: Request) -> Reply:
        return Reply(
            status=401,
            json={
                "error": {
                    "message": "Invalid Authentication",
                    "type": "invalid_authentication_error",
                }
            },
        )


def kimi_upstream(key: str = "sk-kimi-test-0000", **kwargs: Any) -> KimiFake:
    """Build and start a KimiFake (keywords as in KimiFake); the caller stops it."""
    return KimiFake(key, **kwargs).start()
