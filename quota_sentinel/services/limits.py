"""Rate limits per client address or per instance, counted in Redis so every replica shares them."""

from __future__ import annotations

from quota_sentinel import errors
from quota_sentinel.services.context import Context

# POST /v1/poll per instance and minute: far above what an agent needs (the minimum poll gap
# debounces upstream calls anyway), low enough that a leaked key cannot flood the queue.
POLL_RATE_PER_MIN = 30


def enforce_rate(ctx: Context, bucket: str, per_min: int, now: float, too_many: str) -> None:
    """Counts one event in `bucket` (e.g. `register:<address>`).

    Args:
        too_many: the refusal's opening words, e.g. "Too many sign-in attempts".

    Raises:
        errors.RateLimited: more than `per_min` events in `bucket` this minute.
    """
    retry = ctx.store.rate.hit(bucket, per_min, now)
    if retry:
        raise errors.RateLimited(f"{too_many}; try again in {retry} s.", retry)


def limit_poll_requests(ctx: Context, instance_id: str, now: float) -> None:
    """Counts one POST /v1/poll of the instance `instance_id`.

    Raises:
        errors.RateLimited: more than POLL_RATE_PER_MIN requests this minute.
    """
    enforce_rate(
        ctx,
        f"poll:{instance_id}",
        POLL_RATE_PER_MIN,
        now,
        "Too many poll requests from this instance",
    )
