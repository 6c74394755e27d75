"""Defensive readers for the loosely typed numbers, times and messages in provider payloads."""

from __future__ import annotations

import base64
import json
import math
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from quota_sentinel.providers.base import AuthFailed, BadPayload

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


def first_float(source: Any, keys: Iterable[str]) -> float | None:
    """The first of `keys` in `source` that holds a readable number (see `to_float`).

    Args:
        source: a mapping from a decoded JSON payload (anything else gives None).
        keys: field names to try in order, e.g. both spellings of one field.

    Returns:
        The number, or None when no key holds one.
    """
    if not isinstance(source, Mapping):
        return None
    for key in keys:
        number = to_float(source.get(key))
        if number is not None:
            return number
    return None


def first_text(source: Any, keys: Iterable[str]) -> str | None:
    """The first of `keys` in `source` that holds non-blank text, stripped.

    Args:
        source: a mapping from a decoded JSON payload (anything else gives None).
        keys: field names to try in order.

    Returns:
        The text, or None when no key holds any.
    """
    if not isinstance(source, Mapping):
        return None
    for key in keys:
        value = source.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


_HTTP_STATUS = re.compile(r"\bHTTP (\d{3})\b")


def http_status(error: BaseException) -> int | None:
    """The HTTP status behind a ProviderError raised by providers.http, when it has one.

    A provider that tries a second path on 404/405 needs the status; providers.http puts it in
    the message ("… refused the request with HTTP 404."). An integer `status` attribute on the
    error, should providers.http ever set one, is preferred over reading the message.

    Args:
        error: the exception raised by `HttpClient.get_json` / `post_json`.

    Returns:
        The status code (e.g. 404), or None for a transport error or a non-HTTP failure.
    """
    status = getattr(error, "status", None)
    if isinstance(status, int) and not isinstance(status, bool):
        return status
    match = _HTTP_STATUS.search(str(getattr(error, "message", "") or error))
    return int(match.group(1)) if match else None


def utc_text(epoch: float) -> str:
    """Format a point in time for a sentence.

    Args:
        epoch: epoch seconds UTC.

    Returns:
        "YYYY-MM-DD HH:MM UTC".
    """
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M UTC")


def next_month_start_s(now: float) -> float:
    """When the calendar month after `now` begins (monthly allowances reset then).

    Args:
        now: epoch seconds UTC.

    Returns:
        Epoch seconds of 00:00:00 UTC on the first day of the next month.
    """
    moment = datetime.fromtimestamp(now, UTC)
    year, month = (moment.year + 1, 1) if moment.month == 12 else (moment.year, moment.month + 1)
    return datetime(year, month, 1, tzinfo=UTC).timestamp()


def slug(value: Any) -> str:
    """Turn a provider label ("Opus 4.1", "GPT-5.3-Codex-Spark") into a window-name part.

    Args:
        value: anything taken from a decoded JSON payload.

    Returns:
        Lower-case text where every run of non-alphanumeric characters became one "_",
        trimmed of "_" at both ends ("opus_4_1"); "" for non-text or text without letters
        or digits.
    """
    if not isinstance(value, str):
        return ""
    parts = "".join(c if c.isascii() and c.isalnum() else " " for c in value.lower()).split()
    return "_".join(parts)


def jwt_claims(token: Any) -> dict[str, Any]:
    """Read the payload of a JWT without verifying it (hints only: expiry, account id).

    Args:
        token: a string of three dot-separated base64url parts, or anything else.

    Returns:
        The decoded claims object, or {} when `token` is not a readable JWT.
    """
    if not isinstance(token, str) or token.count(".") != 2:
        return {}
    payload = token.split(".")[1]
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except ValueError:  # bad base64 (binascii.Error), bad UTF-8 or bad JSON
        return {}
    return claims if isinstance(claims, dict) else {}


def unique_name(name: str, taken: Iterable[str]) -> str:
    """`name`, or `name_2`, `name_3`, … when it is already taken.

    Args:
        name: the window name wanted.
        taken: names already in use (e.g. the keys of the windows built so far).

    Returns:
        A name not in `taken`.
    """
    used = set(taken)
    candidate, n = name, 2
    while candidate in used:
        candidate, n = f"{name}_{n}", n + 1
    return candidate


def api_key_from(credentials: Mapping[str, Any], provider: str) -> str:
    """The API key of an api-key account (`{"key": ...}`), ready to put in a header.

    Args:
        credentials: the decrypted credential dict of the account.
        provider: how the provider is named in the message (e.g. "MiniMax").

    Returns:
        The key, stripped, without a stored "Bearer " prefix: some tools keep the header
        value rather than the key, and "Bearer Bearer …" must never be sent.

    Raises:
        AuthFailed: no usable key is stored.
    """
    key = credentials.get("key")
    if not isinstance(key, str) or not key.strip():
        raise AuthFailed(
            f"No {provider} API key is stored for this account; register it again with a key."
        )
    key = key.strip()
    return key[7:].strip() if key[:7].lower() == "bearer " else key


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, str):
        return "empty text" if not value.strip() else "text"
    if isinstance(value, int | float):
        return "a number out of range"
    return "a list" if isinstance(value, list) else "an object"


def unreadable(provider: str, field: str, value: Any, wanted: str = "a number") -> BadPayload:
    """The error for a field we know holding a value we cannot interpret (docs/providers.md).

    Args:
        provider: how the provider is named in the sentence (e.g. "Z.ai").
        field: the field's path in the answer, e.g. "limits[0].percentage".
        value: what the answer held there; only its kind is named, never the value itself.
        wanted: what the field should hold.

    Returns:
        A BadPayload whose sentence names the field: never an empty window set or a made-up 0 %.
    """
    return BadPayload(
        f"{provider} answered {field} with {_kind(value)}, not {wanted}; the API may have "
        "changed (`quota-sentinel probe --raw` shows the answer)."
    )


def no_known_fields(provider: str, where: str, fields: Iterable[str]) -> BadPayload:
    """The error for a 200 answer carrying none of the fields we read (docs/providers.md).

    Args:
        provider: how the provider is named in the sentence.
        where: which answer, e.g. "wham/usage".
        fields: the fields that were looked for, named in the sentence.
    """
    names = ", ".join(fields)
    return BadPayload(
        f"{provider} answered {where} without any of the fields quota-sentinel reads ({names}); "
        "the API may have changed (`quota-sentinel probe --raw` shows the answer)."
    )


def number_at(source: Mapping[str, Any], key: str, provider: str, where: str = "") -> float | None:
    """A number field of an answer: None when absent, null or blank, an error when unreadable.

    Args:
        source: the object holding the field.
        key: the field's name.
        provider: how the provider is named in the error.
        where: the path of `source` in the answer, e.g. "limits[0]" ("" at the top).

    Returns:
        The number (see `to_float`), or None.

    Raises:
        BadPayload: the field holds something that is not a number (`unreadable`).
    """
    value = source.get(key)
    number = to_float(value)
    if number is None and value is not None and value != "":
        raise unreadable(provider, f"{where}.{key}" if where else key, value)
    return number
