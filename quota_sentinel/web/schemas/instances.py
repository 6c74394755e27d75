"""Schemas of /v1/instances: registration, heartbeat and their answers."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from quota_sentinel.web.schemas.common import BaseSchema

STATES = ("active", "idle", "paused")
FRAMEWORKS = ("opencode", "claude")
_CAP_KEY = validate.Regexp(
    r"^[a-z0-9_]+$", error="Hard-cap keys look like zai_default or claude_five_hour."
)
_SCALAR = (str, int, float, bool)


def _check_provider_config(value: dict) -> None:
    for provider, options in value.items():
        if not isinstance(options, dict):
            raise ma.ValidationError(f"provider_config.{provider} must be an object.")
        for name, option in options.items():
            if not isinstance(option, _SCALAR):
                raise ma.ValidationError(
                    f"provider_config.{provider}.{name} must be a string, number or boolean."
                )


class AuthSchema(BaseSchema):
    """Credentials in any of the original's formats; every part is optional."""

    opencode_auth = ma.fields.Dict(
        keys=ma.fields.String(validate=validate.Length(min=1, max=100)),
        values=ma.fields.Raw(),
        metadata={"description": "OpenCode auth.json entries: {key: {key: ...}} or oauth entries"},
    )
    claude_credentials = ma.fields.Dict(
        metadata={
            "description": "{accessToken, refreshToken, expiresAt} (or the whole "
            ".credentials.json with claudeAiOauth)"
        }
    )
    github_token = ma.fields.String(validate=validate.Length(max=500))


class InstanceCreateSchema(BaseSchema):
    project_name = ma.fields.String(required=True, validate=validate.Length(min=1, max=200))
    framework = ma.fields.String(load_default="opencode", validate=validate.OneOf(FRAMEWORKS))
    poll_interval = ma.fields.Integer(
        validate=validate.Range(min=1, max=86400),
        metadata={"description": "seconds; values under 30 are raised to 30"},
    )
    state = ma.fields.String(load_default="active", validate=validate.OneOf(STATES))
    auth = ma.fields.Nested(AuthSchema, load_default=dict)
    provider_config = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.Raw(),
        validate=_check_provider_config,
        load_default=dict,
    )
    hard_caps = ma.fields.Dict(
        keys=ma.fields.String(validate=_CAP_KEY),
        values=ma.fields.Float(validate=validate.Range(min=0, max=100, min_inclusive=False)),
        load_default=dict,
    )


class InstanceCreatedSchema(ma.Schema):
    instance_id = ma.fields.String()
    api_key = ma.fields.String(metadata={"description": "shown once; only its hash is stored"})
    providers = ma.fields.List(ma.fields.String())
    poll_interval = ma.fields.Integer()
    warnings = ma.fields.List(ma.fields.String())


class HeartbeatSchema(BaseSchema):
    state = ma.fields.String(validate=validate.OneOf(STATES))
    auth = ma.fields.Nested(AuthSchema, metadata={"description": "fresh credentials"})


class HeartbeatResultSchema(ma.Schema):
    status = ma.fields.String()
    state = ma.fields.String()
    expires_in = ma.fields.Integer(
        metadata={"description": "seconds until expiry without heartbeat"}
    )
    refreshed = ma.fields.List(ma.fields.String())
    warnings = ma.fields.List(ma.fields.String())


class PollResultSchema(ma.Schema):
    status = ma.fields.String()
    queued = ma.fields.List(
        ma.fields.String(), metadata={"description": "providers whose poll was enqueued now"}
    )
    in_progress = ma.fields.List(
        ma.fields.String(),
        metadata={"description": "providers with a poll already queued or running (no second)"},
    )
    scheduled_in_s = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Float())
