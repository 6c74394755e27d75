"""Sharing one account's budget among the instances subscribed to it."""

from collections.abc import Mapping

# Weight of a subscriber by its state: an idle agent still makes the odd call, a paused one
# makes none, so it leaves its share to the others.
STATE_WEIGHTS: dict[str, float] = {"active": 1.0, "idle": 0.3, "paused": 0.0}
# The same weights in whole tenths: the store keeps each account's weights and their sum as
# integers, so adding and removing subscribers never drifts.
WEIGHT_UNITS: dict[str, int] = {state: round(w * 10) for state, w in STATE_WEIGHTS.items()}


def weight_units(state: str) -> int:
    """A subscriber's weight in tenths (WEIGHT_UNITS).

    Raises:
        ValueError: If `state` is not in STATE_WEIGHTS.
    """
    if state not in WEIGHT_UNITS:
        raise ValueError(f"unknown subscriber state {state!r}")
    return WEIGHT_UNITS[state]


def share_of(units: int, total_units: int) -> float:
    """One subscriber's share, 0–1, from its weight and the sum of the account's weights (both
    in WEIGHT_UNITS); 0.0 when the sum is 0 (every subscriber paused)."""
    return units / total_units if total_units > 0 else 0.0


def shares(states: Mapping[str, str]) -> dict[str, float]:
    """Split an account's budget among its live subscribers by state weight.

    Args:
        states: Instance id to its state, one of STATE_WEIGHTS.

    Returns:
        Instance id to its share, 0–1. The shares sum to 1.0 unless every subscriber is paused
        (or there are none), in which case every share is 0.0.

    Raises:
        ValueError: If a state is not in STATE_WEIGHTS.
    """
    weights: dict[str, int] = {}
    for instance_id, state in states.items():
        if state not in WEIGHT_UNITS:
            raise ValueError(f"unknown subscriber state {state!r} for instance {instance_id}")
        weights[instance_id] = WEIGHT_UNITS[state]
    total = sum(weights.values())
    return {instance_id: share_of(weight, total) for instance_id, weight in weights.items()}


def effective_cap(cap: float, share: float, overcommit: float) -> float:
    """The cap one instance is held to on a shared account.

    Overcommit above 1 lets the shares add up to more than the cap, since subscribers rarely
    burn at the same time; the result still never exceeds the account's own cap.

    Args:
        cap: The window's hard cap, percent.
        share: The instance's share from `shares`, 0–1.
        overcommit: Multiplier on the share, 1.0 or more in practice.

    Returns:
        min(cap, cap * share * overcommit), percent.
    """
    return min(cap, cap * share * overcommit)
