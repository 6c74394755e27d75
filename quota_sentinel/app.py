"""The Flask app factory, above both web edges: the /v1 API (api/) and the team page."""

from __future__ import annotations

import re
import secrets

from flask import Flask, Response, g, request
from werkzeug.middleware.proxy_fix import ProxyFix

from quota_sentinel.api import init_api
from quota_sentinel.api.errors import register_error_handlers
from quota_sentinel.api.metrics import instrument
from quota_sentinel.config import Settings
from quota_sentinel.dashboard.views import blp as dashboard
from quota_sentinel.logconfig import configure_logging, log_context
from quota_sentinel.services.context import Context
from quota_sentinel.web.headers import add_security_headers

_REQUEST_ID = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")


def create_app(settings: Settings | None = None, context: Context | None = None) -> Flask:
    """Builds the web app. Nothing connects until the first request needs Redis."""
    settings = settings or Settings.from_env()
    configure_logging(settings, "web")
    app = Flask(__name__)
    app.config.update(MAX_CONTENT_LENGTH=settings.max_body_bytes)
    app.extensions["quota_sentinel"] = context or Context.build(settings)
    init_api(app)
    app.register_blueprint(dashboard)
    register_error_handlers(app)
    instrument(app, settings)
    app.before_request(_stamp_request_id)
    app.after_request(_echo_request_id)
    app.after_request(add_security_headers)
    if settings.trust_proxy_hops:
        # Behind N trusted proxies (Fly, Render, nginx) the client address and scheme come from
        # their X-Forwarded-* headers; without this every client would share the proxy's
        # address, and so one registration rate limit.
        hops = settings.trust_proxy_hops
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    return app


def _stamp_request_id() -> None:
    incoming = request.headers.get("X-Request-Id", "")
    g.request_id = incoming if _REQUEST_ID.match(incoming) else secrets.token_hex(8)
    log_context.set(g.request_id)


def _echo_request_id(response: Response) -> Response:
    response.headers["X-Request-Id"] = g.get("request_id", "-")
    return response
