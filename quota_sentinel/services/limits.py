"""Per-instance request limits of the API that are not about registration (see instances.py)."""

from __future__ import annotations

from quota_sentinel import errors
from quota_sentinel.services.context import Context
from quota_sentinel.services.instances import Caller

# POST /v1/poll per instance and minute: far above what an agent needs (the minimum poll gap
# debounces upstream calls anyway), low enough that a leaked key cannot flood the queue.
POLL_RATE_PER_MIN = 30


def limit_poll_requests(ctx: Context, caller: Caller, now: float) -> None:
    """Counts one POST /v1/poll of the calling instance.

    Raises:
        errors.RateLimited: more than POLL_RATE_PER_MIN requests this minute.
    """
    retry = ctx.store.rate.hit(f"poll:{caller.instance.id}", POLL_RATE_PER_MIN, now)
    if retry:
        raise errors.RateLimited(
            f"Too many poll requests from this instance; try again in {retry} s.", retry
        )
