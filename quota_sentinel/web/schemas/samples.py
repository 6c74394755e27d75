"""Schemas of /v1/samples."""

from __future__ import annotations

import marshmallow as ma


class SamplesQueryArgsSchema(ma.Schema):
    since = ma.fields.Float(load_default=0.0, metadata={"description": "epoch seconds"})


class SampleSchema(ma.Schema):
    """One window at one poll; or a failed poll: `error` set, no window or utilization."""

    t = ma.fields.Float(metadata={"description": "epoch seconds"})
    provider = ma.fields.String()
    account = ma.fields.String(metadata={"description": "the account's fingerprint"})
    window = ma.fields.String()
    utilization = ma.fields.Float()
    resets_at = ma.fields.Float(allow_none=True)
    poll_interval_s = ma.fields.Float(metadata={"description": "the poll interval in force"})
    error = ma.fields.String(metadata={"description": "a failed poll's error code"})


class SamplesSchema(ma.Schema):
    samples = ma.fields.List(ma.fields.Nested(SampleSchema))
