"""/team: the team-wide quota view (who may read it: web/access.py, shared with the dashboard)."""

from __future__ import annotations

from flask.views import MethodView

from quota_sentinel.api.smorest import Blueprint
from quota_sentinel.services.team import team_view
from quota_sentinel.web.access import context, require_team_reader
from quota_sentinel.web.schemas.team import TeamSchema

blp = Blueprint(
    "team",
    __name__,
    url_prefix="/team",
    description="Every account and live instance: the team-wide quota view.",
)


@blp.route("")
class Team(MethodView):
    @blp.response(200, TeamSchema)
    def get(self):
        """Every account and live instance with windows, forecasts and history (admin token)"""
        require_team_reader()
        return team_view(context(), context().clock())
