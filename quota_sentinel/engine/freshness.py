"""How far an account's last good data can be trusted: the rule for failed and missing polls.

After a failed poll the last good numbers keep grading a window for a while, marked stale: one
failed poll must not turn a RED provider into "no data, proceed". Within a window usage only
grows, so the status as of the last good poll is the least the status can be now; after the
trust window the data is too old and the window grades UNKNOWN.
"""

from __future__ import annotations

from dataclasses import dataclass

# The last good data keeps grading for this many poll intervals, and at least TRUST_MIN_S.
TRUST_INTERVALS = 3
TRUST_MIN_S = 900
# Without a failed poll, data counts as stale once no poll succeeded for this many intervals
# (plus OVERDUE_GRACE_S): a worker is probably down.
OVERDUE_INTERVALS = 2
OVERDUE_GRACE_S = 60


def trust_s(poll_interval_s: float) -> float:
    """Seconds after it was read that the last good data still grades a window."""
    return max(TRUST_INTERVALS * poll_interval_s, TRUST_MIN_S)


@dataclass(frozen=True)
class Freshness:
    """How far the last good data of an account can be trusted at one moment.

    Attributes:
        age_s: Seconds since the last good data was read (None: never).
        ok_at: When it was read, epoch seconds (None: never).
        stale: The numbers are not from a recent successful poll (the last poll failed, or
            none succeeded for OVERDUE_INTERVALS intervals).
        usable: Still recent enough to grade (within trust_s of the poll interval).
        error: What went wrong, as a sentence, or None.
        error_code: Machine code of the error, or None.
    """

    age_s: float | None
    ok_at: float | None
    stale: bool
    usable: bool
    error: str | None
    error_code: str | None

    def as_of(self, now: float) -> float:
        """The moment to grade at: the last good poll while stale but usable, else now."""
        if self.stale and self.usable and self.ok_at is not None:
            return self.ok_at
        return now


def freshness(
    *,
    ok_at: float | None,
    error_code: str | None,
    error: str | None,
    poll_interval_s: float,
    now: float,
) -> Freshness:
    """Judge the last good data of an account at `now`.

    Args:
        ok_at: When the last successful poll read the data, epoch seconds; None if never.
        error_code: The machine code of the last poll's failure, None if it succeeded.
        error: The failure as a sentence, None if it succeeded.
        poll_interval_s: The account's poll interval, seconds.
        now: The moment of the judgement, epoch seconds.
    """
    age = now - ok_at if ok_at is not None else None
    overdue = age is not None and age > OVERDUE_INTERVALS * poll_interval_s + OVERDUE_GRACE_S
    if error_code is None and overdue:
        error = f"No successful poll for {age / 60:.0f} min; check that a worker is running."
        error_code = "no_recent_poll"
    usable = age is not None and age <= trust_s(poll_interval_s)
    failed = error_code is not None
    return Freshness(age, ok_at, failed or overdue, usable, error, error_code)


FRESH = Freshness(0.0, None, False, True, None, None)
"""Data read at the moment of judgement, as in a backtest of successful polls."""
