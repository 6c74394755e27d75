"""The Flask app factory: logging, services context, smorest Api, blueprints, error handlers."""

from __future__ import annotations

import re
import secrets

from flask import Blueprint, Flask, Response, g, request
from werkzeug.middleware.proxy_fix import ProxyFix

from quota_sentinel import __version__
from quota_sentinel.api import (
    docs,
    health,
    instances,
    metrics,
    poll,
    providers,
    samples,
    status,
    team,
)
from quota_sentinel.api.errors import register_error_handlers
from quota_sentinel.api.schemas.status import ProviderStatusSchema
from quota_sentinel.api.smorest import Api
from quota_sentinel.config import Settings
from quota_sentinel.logconfig import configure_logging, log_context
from quota_sentinel.services.context import Context

API_PREFIX = "/v1"
BLUEPRINTS = (instances, status, providers, poll, samples, health, team, metrics)
_REQUEST_ID = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")


def create_app(settings: Settings | None = None, context: Context | None = None) -> Flask:
    """Builds the web app. Nothing connects until the first request needs Redis."""
    settings = settings or Settings.from_env()
    configure_logging(settings, "web")
    app = Flask(__name__)
    app.config.update(
        MAX_CONTENT_LENGTH=settings.max_body_bytes,
        API_TITLE="quota-sentinel",
        API_VERSION=__version__,
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX=API_PREFIX,
        OPENAPI_JSON_PATH="openapi.json",
    )
    app.extensions["quota_sentinel"] = context or Context.build(settings)
    api = Api(app)
    api.spec.components.schema("ProviderStatus", schema=ProviderStatusSchema)
    for module in BLUEPRINTS:
        api.register_blueprint(module.blp, url_prefix=API_PREFIX + module.blp.url_prefix)
    app.register_blueprint(docs.blp, url_prefix=API_PREFIX)
    app.register_blueprint(_dashboard_blueprint())
    register_error_handlers(app)
    metrics.instrument(app, settings)
    app.before_request(_stamp_request_id)
    app.after_request(_echo_request_id)
    if settings.trust_proxy_hops:
        # Behind N trusted proxies (Fly, Render, nginx) the client address and scheme come from
        # their X-Forwarded-* headers; without this every client would share the proxy's
        # address, and so one registration rate limit.
        hops = settings.trust_proxy_hops
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    return app


def _dashboard_blueprint() -> Blueprint:
    # Imported here: the dashboard imports api.team, so a top-level import would make the
    # result depend on which of the two packages is imported first.
    from quota_sentinel.dashboard.views import blp

    return blp


def _stamp_request_id() -> None:
    incoming = request.headers.get("X-Request-Id", "")
    g.request_id = incoming if _REQUEST_ID.match(incoming) else secrets.token_hex(8)
    log_context.set(g.request_id)


def _echo_request_id(response: Response) -> Response:
    response.headers["X-Request-Id"] = g.get("request_id", "-")
    return response
