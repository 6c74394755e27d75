"""The health report shared by /v1/health and `quota-sentinel health`."""

from __future__ import annotations

from typing import Any

import redis

from quota_sentinel import __version__
from quota_sentinel.jobs import TICK_LATE_AFTER_S
from quota_sentinel.services.alerts import webhooks_health
from quota_sentinel.services.context import Context


def _age(now: float, at: float | None) -> float | None:
    return round(now - at, 1) if at else None


def health(ctx: Context, now: float) -> dict[str, Any]:
    """Redis reachability, workers alive, age of the latest poll and of the latest scheduler
    tick (s), version, and the webhook receivers given up on.

    `status` is "ok", "degraded" (Redis answers but no scheduler tick ran for
    TICK_LATE_AFTER_S: polls have stopped; the API still answers) or "unavailable" (Redis
    is unreachable).
    """
    try:
        reads = ctx.store.health_reads(ctx.jobs.worker_set)
    except redis.RedisError:
        return {
            "status": "unavailable",
            "redis": "unreachable",
            "scheduler": "unknown",
            "version": __version__,
            "last_poll_age_s": None,
            "last_tick_age_s": None,
            "workers": None,
            "webhooks": None,
        }
    tick_age = _age(now, reads.last_tick_at)
    ticking = tick_age is not None and tick_age <= TICK_LATE_AFTER_S
    return {
        "status": "ok" if ticking else "degraded",
        "redis": "ok",
        "scheduler": "ok" if ticking else "late",
        "version": __version__,
        "last_poll_age_s": _age(now, reads.last_poll_at),
        "last_tick_age_s": tick_age,
        "workers": reads.workers,
        "webhooks": webhooks_health(ctx, reads.receivers_down),
    }
