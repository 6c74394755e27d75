"""Fields that format the services' plain values at the edge: numbers rounded for people and
JSON, epoch seconds as ISO-8601 text. Services and the engine hand over unrounded values."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

import marshmallow as ma


class Rounded(ma.fields.Float):
    """A float rounded to `places` decimals on the way out (an integer with places=0);
    non-finite values become null (JSON has no infinity: a tiny positive velocity projects an
    infinite time to the cap)."""

    def __init__(self, places: int = 2, **kwargs: Any) -> None:
        kwargs.setdefault("allow_none", True)
        super().__init__(**kwargs)
        self.places = places

    def _serialize(
        self, value: Any, attr: str | None, obj: Any, **kwargs: Any
    ) -> float | int | None:
        if value is None or not math.isfinite(value):
            return None
        return round(float(value), self.places) if self.places else round(value)


class Moment(ma.fields.Field):
    """Epoch seconds out as ISO-8601 UTC text (null stays null)."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        if value is None:
            return None
        return datetime.fromtimestamp(value, UTC).isoformat()
