"""enqueue_due_polls(): the cron target that turns due accounts into unique poll jobs."""

from __future__ import annotations

from quota_sentinel.services.polls import enqueue_poll
from quota_sentinel.store.keys import DUE_LEASE_S
from workers import runtime


def enqueue_due_polls() -> int:
    """Records the tick (health reports its age), claims every due account atomically and
    enqueues `poll_account` for each.

    Two schedulers ticking at once claim disjoint sets; the unique job id `poll-<fp>` refuses a
    second job for an account whose poll is still queued or running, and a poll abandoned by a
    dead worker is replaced (services/polls.py) when its lease brings the account back.

    Returns:
        how many accounts this tick claimed.
    """
    ctx = runtime.context()
    now = ctx.clock()
    ctx.store.note_tick(now)
    claimed = ctx.store.due.claim(now, DUE_LEASE_S)
    for fp in claimed:
        enqueue_poll(ctx, fp)
    return len(claimed)
