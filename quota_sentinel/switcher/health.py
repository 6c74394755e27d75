"""Provider health from the API's `GET /v1/providers` answer, in the terms `plan` decides on."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from quota_sentinel.switcher.plan import GREEN, RED, UNKNOWN, YELLOW, Health

# The server registered the account but cannot poll that provider yet: not monitored.
NOT_POLLED = "not_supported"
_SEVERITY = {GREEN: 1, YELLOW: 2, RED: 3}


def _minutes(value: float) -> str:
    if value <= 0:
        return "cap reached"
    if value >= 120:
        return f"~{value / 60:.1f} h left"
    return f"~{value:.0f} min left"


def _worst_window(windows: Mapping[str, Any]) -> tuple[str, Mapping[str, Any]] | None:
    usable = [(n, w) for n, w in windows.items() if isinstance(w, Mapping)]
    if not usable:
        return None
    return max(
        usable,
        key=lambda item: (
            _SEVERITY.get(item[1].get("status"), 0),
            item[1].get("utilization") or 0.0,
        ),
    )


def describe(name: str, provider: Mapping[str, Any]) -> str:
    """A phrase for people: "zai RED, 5h at 93%, ~12 min left" or "deepseek UNKNOWN (…)"."""
    status = provider.get("status", UNKNOWN)
    if status == UNKNOWN:
        return f"{name} UNKNOWN ({provider.get('error') or 'no data'})"
    parts = [f"{name} {status}"]
    worst = _worst_window(provider.get("windows") or {})
    if worst is not None:
        window, usage = worst
        if usage.get("utilization") is not None:
            parts.append(f"{window} at {usage['utilization']:.0f}%")
        left = usage.get("projected_exhaustion_min")
        if status != GREEN and left is not None:
            parts.append(_minutes(left))
    return ", ".join(parts)


def monitored(provider: Mapping[str, Any]) -> bool:
    """False for an account the server holds but does not poll (yet)."""
    return provider.get("error_code") != NOT_POLLED


def has_data(provider: Mapping[str, Any]) -> bool:
    """True once the account has been polled at least once (successfully or not)."""
    return provider.get("polled_at") is not None


def healths(providers: Mapping[str, Any]) -> dict[str, Health]:
    """Monitored provider name → Health, from a `GET /v1/providers` body.

    Providers the server does not poll are left out, so that `plan.health_of` counts them as
    not monitored (GREEN).
    """
    return {
        name: Health(
            provider=name,
            status=body.get("status") if body.get("status") in _SEVERITY else UNKNOWN,
            poll=body.get("polled_at"),
            detail=describe(name, body),
        )
        for name, body in providers.items()
        if isinstance(body, Mapping) and monitored(body)
    }
