"""/providers: the caller's accounts with their windows and forecasts."""

from __future__ import annotations

from flask.views import MethodView

from quota_sentinel.api.smorest import Blueprint
from quota_sentinel.services.status import provider_detail, providers_for_instance
from quota_sentinel.web.access import caller, context
from quota_sentinel.web.schemas.status import ProviderDetailSchema, ProviderMapSchema

blp = Blueprint(
    "providers",
    __name__,
    url_prefix="/providers",
    description="Usage and forecasts of the caller's provider accounts.",
)

PROVIDER_MAP = {
    "type": "object",
    "additionalProperties": {"$ref": "#/components/schemas/ProviderStatus"},
}


@blp.route("")
class Providers(MethodView):
    @blp.response(200, ProviderMapSchema)
    @blp.doc(responses={"200": {"content": {"application/json": {"schema": PROVIDER_MAP}}}})
    def get(self):
        """Every provider of the calling instance: status and windows"""
        ctx = context()
        now = ctx.clock()
        who = caller(now=now)  # the key, the instance and its accounts: one round trip
        return providers_for_instance(ctx, who.instance, now, who.reads)


@blp.route("/<string:name>")
class ProviderByName(MethodView):
    @blp.response(200, ProviderDetailSchema)
    def get(self, name):
        """The caller's account of one provider, with its subscribers"""
        return provider_detail(context(), caller().instance, name, context().clock())
