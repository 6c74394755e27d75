"""/instances: register, deregister and heartbeat."""

from __future__ import annotations

from flask import request
from flask.views import MethodView

from quota_sentinel.api.smorest import Blueprint
from quota_sentinel.services import instances
from quota_sentinel.web.access import API_KEY_HEADER, caller, context
from quota_sentinel.web.schemas.common import OkSchema
from quota_sentinel.web.schemas.instances import (
    HeartbeatResultSchema,
    HeartbeatSchema,
    InstanceCreatedSchema,
    InstanceCreateSchema,
)

blp = Blueprint(
    "instances",
    __name__,
    url_prefix="/instances",
    description="Register agents and keep them alive.",
)


@blp.route("")
class Instances(MethodView):
    @blp.arguments(InstanceCreateSchema)
    @blp.response(201, InstanceCreatedSchema)
    def post(self, body):
        """Register an instance; the answer carries its API key (shown once)"""
        client = request.remote_addr or "unknown"
        reg = instances.register_instance(context(), body, client, context().clock())
        return reg.__dict__


@blp.route("/<string:instance_id>")
class InstanceById(MethodView):
    @blp.response(200, OkSchema)
    def delete(self, instance_id):
        """Deregister an instance (needs its own X-API-Key)"""
        instances.deregister_instance(context(), caller(instance_id))
        return {"status": "ok"}


@blp.route("/<string:instance_id>/heartbeat")
class InstanceHeartbeat(MethodView):
    @blp.arguments(HeartbeatSchema)
    @blp.response(200, HeartbeatResultSchema)
    def patch(self, body, instance_id):
        """Keep an instance alive; optionally change its state or send fresh credentials"""
        return instances.heartbeat(
            context(),
            request.headers.get(API_KEY_HEADER),
            instance_id,
            body.get("state"),
            body.get("auth"),
            context().clock(),
        )
