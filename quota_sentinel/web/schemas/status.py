"""Schemas of the status and provider views."""

from __future__ import annotations

import marshmallow as ma

from quota_sentinel.web.schemas.fields import Moment, Rounded

STATUS = "GREEN, YELLOW, RED or UNKNOWN"


class WindowSchema(ma.Schema):
    utilization = Rounded(metadata={"description": "% used"})
    velocity_pct_per_hour = Rounded()
    projected_exhaustion_min = Rounded(metadata={"description": "minutes until the effective cap"})
    projected_at_reset = Rounded()
    resets_at = Moment(allow_none=True, metadata={"type": "string", "description": "ISO-8601"})
    status = ma.fields.String(metadata={"description": STATUS})
    stale = ma.fields.Boolean()
    cap = Rounded()
    effective_cap = Rounded()
    samples_used = ma.fields.Integer()
    outlook_code = ma.fields.String(
        metadata={
            "description": "where the window is heading: no_data, at_cap, runs_out (YELLOW or"
            " RED), ahead_of_pace (GREEN, but at this rate the cap comes before the reset),"
            " rising (no reset known), lasts_until_reset or not_rising"
        }
    )
    metadata = ma.fields.Dict()


class ProviderStatusSchema(ma.Schema):
    status = ma.fields.String(metadata={"description": STATUS})
    stale = ma.fields.Boolean()
    error = ma.fields.String(allow_none=True)
    error_code = ma.fields.String(allow_none=True)
    polled_at = Moment(allow_none=True, metadata={"type": "string", "description": "ISO-8601"})
    data_at = Moment(allow_none=True, metadata={"type": "string", "description": "ISO-8601"})
    data_age_s = Rounded(0, metadata={"type": "integer"})
    plan = ma.fields.String(allow_none=True)
    windows = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Nested(WindowSchema))


class ProviderDetailSchema(ProviderStatusSchema):
    name = ma.fields.String()
    fingerprint = ma.fields.String()
    subscribers = ma.fields.List(ma.fields.String())


class AllocationSchema(ma.Schema):
    fingerprint = ma.fields.String()
    subscribers = ma.fields.Integer()
    share = Rounded(4)
    effective_caps = ma.fields.Dict(keys=ma.fields.String(), values=Rounded())


class TokenStatusSchema(ma.Schema):
    instance_id = ma.fields.String()
    project = ma.fields.String()
    framework = ma.fields.String()
    state = ma.fields.String()
    generated_at = ma.fields.String()
    overall_status = ma.fields.String(metadata={"description": STATUS})
    recommendation = ma.fields.String(
        metadata={"description": "PROCEED, PROCEED_SMALL_ONLY or STOP"}
    )
    message = ma.fields.String()
    alternative_providers = ma.fields.List(ma.fields.String())
    all_exhausted = ma.fields.Boolean()
    providers = ma.fields.Dict(
        keys=ma.fields.String(), values=ma.fields.Nested(ProviderStatusSchema)
    )
    allocation = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Nested(AllocationSchema))


class WebhookDownSchema(ma.Schema):
    receiver = ma.fields.String(metadata={"description": "format and host, never the URL"})
    since = ma.fields.String()
    reason = ma.fields.String()


class WebhooksHealthSchema(ma.Schema):
    configured = ma.fields.Integer()
    down = ma.fields.List(ma.fields.Nested(WebhookDownSchema))


class HealthSchema(ma.Schema):
    status = ma.fields.String(
        metadata={
            "description": "ok; degraded (no scheduler tick lately: polls stopped); "
            "unavailable (Redis unreachable, HTTP 503)"
        }
    )
    redis = ma.fields.String()
    scheduler = ma.fields.String(
        metadata={"description": "ok, late (no tick for 30 s), or unknown (Redis down)"}
    )
    version = ma.fields.String()
    last_poll_age_s = ma.fields.Float(allow_none=True)
    last_tick_age_s = ma.fields.Float(
        allow_none=True, metadata={"description": "seconds since a scheduler tick last ran"}
    )
    workers = ma.fields.Integer(allow_none=True)
    webhooks = ma.fields.Nested(
        WebhooksHealthSchema,
        allow_none=True,
        metadata={"description": "receivers configured, and those given up on after retries"},
    )


class ProviderMapSchema(ma.Schema):
    """provider name → ProviderStatus (keys are data, so each value is dumped on its own)."""

    def dump(self, obj, *, many=None):
        # One schema instance for every request: building one deep-copies its fields, which
        # cost a quarter of a /v1/providers request.
        return {name: _PROVIDER_STATUS.dump(value) for name, value in obj.items()}


_PROVIDER_STATUS = ProviderStatusSchema()
