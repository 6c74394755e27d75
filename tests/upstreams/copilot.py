"""Fake GitHub Copilot quota endpoints with the shapes of docs/providers.md (Copilot).

    fake = copilot_upstream(token="gho_test", username="octo-dev")   # started
    env = {"QUOTA_SENTINEL_COPILOT_BASE_URL": fake.url}
    fake.set_shape("free")     # paid, free, org_placeholder, legacy_free, unlimited, overage
    fake.fail("404"); fake.ok()        # copilot_internal/user answers 404 (no seat)
    fake.calls, fake.billing_calls

GET /copilot_internal/user accepts only `Authorization: token <token>` (the VS Code client's
scheme); anything else gets 401 with GitHub's "Bad credentials" body.
GET /users/<username>/settings/billing/premium_request/usage accepts only
`Authorization: Bearer <token>`, exists only for the configured username (another one is a 404,
as for an unknown route), needs integer `year` and `month` (400 otherwise) and reports the usage
items for the configured period (another period has none).
"""

from __future__ import annotations

import copy
from typing import Any

from tests.upstreams.provider_fake import FAILURE_MODES, ProviderFake
from tests.upstreams.server import Reply, Request

USER_PATH = "/copilot_internal/user"

COPILOT_FAILURE_MODES = FAILURE_MODES + ("404",)

BAD_CREDENTIALS = {
    "message": "Bad credentials",
    "documentation_url": "https://docs.github.com/rest",
}
NOT_FOUND = {"message": "Not Found", "documentation_url": "https://docs.github.com/rest"}


def billing_path(username: str) -> str:
    """The premium-request billing report path of `username`."""
    return f"/users/{username}/settings/billing/premium_request/usage"


def _bucket(entitlement: Any, remaining: Any, percent: Any, unlimited: bool, qid: str) -> dict:
    return {
        "entitlement": entitlement,
        "remaining": remaining,
        "percent_remaining": percent,
        "unlimited": unlimited,
        "quota_id": qid,
    }


def _unlimited(qid: str) -> dict[str, Any]:
    return _bucket(-1, -1, 100, True, qid)


SHAPES: dict[str, dict[str, Any]] = {
    "paid": {
        "copilot_plan": "pro",
        "token_based_billing": False,
        "assigned_date": "2025-11-03T10:22:41Z",
        "quota_reset_date": "2026-06-01",
        "quota_reset_date_utc": "2026-06-01T00:00:00.000Z",
        "quota_snapshots": {
            "premium_interactions": {
                **_bucket(300, 171, 57.1, False, "premium_interactions"),
                "quota_remaining": 171.4,
                "overage_permitted": True,
                "overage_count": 0,
            },
            "chat": _unlimited("chat"),
            "completions": _unlimited("completions"),
        },
    },
    "free": {
        "copilot_plan": "free",
        "access_type_sku": "free_limited_copilot",
        "quota_reset_date": "2026-06-01",
        "quota_snapshots": {
            "premium_interactions": _bucket(0, 0, 100, False, "premium_interactions"),
            "chat": _bucket(200, 150, 75.0, False, "chat"),
            "completions": _bucket(2000, 1500, 75.0, False, "completions"),
        },
    },
    "org_placeholder": {
        "copilot_plan": "business",
        "token_based_billing": True,
        "quota_reset_date": "2026-06-01",
        "quota_snapshots": {
            "premium_interactions": {
                **_bucket(0, 0, 100, False, "premium_interactions"),
                "credits_used": 12,
            },
            "chat": _unlimited("chat"),
            "completions": _unlimited("completions"),
        },
    },
    "unlimited": {
        "copilot_plan": "enterprise",
        "quota_reset_date_utc": "2026-06-01T00:00:00Z",
        "quota_snapshots": {
            "premium_interactions": _unlimited("premium_interactions"),
            "chat": _unlimited("chat"),
            "completions": _unlimited("completions"),
        },
    },
    # Over quota: one request past a 300 allowance. Not unlimited (`unlimited` is false).
    "overage": {
        "copilot_plan": "pro",
        "quota_reset_date_utc": "2026-06-01T00:00:00.000Z",
        "quota_snapshots": {
            "premium_interactions": {
                **_bucket(300, -1, -0.333, False, "premium_interactions"),
                "overage_permitted": True,
                "overage_count": 1,
            },
            "chat": _unlimited("chat"),
            "completions": _unlimited("completions"),
        },
    },
    "legacy_free": {
        "access_type_sku": "free_limited_copilot",
        "limited_user_reset_date": "2026-06-01",
        "monthly_quotas": {"chat": 50, "completions": 2000},
        "limited_user_quotas": {"chat": 10, "completions": 1500},
    },
}

