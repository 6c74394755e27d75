"""The health report shared by /v1/health and `quota-sentinel health`."""

from __future__ import annotations

from typing import Any

import redis

from quota_sentinel import __version__
from quota_sentinel.services.alerts import webhooks_health
from quota_sentinel.services.context import Context


def health(ctx: Context, now: float) -> dict[str, Any]:
    """Redis reachability, workers alive, age of the latest poll (s), version, and the webhook
    receivers given up on."""
    try:
        # Three small reads, one round trip each (a failing one is Redis being unreachable).
        last = ctx.store.last_poll_at()
        workers = ctx.jobs.worker_count()
        webhooks = webhooks_health(ctx)
    except redis.RedisError:
        return {
            "status": "unavailable",
            "redis": "unreachable",
            "version": __version__,
            "last_poll_age_s": None,
            "workers": None,
            "webhooks": None,
        }
    return {
        "status": "ok",
        "redis": "ok",
        "version": __version__,
        "last_poll_age_s": round(now - last, 1) if last else None,
        "workers": workers,
        "webhooks": webhooks,
    }
