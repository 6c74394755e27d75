"""The /v1 JSON API: the smorest Api, one blueprint per resource, and the docs page."""

from __future__ import annotations

from flask import Flask

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
from quota_sentinel.api.smorest import Api
from quota_sentinel.web.schemas.status import ProviderStatusSchema

API_PREFIX = "/v1"
BLUEPRINTS = (instances, status, providers, poll, samples, health, team, metrics)


def init_api(app: Flask) -> Api:
    """Registers every /v1 route, the OpenAPI document and its page on `app`; returns the Api."""
    app.config.update(
        API_TITLE="quota-sentinel",
        API_VERSION=__version__,
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX=API_PREFIX,
        OPENAPI_JSON_PATH="openapi.json",
    )
    api = Api(app)
    api.spec.components.schema("ProviderStatus", schema=ProviderStatusSchema)
    for module in BLUEPRINTS:
        api.register_blueprint(module.blp, url_prefix=API_PREFIX + module.blp.url_prefix)
    app.register_blueprint(docs.blueprint(api), url_prefix=API_PREFIX)
    return api
