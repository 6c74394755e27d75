"""The team view page at `/`: sign-in with the admin token, the page itself, and its JSON data.

Access follows /v1/team: with QUOTA_SENTINEL_ADMIN_TOKEN set, the token is entered once in a
form and remembered in an HttpOnly, SameSite=Strict cookie; without it, only loopback callers
see the page (what `quota-sentinel start` serves on a laptop).
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from flask import Blueprint, Response, redirect, render_template, request, url_for

from quota_sentinel import __version__, errors
from quota_sentinel.services.limits import enforce_rate
from quota_sentinel.services.team import team_view
from quota_sentinel.web.access import LOOPBACK_ONLY, context, from_loopback, require_team_reader
from quota_sentinel.web.schemas.team import TeamSchema

blp = Blueprint(
    "dashboard",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/dashboard/static",
)

COOKIE = "qs_dashboard"
COOKIE_MAX_AGE_S = 90 * 24 * 3600
REFRESH_S = 15
# Sign-in attempts per minute per client address.
SIGN_IN_RATE_PER_MIN = 10
_SESSION_CONTEXT = b"quota-sentinel dashboard session v1"
_SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


def session_value(token: str) -> str:
    """What the cookie holds: derived from the admin token, not the token itself, so a copied
    cookie is no bearer token for /v1, and changing the token signs every browser out."""
    return hmac.new(token.encode(), _SESSION_CONTEXT, hashlib.sha256).hexdigest()


def signed_in() -> bool:
    token = context().settings.admin_token
    cookie = request.cookies.get(COOKIE, "")
    if not token or not cookie:
        return False
    return hmac.compare_digest(cookie.encode(), session_value(token).encode())


def _https() -> bool:
    forwarded = request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower()
    return request.is_secure or forwarded == "https"


def _refresh_s() -> int:
    """The auto-refresh period: `?refresh=<seconds>` (1–3600), else REFRESH_S."""
    value = request.args.get("refresh", type=int)
    return min(max(value, 1), 3600) if value else REFRESH_S


def _page_args() -> dict[str, int]:
    """The page's own query (the refresh period), kept across signing in and out."""
    return {"refresh": _refresh_s()} if "refresh" in request.args else {}


def _render(template: str, status: int = 200, **values: Any) -> tuple[str, int]:
    page = render_template(
        f"dashboard/{template}.html", version=__version__, page_args=_page_args(), **values
    )
    return page, status


@blp.after_request
def _protect(response: Response) -> Response:
    response.headers.update(_SECURITY_HEADERS)
    if request.endpoint != "dashboard.static":
        response.headers["Cache-Control"] = "no-store"
    return response


@blp.get("/")
def page():
    """The team view, the sign-in form, or why this address may not see it."""
    ctx = context()
    if not ctx.settings.admin_token:
        if not from_loopback():
            return _render("refused", 403, message=LOOPBACK_ONLY)
        access = "loopback"
    elif signed_in():
        access = "token"
    else:
        stale = "Your saved sign-in no longer matches this server's admin token; enter it again."
        note = stale if request.cookies.get(COOKIE) else None
        return _render("sign_in", error=note)
    data = _TEAM.dump(team_view(ctx, ctx.clock()))
    return _render("index", access=access, data=data, refresh_s=_refresh_s())


@blp.post("/dashboard/sign-in")
def sign_in():
    """Checks the admin token from the form and remembers it in the session cookie."""
    ctx = context()
    token = ctx.settings.admin_token
    if not token:
        return redirect(url_for(".page", **_page_args()), 303)
    try:
        bucket = f"sign-in:{request.remote_addr or '-'}"
        enforce_rate(ctx, bucket, SIGN_IN_RATE_PER_MIN, ctx.clock(), "Too many sign-in attempts")
    except errors.RateLimited as exc:
        body, status = _render("sign_in", 429, error=exc.message)
        return body, status, {"Retry-After": str(exc.retry_after_s)}
    given = request.form.get("token", "").strip()
    if not hmac.compare_digest(given.encode(), token.encode()):
        error = "That is not this server's admin token."
        return _render("sign_in", 401, error=error)
    response = redirect(url_for(".page", **_page_args()), 303)
    response.set_cookie(
        COOKIE,
        session_value(token),
        max_age=COOKIE_MAX_AGE_S,
        path="/",
        secure=_https(),
        httponly=True,
        samesite="Strict",
    )
    return response


@blp.post("/dashboard/sign-out")
def sign_out():
    """Forgets the session cookie."""
    response = redirect(url_for(".page", **_page_args()), 303)
    response.delete_cookie(COOKIE, path="/", secure=_https(), httponly=True, samesite="Strict")
    return response


@blp.get("/dashboard/data")
def data():
    """The page's refresh: the same JSON as GET /v1/team, for the session cookie."""
    require_team_reader(signed_in=signed_in())
    ctx = context()
    return _TEAM.dump(team_view(ctx, ctx.clock()))


_TEAM = TeamSchema()  # built once: building a schema deep-copies its fields
