"""Fake MiniMax `remains` endpoints (Token / Coding Plan), shapes of docs/providers.md (MiniMax).

    fake = minimax_upstream(key="sk-cp-minimax-test")   # started; stop() it or use `with`
    env = {"QUOTA_SENTINEL_MINIMAX_BASE_URL": fake.url}
    fake.set_lanes([lane("MiniMax-M*", interval_left=900), lane("video", status=3)])
    fake.set_path_status(token_plan=404)     # an older Coding Plan key: only coding_plan answers
    fake.fail("auth_envelope"); fake.ok()

Both paths serve the same account. Only `Authorization: Bearer <key>` is accepted; anything else
gets HTTP 401 with a `base_resp` body. HTTP-200 error envelopes (`base_resp.status_code != 0`)
are the extra failure modes in MINIMAX_FAILURE_MODES.
"""

from __future__ import annotations

import copy
import time
from typing import Any

from tests.upstreams.provider_fake import FAILURE_MODES, HOUR_MS, ProviderFake
from tests.upstreams.server import Reply, Request

TOKEN_PLAN_PATH = "/v1/token_plan/remains"
CODING_PLAN_PATH = "/v1/api/openplatform/coding_plan/remains"

ENVELOPES: dict[str, dict[str, Any]] = {
    "auth_envelope": {"status_code": 1004, "status_msg": "cookie is missing, log in again"},
    "invalid_key_envelope": {"status_code": 2049, "status_msg": "invalid api key"},
    "error_envelope": {"status_code": 1000, "status_msg": "unknown error, please retry"},
}
# MiniMax-specific failure modes, on top of FAILURE_MODES; all answer HTTP 200.
MINIMAX_FAILURE_MODES = FAILURE_MODES + tuple(ENVELOPES)


def lane(
    name: str = "MiniMax-M*",
    *,
    interval_total: Any = 1500,
    interval_left: Any = 1130,
    interval_pct: Any = None,
    weekly_total: Any = 15000,
    weekly_left: Any = 12410,
    weekly_pct: Any = None,
    status: int = 1,
    end_ms: Any = None,
    weekly_end_ms: Any = None,
    remains_ms: Any = 9_320_000,
    weekly_remains_ms: Any = 292_520_000,
    **extra: Any,
) -> dict[str, Any]:
    """One `model_remains` row; counts are REMAINING, as the real endpoint sends them.

    Args:
        name: `model_name` (e.g. "MiniMax-M*", "general", "video").
        interval_total / weekly_total: `current_*_total_count`.
        interval_left / weekly_left: `current_*_usage_count` (remaining requests).
        interval_pct / weekly_pct: `current_*_remaining_percent`; omitted when None.
        status: both `current_*_status` values (3 = placeholder).
        end_ms / weekly_end_ms: `end_time` / `weekly_end_time` (epoch ms); omitted when None.
        remains_ms / weekly_remains_ms: ms until the reset; omitted when None.
        extra: more fields, added as given.

    Returns:
        The row.
    """
    row: dict[str, Any] = {
        "model_name": name,
        "current_interval_total_count": interval_total,
        "current_interval_usage_count": interval_left,
        "current_interval_status": status,
        "current_weekly_total_count": weekly_total,
        "current_weekly_usage_count": weekly_left,
        "current_weekly_status": status,
    }
    optional = {
        "current_interval_remaining_percent": interval_pct,
        "current_weekly_remaining_percent": weekly_pct,
        "end_time": end_ms,
        "weekly_end_time": weekly_end_ms,
        "remains_time": remains_ms,
        "weekly_remains_time": weekly_remains_ms,
    }
    row.update({k: v for k, v in optional.items() if v is not None})
    row.update(extra)
    return row


def unnamed(**fields: Any) -> dict[str, Any]:
    """A `model_remains` row without `model_name`, as some answers send the coding lane
    (keywords as in `lane()`)."""
    row = lane(**fields)
    del row["model_name"]
    return row


