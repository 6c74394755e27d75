"""Instance-key and admin-token checks for the views."""

from __future__ import annotations

import hmac

from flask import current_app, request

from quota_sentinel import errors
from quota_sentinel.services.context import Context
from quota_sentinel.services.instances import Caller, authenticate

API_KEY_HEADER = "X-API-Key"


def context() -> Context:
    return current_app.extensions["quota_sentinel"]


def caller(instance_id: str | None = None) -> Caller:
    """The instance whose X-API-Key came with the request (must be `instance_id` if given)."""
    return authenticate(context(), request.headers.get(API_KEY_HEADER), instance_id)


def is_admin() -> bool:
    """True when the request carries `Authorization: Bearer <QUOTA_SENTINEL_ADMIN_TOKEN>`."""
    token = context().settings.admin_token
    header = request.headers.get("Authorization", "")
    if not token or not header.startswith("Bearer "):
        return False
    return hmac.compare_digest(header[len("Bearer ") :].encode(), token.encode())


def require_admin() -> None:
    if not context().settings.admin_token:
        raise errors.Forbidden("No QUOTA_SENTINEL_ADMIN_TOKEN is configured on this server.")
    if not is_admin():
        raise errors.Unauthorized("Send the admin token as Authorization: Bearer <token>.")
