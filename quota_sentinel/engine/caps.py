"""Hard caps: the utilization, per provider window, that an agent should stay under."""

from collections.abc import Mapping

# Percent. Keys are `{provider}_{window}`, or `{provider}_default` for every window of a provider.
DEFAULT_HARD_CAPS: dict[str, float] = {
    "claude_five_hour": 80.0,
    "claude_seven_day": 90.0,
    "copilot_monthly": 85.0,
    "zai_default": 80.0,
    "minimax_default": 85.0,
    "deepseek_default": 85.0,
    "alibaba_default": 80.0,
}

# Percent, for a provider that has no entry at all.
FALLBACK_CAP = 85.0


def cap_for(provider: str, window: str, overrides: Mapping[str, float] | None = None) -> float:
    """Look up the hard cap of one provider window.

    The most specific key wins, and at the same specificity an override beats a default:
    1. overrides[f"{provider}_{window}"]
    2. DEFAULT_HARD_CAPS[f"{provider}_{window}"]
    3. overrides[f"{provider}_default"]
    4. DEFAULT_HARD_CAPS[f"{provider}_default"]
    5. FALLBACK_CAP

    Args:
        provider: Provider name, such as "zai".
        window: Window name, such as "five_hour".
        overrides: Operator-configured caps in percent, keyed like DEFAULT_HARD_CAPS.

    Returns:
        The cap in percent.
    """
    extra = overrides or {}
    for key in (f"{provider}_{window}", f"{provider}_default"):
        if key in extra:
            return float(extra[key])
        if key in DEFAULT_HARD_CAPS:
            return float(DEFAULT_HARD_CAPS[key])
    return FALLBACK_CAP
