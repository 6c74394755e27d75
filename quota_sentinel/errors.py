"""Domain exceptions: each carries a machine code, an HTTP status and a sentence for a person."""

from __future__ import annotations

from typing import Any


class QuotaSentinelError(Exception):
    """Base of every error the services raise on purpose."""

    code = "error"
    status = 500

    def __init__(self, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class ConfigError(QuotaSentinelError):
    """A setting cannot be used; raised at start-up, before anything is served."""

    code = "config_error"


class BadRequest(QuotaSentinelError):
    code = "bad_request"
    status = 400


class Unauthorized(QuotaSentinelError):
    code = "unauthorized"
    status = 401


class Forbidden(QuotaSentinelError):
    code = "forbidden"
    status = 403


class NotFound(QuotaSentinelError):
    code = "not_found"
    status = 404


class ValidationFailed(QuotaSentinelError):
    code = "validation_error"
    status = 422


class RateLimited(QuotaSentinelError):
    code = "rate_limited"
    status = 429

    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(message, {"retry_after_s": retry_after_s})
        self.retry_after_s = retry_after_s


class Unavailable(QuotaSentinelError):
    code = "unavailable"
    status = 503
