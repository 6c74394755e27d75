"""Defensive readers for the loosely typed numbers, times and messages in provider payloads."""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

# Epoch values above this are milliseconds: 1e11 s is the year 5138, 1e11 ms is 1973.
_MS_THRESHOLD = 1e11

_MAX_MESSAGE_CHARS = 200


def to_float(value: Any) -> float | None:
    """Read a number that an undocumented API may send as int, float or numeric string.

    Args:
        value: anything taken from a decoded JSON payload.

    Returns:
        The finite float, or None for bool, None, NaN/infinity, empty or non-numeric text
        and any other type. bool is refused because `True` is not a count.
    """
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def epoch_s(value: Any) -> float | None:
    """Read a point in time as epoch seconds UTC.

    Accepts epoch seconds or epoch milliseconds (numbers or numeric strings; anything above
    1e11 is taken as milliseconds) and ISO-8601 text (`Z` or an offset, any fraction length
    up to nanoseconds, a naive time meaning UTC, or a bare date meaning midnight UTC).

    Args:
        value: anything taken from a decoded JSON payload.

    Returns:
        Epoch seconds (float), or None when the value is absent, not a time, or not positive:
        providers use -1 and 0 to mean "no reset scheduled".
    """
    number = to_float(value)
    if number is None and isinstance(value, str):
        number = _iso_epoch_s(value.strip())
    if number is None or number <= 0:
        return None
    return number / 1000.0 if number > _MS_THRESHOLD else number


def _iso_epoch_s(text: str) -> float | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def clamp_pct(value: float) -> float:
    """Clamp a utilization to 0–100 percent (providers occasionally report 100.4 or -0.0)."""
    return min(100.0, max(0.0, value)) + 0.0


def safe_message(text: Any, secrets: Iterable[str | None]) -> str:
    """Make a provider-written message fit to store and show.

    Args:
        text: the provider's message (any type; non-text gives "").
        secrets: credential strings that must not survive in the result.

    Returns:
        The message with every secret replaced by `****`, white space collapsed and cut to
        200 characters.
    """
    if not isinstance(text, str):
        return ""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "****")
    text = " ".join(text.split())
    if len(text) > _MAX_MESSAGE_CHARS:
        text = text[: _MAX_MESSAGE_CHARS - 1] + "…"
    return text
