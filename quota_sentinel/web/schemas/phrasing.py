"""The team view's numbers said in words, at the edge: durations, outlooks, error headlines."""

from __future__ import annotations

from typing import Any

# What a poll failure means, in a few words, by ProviderError code.
ERROR_HEADLINES = {
    "auth_failed": "The provider refused the credentials",
    "credentials_expired": "The credentials have expired",
    "rate_limited": "The provider is rate limiting the usage checks",
    "unavailable": "The provider is unavailable",
    "bad_payload": "The provider answered with something unexpected",
    "not_supported": "This provider is not polled yet",
}
_ERROR_HEADLINE = "The last usage check failed"


def human_duration(minutes: float) -> str:
    """45 min, 3 h 20 min, 2 d 4 h."""
    total = max(round(minutes), 0)
    if total < 1:
        return "under a minute"
    if total < 60:
        return f"{total} min"
    hours, mins = divmod(total, 60)
    if hours < 24:
        return f"{hours} h {mins} min" if mins else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def outlook_text(window: dict[str, Any]) -> str:
    """When a window runs out or that it lasts until its reset, as a short phrase such as
    "runs out in ~3 h 20 min", "ahead of pace: runs out in ~9 h, 2 d 14 h before the reset"
    or "lasts until reset (in 2 h)".

    Args:
        window: utilization, effective_cap, outlook_code, runs_out_in_min and resets_in_min
            (minutes, None when not applicable: see services.team.outlook).
    """
    resets_in = window.get("resets_in_min")
    left = window.get("runs_out_in_min")
    used = window.get("utilization")
    reset_text = f"in {human_duration(resets_in)}" if resets_in is not None else None
    if used is None:
        return "no data yet"
    if used >= window["effective_cap"]:
        return "at its cap" + (f"; resets {reset_text}" if reset_text else "")
    if left is not None and window.get("outlook_code") == "ahead_of_pace":
        early = f", {human_duration(resets_in - left)} before the reset" if reset_text else ""
        return f"ahead of pace: runs out in ~{human_duration(left)}{early}"
    if left is not None:
        return f"runs out in ~{human_duration(left)}"
    if reset_text:
        return f"lasts until reset ({reset_text})"
    return "not rising; no reset scheduled"


def error_headline(account: dict[str, Any]) -> str | None:
    """What an account's failed last poll means in a few words; None when it did not fail.

    Args:
        account: a team view account row (`poll_failed`, `error_code`).
    """
    if not account.get("poll_failed"):
        return None
    return ERROR_HEADLINES.get(account.get("error_code"), _ERROR_HEADLINE)
