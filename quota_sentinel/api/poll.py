"""/poll: ask for an immediate poll of the caller's accounts (debounced by the min poll gap)."""

from __future__ import annotations

from flask.views import MethodView

from quota_sentinel.api.smorest import Blueprint
from quota_sentinel.services.instances import request_poll
from quota_sentinel.services.limits import limit_poll_requests
from quota_sentinel.web.access import caller, context
from quota_sentinel.web.schemas.instances import PollResultSchema

blp = Blueprint("poll", __name__, url_prefix="/poll", description="Poll now.")


@blp.route("")
class Poll(MethodView):
    @blp.response(202, PollResultSchema)
    def post(self):
        """Poll the caller's accounts now, or as soon as the minimum poll gap allows"""
        ctx, who = context(), caller()
        limit_poll_requests(ctx, who.instance.id, ctx.clock())
        return request_poll(ctx, who, ctx.clock())
