"""What follows every recorded poll: its outcome counted for /v1/metrics, and any status
transition of the account turned into alerts."""

from __future__ import annotations

from quota_sentinel.services.alerts import detect_transitions
from quota_sentinel.services.context import Context


def poll_recorded(ctx: Context, provider: str, fp: str, interval_s: int, outcome: str, now: float):
    """Called by the poll job once a poll's outcome is stored (under the account's poll lock).

    Args:
        outcome: "ok" or "error:<code>", as the poll job returns it.
        interval_s: the account's poll interval, seconds.
        now: epoch seconds of the poll.
    """
    ctx.store.poll_counts.add(provider, outcome.removeprefix("error:"))
    detect_transitions(ctx, provider, fp, interval_s, now)
