"""/status: an instance's TOKEN_STATUS with its recommendation."""

from __future__ import annotations

from flask.views import MethodView

from quota_sentinel import errors
from quota_sentinel.api.smorest import Blueprint
from quota_sentinel.services.status import status_for_instance
from quota_sentinel.web.access import caller, context, is_admin
from quota_sentinel.web.schemas.status import TokenStatusSchema

blp = Blueprint(
    "status", __name__, url_prefix="/status", description="What an instance should do now."
)


@blp.route("")
class Status(MethodView):
    @blp.response(200, TokenStatusSchema)
    def get(self):
        """The calling instance's status and recommendation"""
        ctx = context()
        now = ctx.clock()
        who = caller(now=now)  # the key, the instance and its accounts: one round trip
        return status_for_instance(ctx, who.instance, now, who.reads)


@blp.route("/<string:instance_id>")
class StatusById(MethodView):
    @blp.response(200, TokenStatusSchema)
    def get(self, instance_id):
        """One instance's status (its own X-API-Key, or the admin token)"""
        ctx = context()
        if is_admin():
            inst = ctx.store.instances.get(instance_id)
            if inst is None:
                raise errors.NotFound(f"No live instance {instance_id!r}.")
            return status_for_instance(ctx, inst, ctx.clock())
        now = ctx.clock()
        who = caller(instance_id, now=now)
        return status_for_instance(ctx, who.instance, now, who.reads)
