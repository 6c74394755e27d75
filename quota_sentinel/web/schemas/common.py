"""Schemas shared by every resource: the base schema and the error envelope."""

from __future__ import annotations

import marshmallow as ma


class BaseSchema(ma.Schema):
    """Unknown fields are rejected, so a typo gets a 422 naming it instead of being ignored."""

    class Meta:
        unknown = ma.RAISE


class ErrorSchema(ma.Schema):
    """Every failure: `{error, message, details?}`."""

    error = ma.fields.String(
        required=True, metadata={"description": "machine code, e.g. validation_error"}
    )
    message = ma.fields.String(
        required=True, metadata={"description": "a sentence a person can act on"}
    )
    details = ma.fields.Dict(metadata={"description": "per-field messages and other detail"})


class OkSchema(ma.Schema):
    status = ma.fields.String(metadata={"description": "always ok"})
