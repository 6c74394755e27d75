"""poll_account(fp): one provider call for one account, outcome stored, next poll scheduled."""

from __future__ import annotations

import logging
import random
from collections.abc import Mapping
from typing import Any

from quota_sentinel.jobs import POLL_LOCK_TTL_S
from quota_sentinel.logconfig import log_context
from quota_sentinel.providers.base import NotSupported, ProviderError, UsageResult
from quota_sentinel.providers.registry import fetcher_for
from quota_sentinel.services.context import Context
from quota_sentinel.services.forecast import trends_after_poll
from quota_sentinel.services.poll_events import poll_recorded
from quota_sentinel.store.accounts import Account
from quota_sentinel.store.snapshots import Snapshot, StoredSample
from workers import runtime

log = logging.getLogger(__name__)

BACKOFF_CAP_FACTOR = 8
JITTER_FRACTION = 0.1


def poll_account(fp: str) -> str:
    """Polls the account `fp` once, unless another poll holds it or the last one was too recent.

    Expected provider trouble is recorded in the snapshot (the last good data is kept and marked
    stale) and retried with backoff; anything else raises and lands in RQ's failed registry.

    Returns:
        "ok", "error:<code>", or why nothing was done ("gone", "unsubscribed", "too soon",
        "locked").
    """
    ctx = runtime.context()
    log_context.set(f"poll-{fp}")
    now = ctx.clock()
    account = ctx.store.accounts.get(fp)
    if account is None:
        ctx.store.due.remove(fp)
        return "gone"
    subscribers = ctx.store.accounts.live_subscribers(fp, now)
    if not subscribers:
        return "unsubscribed"
    gap = ctx.settings.min_poll_gap_s
    if account.last_attempt_at is not None and now - account.last_attempt_at < gap:
        return "too soon"
    lock_key = ctx.store.keys.poll_lock(fp)
    token = ctx.store.locks.acquire(lock_key, POLL_LOCK_TTL_S)
    if token is None:
        return "locked"
    try:
        with ctx.store.locks.kept(lock_key, token, POLL_LOCK_TTL_S):
            ctx.store.accounts.mark_attempt(fp, now)
            interval = _interval_s(ctx, subscribers)
            outcome = _poll(ctx, account, interval, now)
            poll_recorded(ctx, account.provider, fp, interval, outcome, now)
            return outcome
    finally:
        ctx.store.locks.release(lock_key, token)


def _interval_s(ctx: Context, subscribers: list[str]) -> int:
    """The smallest poll interval among the live subscribers."""
    live = ctx.store.instances.get_many(subscribers)
    intervals = [inst.poll_interval_s for inst in live.values()]
    return min(intervals) if intervals else ctx.settings.poll_interval_s


def _fetch(ctx: Context, account: Account, now: float) -> UsageResult:
    fetch = fetcher_for(account.provider)
    if fetch is None:
        raise NotSupported(
            f"Polling {account.provider} is not implemented in this version of quota-sentinel."
        )
    credentials = ctx.vault.decrypt(account.credentials)
    return fetch(
        credentials, account.options, runtime.http_for(account.provider), account.state, now
    )


def _poll(ctx: Context, account: Account, interval: int, now: float) -> str:
    fp = account.fp
    previous = ctx.store.snapshots.get(fp)
    try:
        result = _fetch(ctx, account, now)
    except ProviderError as exc:
        failures = (previous.failures if previous else 0) + 1
        delay = backoff_s(interval, failures, exc.retry_after_s)
        snapshot = Snapshot(
            polled_at=now,
            ok_at=previous.ok_at if previous else None,
            windows=previous.windows if previous else {},
            plan=previous.plan if previous else None,
            error={"code": exc.code, "message": exc.message},
            failures=failures,
            next_poll_at=now + delay,
            trends=previous.trends if previous else {},
            interval_s=interval,
        )
        # The failed poll goes into the samples too, so an exported trace replays it.
        failed = StoredSample(now, {}, error=exc.code, interval_s=interval)
        ctx.store.snapshots.record(fp, snapshot, failed, None, _sealed(ctx, exc.credentials))
        ctx.store.due.reschedule(fp, now + delay)
        ctx.store.note_poll_finished(now)
        log.warning(
            "%s poll failed (%s, failure %d); next try in %.0f s: %s",
            account.provider,
            exc.code,
            failures,
            delay,
            exc.message,
        )
        return f"error:{exc.code}"
    delay = interval * (1 - random.uniform(0, JITTER_FRACTION))
    windows = {
        name: {"utilization": w.utilization, "resets_at": w.resets_at, "metadata": dict(w.metadata)}
        for name, w in result.windows.items()
    }
    sample = StoredSample(
        now, {n: (w.utilization, w.resets_at) for n, w in result.windows.items()}, None, interval
    )
    snapshot = Snapshot(
        polled_at=now,
        ok_at=now,
        windows=windows,
        plan=result.plan,
        error=None,
        failures=0,
        next_poll_at=now + delay,
        trends=trends_after_poll(ctx, fp, sample, interval, previous),
        interval_s=interval,
    )
    state = dict(result.state) if result.state is not None else None
    ctx.store.snapshots.record(fp, snapshot, sample, state, _sealed(ctx, result.credentials))
    ctx.store.due.reschedule(fp, now + delay)
    ctx.store.note_poll_finished(now)
    log.info(
        "%s polled: %s",
        account.provider,
        ", ".join(f"{n} {w.utilization:.1f}%" for n, w in sorted(result.windows.items())),
    )
    return "ok"


def _sealed(ctx: Context, credentials: Mapping[str, Any] | None) -> str | None:
    """Rotated credentials (an OAuth refresh spent the old refresh token), encrypted for the
    store; they are written with the poll's outcome, still under the poll lock."""
    return ctx.vault.encrypt(dict(credentials)) if credentials is not None else None


def backoff_s(interval_s: float, failures: int, retry_after_s: float | None) -> float:
    """Seconds until the next try after `failures` consecutive failures.

    Doubles from one interval, honours a longer Retry-After, and never exceeds 8 × the interval.
    """
    delay = interval_s * 2 ** max(failures - 1, 0)
    if retry_after_s is not None:
        delay = max(delay, retry_after_s)
    return min(delay, BACKOFF_CAP_FACTOR * interval_s)
