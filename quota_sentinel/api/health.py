"""/health: is Redis reachable, when did a worker last poll, which version runs."""

from __future__ import annotations

from flask.views import MethodView

from quota_sentinel.api.smorest import Blueprint
from quota_sentinel.services.health import health
from quota_sentinel.web.access import context
from quota_sentinel.web.schemas.status import HealthSchema

blp = Blueprint("health", __name__, url_prefix="/health", description="Liveness.")


@blp.route("")
class Health(MethodView):
    @blp.response(200, HealthSchema)
    @blp.alt_response(503, schema=HealthSchema, description="Redis is unreachable")
    def get(self):
        """Redis reachable, scheduler ticking, last poll age, workers, version; 503 when Redis
        is down (a late scheduler is 200 with status "degraded": this replica still serves)"""
        report = health(context(), context().clock())
        return report, (503 if report["status"] == "unavailable" else 200)
