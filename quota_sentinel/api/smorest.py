"""The project's flask-smorest Api: one envelope `{error, message, details?}` for every failure."""

from __future__ import annotations

import logging
from typing import Any

import flask_smorest
from flask import request
from werkzeug.exceptions import HTTPException

from quota_sentinel.web.schemas.common import ErrorSchema

log = logging.getLogger(__name__)

# HTTP status → (machine code, default sentence).
_STATUS_TEXT: dict[int, tuple[str, str]] = {
    400: ("bad_request", "The request could not be understood."),
    401: ("unauthorized", "Authentication is required."),
    403: ("forbidden", "You are not allowed to do this."),
    404: ("not_found", "There is nothing at this address."),
    405: ("method_not_allowed", "This method is not allowed on this address."),
    413: ("payload_too_large", "The request body is too large."),
    415: ("unsupported_media_type", "Send the body as JSON (Content-Type: application/json)."),
    422: ("validation_error", "The request body is not valid; see details for each field."),
    429: ("rate_limited", "Too many requests; slow down."),
    500: ("internal_error", "Something went wrong on the server; the error was logged."),
    503: ("unavailable", "The service is unavailable; try again shortly."),
}


def envelope(
    status: int,
    message: str | None = None,
    code: str | None = None,
    details: dict[str, Any] | None = None,
) -> dict[str, Any]:
    default_code, default_message = _STATUS_TEXT.get(status, ("error", "The request failed."))
    body: dict[str, Any] = {"error": code or default_code, "message": message or default_message}
    if details:
        body["details"] = details
    return body


def _validation_details(messages: Any) -> dict[str, Any]:
    # webargs nests messages under the location ("json", "query"); people want field names.
    if isinstance(messages, dict) and len(messages) == 1:
        ((location, fields),) = messages.items()
        if isinstance(fields, dict):
            return {"location": location, "fields": fields}
    return {"fields": messages}


class Api(flask_smorest.Api):
    ERROR_SCHEMA = ErrorSchema

    def handle_http_exception(self, error: HTTPException):
        status = error.code or 500
        data = getattr(error, "data", None) or {}
        headers = data.get("headers") or {}
        if status == 500:
            original = getattr(error, "original_exception", None)
            log.error("unhandled error", exc_info=original or error)
            return envelope(500), 500
        if status == 400 and data.get("messages") == {"json": ["Invalid JSON body."]}:
            return envelope(400, "The request body is not valid JSON.", "malformed_json"), 400
        if status == 422:
            return envelope(422, details=_validation_details(data.get("messages"))), 422, headers
        if status == 413:
            return envelope(413, "The request body is larger than the 1 MiB limit."), 413
        if status == 404 and not data:
            return envelope(404, f"No such endpoint: {request.method} {request.path}."), 404
        return envelope(status, data.get("message")), status, headers


class Blueprint(flask_smorest.Blueprint):
    """The project's blueprint class (a seam for shared view decorators)."""

    def arguments(self, schema, *args: Any, **kwargs: Any):
        """As flask-smorest's, with a schema class instantiated once here: webargs would build
        a new instance (deep-copying every field) on every request."""
        if isinstance(schema, type):
            schema = schema()
        return super().arguments(schema, *args, **kwargs)
