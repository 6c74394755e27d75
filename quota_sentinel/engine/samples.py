"""The Sample value: one observation of a rate-limit window's utilization."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Sample:
    """One (time, utilization) observation of a window.

    Attributes:
        t: When the provider was polled, epoch seconds.
        utilization: Percent of the window used, 0–100.
        resets_at: When the provider says the window resets, epoch seconds; None if it did not
            say.
    """

    t: float
    utilization: float
    resets_at: float | None = None
