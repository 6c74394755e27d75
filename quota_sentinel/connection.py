"""Redis connections: REDIS_URL when set, otherwise the embedded server of the data dir."""

from __future__ import annotations

import redis

from quota_sentinel.config import Settings
from quota_sentinel.embedded import embedded_url


def redis_url(settings: Settings) -> str:
    """REDIS_URL, or the unix socket of the embedded server that `quota-sentinel start` runs."""
    return settings.redis_url or embedded_url(settings.data_dir)


def connect(settings: Settings, *, decode_responses: bool = True) -> redis.Redis:
    """A client for the store (decoded text) or, with decode_responses=False, for RQ.

    Connecting is lazy: nothing is sent until the first command, so building a client for a
    server that is down does not fail; the first command raises redis.ConnectionError.
    """
    return redis.Redis.from_url(
        redis_url(settings),
        decode_responses=decode_responses,
        socket_timeout=5,
        socket_connect_timeout=3,
        health_check_interval=30,
    )
