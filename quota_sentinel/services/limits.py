"""Rate limits per client address, counted in Redis so every replica shares them."""

from __future__ import annotations

from quota_sentinel import errors
from quota_sentinel.services.context import Context


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
