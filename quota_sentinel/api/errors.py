"""Maps domain errors, a Redis outage and unexpected failures onto the one error envelope."""

from __future__ import annotations

import logging

import redis
from flask import Flask, request

from quota_sentinel import errors
from quota_sentinel.api.smorest import envelope

log = logging.getLogger(__name__)


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(errors.QuotaSentinelError)
    def _domain(error: errors.QuotaSentinelError):
        headers = {}
        if isinstance(error, errors.RateLimited):
            headers["Retry-After"] = str(error.retry_after_s)
        if error.status >= 500:
            log.error("%s: %s", error.code, error.message)
        return (
            envelope(error.status, error.message, error.code, error.details),
            error.status,
            headers,
        )

    @app.errorhandler(redis.ConnectionError)
    @app.errorhandler(redis.TimeoutError)
    def _redis_down(error: redis.RedisError):
        log.warning("Redis unreachable: %s", type(error).__name__)
        message = "The service cannot reach its Redis database; try again shortly."
        return envelope(503, message, "redis_unavailable"), 503, {"Retry-After": "5"}

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        # Handled here rather than by Flask's default, which would log the traceback and then
        # hand over to the HTTP-exception handler that logs it a second time.
        log.error("unexpected error on %s %s", request.method, request.path, exc_info=error)
        return envelope(500), 500
