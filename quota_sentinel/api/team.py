"""/team: the team-wide quota view, and who may read it (shared with the dashboard)."""

from __future__ import annotations

import ipaddress

from flask import request
from flask.views import MethodView

from quota_sentinel import errors
from quota_sentinel.api.auth import context, is_admin
from quota_sentinel.api.schemas.team import TeamSchema
from quota_sentinel.api.smorest import Blueprint
from quota_sentinel.services.team import team_view

blp = Blueprint(
    "team",
    __name__,
    url_prefix="/team",
    description="Every account and live instance: the team-wide quota view.",
)

LOOPBACK_ONLY = (
    "No QUOTA_SENTINEL_ADMIN_TOKEN is configured on this server, so the team view is served "
    "only to this machine (loopback); set the token to share it with your team."
)
# A proxy in front of the app on the same machine would make every visitor look local.
_FORWARDED = ("Forwarded", "X-Forwarded-For", "X-Real-Ip")


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


@blp.route("")
class Team(MethodView):
    @blp.response(200, TeamSchema)
    def get(self):
        """Every account and live instance with windows, forecasts and history (admin token)"""
        require_team_reader()
        return team_view(context(), context().clock())