def placeholder(name: str) -> dict[str, Any]:
    """A status-3 lane the plan does not include: zero counts, 100 % remaining."""
    return lane(
        name,
        interval_total=0,
        interval_left=0,
        interval_pct=100,
        weekly_total=0,
        weekly_left=0,
        weekly_pct=100,
        status=3,
    )


class MiniMaxFake(ProviderFake):
    """A MiniMax Coding Plan account: a `MiniMax-M*` text lane and a placeholder video lane.

    Args:
        key: the API key the fake accepts after "Bearer ".
        wrap_in_data: put `model_remains`, `base_resp` and the plan fields inside `data`.
        plan_title: `current_subscribe_title`, omitted when None.
    """

    path = TOKEN_PLAN_PATH
    name = "minimax"

    def __init__(
        self,
        key: str = "sk-cp-minimax-test-0000",
        *,
        wrap_in_data: bool = False,
        plan_title: str | None = None,
    ) -> None:
        super().__init__()
        self.upstream.route("GET", CODING_PLAN_PATH, self._serve)
        now_ms = int(time.time() * 1000)
        self.key = key
        self.wrap_in_data = wrap_in_data
        self.plan_title = plan_title
        self.path_status: dict[str, int | None] = {TOKEN_PLAN_PATH: None, CODING_PLAN_PATH: None}
        self._lanes: list[dict[str, Any]] = [
            lane(end_ms=now_ms + 2 * HOUR_MS, weekly_end_ms=now_ms + 80 * HOUR_MS),
            placeholder("video"),
        ]

    @property
    def calls(self) -> int:
        """Requests received on either `remains` path."""
        return self.upstream.count(TOKEN_PLAN_PATH) + self.upstream.count(CODING_PLAN_PATH)

    def set_lanes(self, lanes: list[Any]) -> None:
        """Serve these raw `model_remains` rows (see `lane()` and `placeholder()`)."""
        with self._lock:
            self._lanes = copy.deepcopy(lanes)

    def set_path_status(
        self, *, token_plan: int | None = None, coding_plan: int | None = None
    ) -> None:
        """Make a path answer only this HTTP status (404, 405, 401, …); None serves it."""
        with self._lock:
            self.path_status = {TOKEN_PLAN_PATH: token_plan, CODING_PLAN_PATH: coding_plan}

    def _serve(self, request: Request) -> Reply:
        with self._lock:
            status = self.path_status.get(request.path)
        if status is not None:
            return Reply(status=status, json={"error": f"HTTP {status}"})
        return super()._serve(request)

    def _body(self, base_resp: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            content: dict[str, Any] = {"model_remains": copy.deepcopy(self._lanes)}
            if self.plan_title is not None:
                content["current_subscribe_title"] = self.plan_title
            wrap = self.wrap_in_data
        content["base_resp"] = base_resp
        return {"data": content} if wrap else content

    def _healthy(self, request: Request) -> Reply:
        return Reply(json=self._body({"status_code": 0, "status_msg": "success"}))

    def _authorized(self, request: Request) -> bool:
        return request.headers.get("authorization", "") == f"Bearer {self.key}"

    def _unauthorized(self, request: Request) -> Reply:
        return Reply(
            status=401,
            json={"base_resp": {"status_code": 1004, "status_msg": "login fail: invalid api key"}},
        )

    def _extra_failure(self, mode: str) -> Reply | None:
        if mode in ENVELOPES:
            return Reply(json={"model_remains": [], "base_resp": dict(ENVELOPES[mode])})
        return None


def minimax_upstream(key: str = "sk-cp-minimax-test-0000", **kwargs: Any) -> MiniMaxFake:
    """Build and start a MiniMaxFake (keywords as in MiniMaxFake); the caller stops it."""
    return MiniMaxFake(key, **kwargs).start()
