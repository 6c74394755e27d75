"""Who may call what: the instance key, the admin token and the loopback rule, for API and page."""

from __future__ import annotations

import hmac
import ipaddress

from flask import current_app, request

from quota_sentinel import errors
from quota_sentinel.services.context import Context
from quota_sentinel.services.instances import Caller, authenticate

API_KEY_HEADER = "X-API-Key"
LOOPBACK_ONLY = (
    "No QUOTA_SENTINEL_ADMIN_TOKEN is configured on this server, so the team view is served "
    "only to this machine (loopback); set the token to share it with your team."
)
# A proxy in front of the app on the same machine would make every visitor look local.
_FORWARDED = ("Forwarded", "X-Forwarded-For", "X-Real-Ip")


def context() -> Context:
    """The services context `create_app` put into this app."""
    return current_app.extensions["quota_sentinel"]


def caller(instance_id: str | None = None, now: float | None = None) -> Caller:
    """The instance whose X-API-Key came with the request (must be `instance_id` if given);
    with `now`, its accounts are read in the same round trip (`Caller.reads`)."""
    return authenticate(context(), request.headers.get(API_KEY_HEADER), instance_id, now)


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


def from_loopback() -> bool:
    """True for a request from 127.0.0.0/8 or ::1 that no proxy says it forwarded."""
    if any(name in request.headers for name in _FORWARDED):
        return False
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return (mapped or address).is_loopback


def require_team_reader(signed_in: bool = False) -> None:
    """The admin bearer token (or a dashboard session: `signed_in`) is required; with no admin
    token configured, only loopback callers are let in.

    Raises:
        errors.Forbidden: no admin token configured and the caller is not on loopback.
        errors.Unauthorized: an admin token is configured and the caller did not present it.
    """
    if not context().settings.admin_token:
        if from_loopback():
            return
        raise errors.Forbidden(LOOPBACK_ONLY)
    if not (signed_in or is_admin()):
        raise errors.Unauthorized("Send the admin token as Authorization: Bearer <token>.")
