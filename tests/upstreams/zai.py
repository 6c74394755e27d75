"""Fake Z.ai quota endpoint (GET /api/monitor/usage/quota/limit), shapes of docs/providers.md.

    fake = zai_upstream(key="zai-test-key")       # started; stop() it or use `with`
    env = {"QUOTA_SENTINEL_ZAI_BASE_URL": fake.url}
    fake.set_usage(five_hour=41, weekly=18)       # percentages the next poll sees
    fake.fail("auth_envelope"); fake.ok()
    fake.calls                                     # requests on the quota path

Like the real service it accepts `Authorization: <key>` and `Authorization: Bearer <key>`, and
answers a missing or wrong key with HTTP 200 and the 1001 error envelope. `ZaiFake(accept="raw")`
or `accept="bearer"` takes only that header form, to test the poller's fallback to the other.
"""

from __future__ import annotations

import copy
import time
from typing import Any

from tests.upstreams.provider_fake import FAILURE_MODES, HOUR_MS, ProviderFake
from tests.upstreams.server import Reply, Request

QUOTA_PATH = "/api/monitor/usage/quota/limit"

AUTH_ENVELOPE = {
    "code": 1001,
    "msg": "Authentication parameter not received in Header",
    "success": False,
}
ERROR_ENVELOPE = {"code": 500, "msg": "Service busy, please try again later", "success": False}

# Z.ai-specific failure modes, on top of FAILURE_MODES; both answer HTTP 200.
ZAI_FAILURE_MODES = FAILURE_MODES + ("auth_envelope", "error_envelope")


class ZaiFake(ProviderFake):
    """A Z.ai account with a 5-hour and a weekly token window and a monthly MCP quota.

    Args:
        key: the API key the fake accepts (raw or after "Bearer ").
        level: the plan label in `data.level`.
        limit_type: "TOKENS_LIMIT" or "CREDIT_LIMIT" for the two token windows.
        accept: which header forms authenticate: "both" (like the real API), "raw" or "bearer".
    """

    path = QUOTA_PATH
    name = "zai"

    def __init__(
        self,
        key: str = "zai-test-key",
        *,
        level: str = "pro",
        limit_type: str = "TOKENS_LIMIT",
        accept: str = "both",
    ) -> None:
        super().__init__()
        if accept not in ("both", "raw", "bearer"):
            raise ValueError(f"accept must be both, raw or bearer, not {accept!r}")
        self.accept = accept
        now_ms = int(time.time() * 1000)
        self.key = key
        self.level = level
        self.limit_type = limit_type
        self.five_hour = 41.0
        self.weekly = 18.0
        self.mcp_used = 137
        self.mcp_total = 1000
        # The tool-call quota's length: (unit, number); (3, 5) is the 5-hour variant.
        self.mcp_window: tuple[int, int] = (5, 1)
        self.reset_5h_ms: int | None = now_ms + 2 * HOUR_MS
        self.reset_weekly_ms: int | None = now_ms + 4 * 24 * HOUR_MS
        self.reset_mcp_ms: int | None = now_ms + 20 * 24 * HOUR_MS
        self._limits: list[dict[str, Any]] | None = None

    def set_usage(
        self,
        five_hour: float | None = None,
        weekly: float | None = None,
        *,
        mcp_used: int | None = None,
        reset_5h_ms: int | None = None,
        reset_weekly_ms: int | None = None,
        reset_mcp_ms: int | None = None,
    ) -> None:
        """Change what the next answer reports; arguments left as None keep their value.

        Args:
            five_hour: percent used of the 5-hour window (0–100).
            weekly: percent used of the weekly window (0–100).
            mcp_used: MCP calls used this month (of 1000).
            reset_5h_ms / reset_weekly_ms / reset_mcp_ms: nextResetTime, epoch milliseconds
                (-1 is sent as-is, like the real API does when no reset is scheduled).
        """
        with self._lock:
            for attr, value in (
                ("five_hour", five_hour),
                ("weekly", weekly),
                ("mcp_used", mcp_used),
                ("reset_5h_ms", reset_5h_ms),
                ("reset_weekly_ms", reset_weekly_ms),
                ("reset_mcp_ms", reset_mcp_ms),
            ):
                if value is not None:
                    setattr(self, attr, value)

    def set_mcp_window(self, unit: int, number: int) -> None:
        """Give the TIME_LIMIT row this length: (5, 1) monthly (default), (3, 5) five hours."""
        with self._lock:
            self.mcp_window = (unit, number)

    def set_limits(self, limits: list[Any] | None) -> None:
        """Serve these raw `data.limits` rows instead of the generated ones; None undoes it."""
        with self._lock:
            self._limits = limits

    def limits(self) -> list[Any]:
        """The `data.limits` rows the fake currently serves."""
        with self._lock:
            if self._limits is not None:
                return copy.deepcopy(self._limits)
            return [
                _row(self.limit_type, 3, 5, self.five_hour, self.reset_5h_ms),
                _row(self.limit_type, 6, 1, self.weekly, self.reset_weekly_ms),
                {
                    **_row(
                        "TIME_LIMIT",
                        *self.mcp_window,
                        self.mcp_used / self.mcp_total * 100,
                        self.reset_mcp_ms,
                    ),
                    "usage": self.mcp_total,
                    "currentValue": self.mcp_used,
                    "remaining": self.mcp_total - self.mcp_used,
                    "usageDetails": [{"modelCode": "search-prime", "usage": self.mcp_used}],
                },
            ]

    def _healthy(self, request: Request) -> Reply:
        body = {
            "code": 200,
            "msg": "Operation successful",
            "success": True,
            "data": {"level": self.level, "limits": self.limits()},
        }
        return Reply(json=body)

    def _authorized(self, request: Request) -> bool:
        value = request.headers.get("authorization", "").strip()
        bearer = value[:7].lower() == "bearer "
        if bearer:
            value = value[7:].strip()
        form_ok = self.accept == "both" or (self.accept == "bearer") == bearer
        return form_ok and value == self.key

    def _unauthorized(self, request: Request) -> Reply:
        return Reply(status=200, json=AUTH_ENVELOPE)

    def _extra_failure(self, mode: str) -> Reply | None:
        if mode == "auth_envelope":
            return Reply(status=200, json=AUTH_ENVELOPE)
        if mode == "error_envelope":
            return Reply(status=200, json=ERROR_ENVELOPE)
        return None


def _row(kind: str, unit: int, number: int, percent: float, reset_ms: int | None) -> dict[str, Any]:
    row: dict[str, Any] = {
        "type": kind,
        "unit": unit,
        "number": number,
        "percentage": round(percent),
    }
    if reset_ms is not None:
        row["nextResetTime"] = reset_ms
    return row


def zai_upstream(key: str = "zai-test-key", **kwargs: Any) -> ZaiFake:
    """Build and start a ZaiFake (keyword arguments as in ZaiFake); the caller stops it."""
    return ZaiFake(key, **kwargs).start()
