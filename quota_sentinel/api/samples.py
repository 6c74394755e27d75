"""/samples: the stored utilization history, in the trace format of `quota-sentinel replay`."""

from __future__ import annotations

from flask import request
from flask.views import MethodView

from quota_sentinel.api.smorest import Blueprint
from quota_sentinel.services.samples import export_samples
from quota_sentinel.web.access import API_KEY_HEADER, caller, context, is_admin, require_admin
from quota_sentinel.web.schemas.samples import SamplesQueryArgsSchema, SamplesSchema

blp = Blueprint(
    "samples",
    __name__,
    url_prefix="/samples",
    description="Recorded utilization samples, for backtests.",
)


@blp.route("")
class Samples(MethodView):
    @blp.arguments(SamplesQueryArgsSchema, location="query")
    @blp.response(200, SamplesSchema)
    def get(self, args):
        """Sample history of the caller's accounts (or of every account, with the admin token)"""
        ctx = context()
        if "Authorization" in request.headers and API_KEY_HEADER not in request.headers:
            require_admin()  # a token that is not the admin one: say so, not "send your key"
        inst = None if is_admin() else caller().instance
        return {"samples": export_samples(ctx, inst, args["since"])}
