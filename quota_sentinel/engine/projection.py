"""Projections of a window at its current velocity: time to the cap, utilization at reset."""


def minutes_to_cap(
    utilization: float, velocity_pct_per_hour: float | None, cap: float
) -> float | None:
    """Minutes until utilization reaches the cap at the current velocity.

    Args:
        utilization: Percent used now, 0–100.
        velocity_pct_per_hour: Burn rate, percent per hour; None if unknown.
        cap: Utilization to stay under, percent.

    Returns:
        0.0 if already at or over the cap; None if the velocity is unknown or not rising;
        otherwise the minutes left.
    """
    if utilization >= cap:
        return 0.0
    if velocity_pct_per_hour is None or velocity_pct_per_hour <= 0.0:
        return None
    return (cap - utilization) / velocity_pct_per_hour * 60.0


def projected_at_reset(
    utilization: float,
    velocity_pct_per_hour: float | None,
    resets_at: float | None,
    now: float,
) -> float | None:
    """Utilization the window would show at its reset time at the current velocity.

    Deliberately not clamped to 100: a projection of 150 means "would need 150 %", which tells
    how far over budget the current pace is.

    Args:
        utilization: Percent used now, 0–100.
        velocity_pct_per_hour: Burn rate, percent per hour; None if unknown.
        resets_at: When the window resets, epoch seconds; None if unknown.
        now: Current time, epoch seconds.

    Returns:
        The projected utilization in percent, or None if resets_at or the velocity is unknown.
    """
    if resets_at is None or velocity_pct_per_hour is None:
        return None
    hours = max((resets_at - now) / 3600.0, 0.0)
    return utilization + velocity_pct_per_hour * hours
