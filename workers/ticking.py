"""enqueue_due_polls(): the cron target that turns due accounts into unique poll jobs."""

from __future__ import annotations

from quota_sentinel.store.keys import DUE_LEASE_S
from workers import runtime


def enqueue_due_polls() -> int:
    """Claims every due account atomically and enqueues `poll_account` for each.

    Two schedulers ticking at once claim disjoint sets, and the unique job id `poll-<fp>`
    refuses a second job for an account whose poll is still queued.

    Returns:
        how many accounts this tick claimed.
    """
    ctx = runtime.context()
    claimed = ctx.store.due.claim(ctx.clock(), DUE_LEASE_S)
    for fp in claimed:
        ctx.jobs.enqueue_poll(fp)
    return len(claimed)
