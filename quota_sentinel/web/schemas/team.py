"""Schemas of /v1/team (also the dashboard's data): accounts, their windows and live instances.

Only the fields declared here are dumped, so nothing else a service might add (let alone a
credential) can reach a response.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

import marshmallow as ma

from quota_sentinel.web.schemas.fields import Moment, Rounded
from quota_sentinel.web.schemas.phrasing import error_headline, outlook_text
from quota_sentinel.web.schemas.status import STATUS, AllocationSchema, WindowSchema


class TeamWindowSchema(WindowSchema):
    runs_out_in_min = Rounded(
        1,
        metadata={
            "description": "minutes until the cap at the current velocity, when that "
            "comes before the reset"
        },
    )
    resets_in_min = Rounded(1, metadata={"description": "minutes"})
    outlook = ma.fields.Function(
        outlook_text,
        metadata={
            "type": "string",
            "description": 'e.g. "runs out in ~3 h 20 min", "lasts until reset (in 2 h)"',
        },
    )
    history = ma.fields.List(
        ma.fields.List(ma.fields.Float()),
        metadata={"description": "[[epoch s, utilization %], …] oldest first, at most 60 points"},
    )
    history_span_s = ma.fields.Float(metadata={"description": "seconds of history covered"})


class TeamAccountSchema(ma.Schema):
    provider = ma.fields.String()
    fingerprint = ma.fields.String()
    label = ma.fields.String(metadata={"description": "provider · plan · short fingerprint"})
    plan = ma.fields.String(allow_none=True)
    status = ma.fields.String(metadata={"description": STATUS + " (worst window)"})
    stale = ma.fields.Boolean(metadata={"description": "the last poll failed; data is older"})
    error = ma.fields.String(allow_none=True, metadata={"description": "the last poll's error"})
    error_code = ma.fields.String(allow_none=True)
    error_headline = ma.fields.Function(
        error_headline, metadata={"type": "string", "nullable": True}
    )
    polled_at = Moment(allow_none=True, metadata={"type": "string", "description": "ISO-8601"})
    polled_age_s = Rounded(0, metadata={"type": "integer"})
    data_at = Moment(allow_none=True, metadata={"type": "string", "description": "ISO-8601"})
    data_age_s = Rounded(0, metadata={"type": "integer"})
    subscribers = ma.fields.Integer(metadata={"description": "live instances using the account"})
    projects = ma.fields.List(ma.fields.String())
    poll_interval_s = ma.fields.Integer()
    windows = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Nested(TeamWindowSchema))


# Within one TeamSchema dump: id(value) → (value, its serialized form) of SharedDict fields.
_SHARED: ContextVar[dict[int, tuple[Any, Any]] | None] = ContextVar("team_shared", default=None)


class SharedDict(ma.fields.Dict):
    """A Dict field whose values many rows share (an instance's allocation is the same object for
    every instance that sees its accounts alike): within one TeamSchema dump, each distinct
    value is serialized once."""

    def _serialize(self, value, attr, obj, **kwargs):
        shared = _SHARED.get()
        if shared is None or value is None:
            return super()._serialize(value, attr, obj, **kwargs)
        found = shared.get(id(value))
        if found is None:  # the value is kept with its form, so its id is not reused meanwhile
            found = shared[id(value)] = (value, super()._serialize(value, attr, obj, **kwargs))
        return found[1]


class TeamInstanceSchema(ma.Schema):
    instance_id = ma.fields.String()
    project = ma.fields.String()
    framework = ma.fields.String()
    state = ma.fields.String()
    heartbeat_age_s = ma.fields.Integer()
    expires_in_s = ma.fields.Integer()
    poll_interval_s = ma.fields.Integer()
    providers = ma.fields.List(ma.fields.String())
    overall_status = ma.fields.String(metadata={"description": STATUS})
    recommendation = ma.fields.String(
        metadata={"description": "PROCEED, PROCEED_SMALL_ONLY or STOP"}
    )
    message = ma.fields.String()
    allocation = SharedDict(keys=ma.fields.String(), values=ma.fields.Nested(AllocationSchema))


class TeamSummarySchema(ma.Schema):
    status = ma.fields.String(metadata={"description": "the worst account status"})
    counts = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer())
    accounts = ma.fields.Integer()
    instances = ma.fields.Integer()


class TeamAlertSchema(ma.Schema):
    id = ma.fields.String()
    event = ma.fields.String(
        metadata={
            "description": "window.status_changed, account.credentials_failed or "
            "account.polls_failing"
        }
    )
    severity = ma.fields.String(metadata={"description": "info, warning or critical"})
    provider = ma.fields.String()
    account = ma.fields.String(metadata={"description": "short fingerprint"})
    plan = ma.fields.String(allow_none=True)
    window = ma.fields.String(allow_none=True)
    from_ = ma.fields.String(data_key="from", attribute="from", allow_none=True)
    to = ma.fields.String()
    utilization = ma.fields.Float(allow_none=True)
    projected_exhaustion_min = ma.fields.Float(allow_none=True)
    resets_at = ma.fields.String(allow_none=True)
    at = ma.fields.String()
    message = ma.fields.String()


class TeamSchema(ma.Schema):
    generated_at = ma.fields.String(metadata={"description": "the server's time of the view"})
    summary = ma.fields.Nested(TeamSummarySchema)
    accounts = ma.fields.List(ma.fields.Nested(TeamAccountSchema))
    instances = ma.fields.List(ma.fields.Nested(TeamInstanceSchema))
    alerts = ma.fields.List(
        ma.fields.Nested(TeamAlertSchema),
        metadata={"description": "the latest alerts (a day at most), newest first"},
    )

    def dump(self, obj: Any, *, many: bool | None = None) -> Any:
        token = _SHARED.set({})
        try:
            return super().dump(obj, many=many)
        finally:
            _SHARED.reset(token)