DEFAULT_ITEMS = [
    {
        "product": "Copilot",
        "sku": "Copilot Premium Request",
        "model": "Claude Sonnet 4.5",
        "unitType": "requests",
        "pricePerUnit": 0.04,
        "grossQuantity": 212,
        "grossAmount": 8.48,
        "discountQuantity": 212,
        "discountAmount": 8.48,
        "netQuantity": 0,
        "netAmount": 0.0,
    },
    {
        "product": "Copilot",
        "sku": "Copilot Premium Request",
        "model": "GPT-5",
        "unitType": "requests",
        "pricePerUnit": 0.04,
        "grossQuantity": 31,
        "grossAmount": 1.24,
        "discountQuantity": 31,
        "discountAmount": 1.24,
        "netQuantity": 0,
        "netAmount": 0.0,
    },
]


class CopilotFake(ProviderFake):
    """A GitHub account with Copilot, answering copilot_internal/user and the billing report.

    Args:
        token: the GitHub token both endpoints accept.
        username: the login whose billing report exists.
        shape: the copilot_internal/user answer, a key of SHAPES.
        period: (year, month) the billing report has usage items for.
    """

    path = USER_PATH
    name = "copilot"

    def __init__(
        self,
        token: str = "gho_fake_copilot_token_0",
        *,
        username: str = "octo-dev",
        shape: str = "paid",
        period: tuple[int, int] = (2026, 5),
    ) -> None:
        super().__init__()
        self.token = token
        self.username = username
        self.period = period
        self._body: Any = copy.deepcopy(SHAPES[shape])
        self._items: Any = copy.deepcopy(DEFAULT_ITEMS)
        self.upstream.route("GET", billing_path(username), self._billing)

    def set_shape(self, shape: str) -> None:
        """Serve one of the SHAPES from copilot_internal/user."""
        self.set_body(SHAPES[shape])

    def set_body(self, body: Any) -> None:
        """Serve this raw copilot_internal/user answer."""
        with self._lock:
            self._body = copy.deepcopy(body)

    def set_items(self, items: Any) -> None:
        """Serve these raw `usageItems` in the billing report of the configured period."""
        with self._lock:
            self._items = copy.deepcopy(items)

    @property
    def billing_calls(self) -> int:
        """Requests received on the billing report path."""
        return self.upstream.count(billing_path(self.username))

    def _healthy(self, request: Request) -> Reply:
        with self._lock:
            return Reply(json=copy.deepcopy(self._body))

    def _authorized(self, request: Request) -> bool:
        return request.headers.get("authorization") == f"token {self.token}"

    def _unauthorized(self, request: Request) -> Reply:
        return Reply(status=401, json=BAD_CREDENTIALS)

    def _extra_failure(self, mode: str) -> Reply | None:
        return Reply(status=404, json=NOT_FOUND) if mode == "404" else None

    def _billing(self, request: Request) -> Reply:
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return Reply(status=401, json=BAD_CREDENTIALS)
        try:
            period = (int(request.query["year"]), int(request.query["month"]))
        except (KeyError, ValueError):
            return Reply(status=400, json={"message": "Invalid year or month"})
        with self._lock:
            items = copy.deepcopy(self._items) if period == self.period else []
        body = {
            "timePeriod": {"year": period[0], "month": period[1]},
            "user": self.username,
            "usageItems": items,
        }
        return Reply(json=body)


def copilot_upstream(**kwargs: Any) -> CopilotFake:
    """Build and start a CopilotFake (keyword arguments as in CopilotFake); the caller stops it."""
    return CopilotFake(**kwargs).start()
