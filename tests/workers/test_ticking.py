"""enqueue_due_polls and the atomic claim: concurrent schedulers never enqueue an account twice."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable

from quota_sentinel.jobs import poll_job_id
from quota_sentinel.services.context import Context
from quota_sentinel.store.keys import DUE_LEASE_S
from workers.ticking import enqueue_due_polls

ACCOUNTS = 200
THREADS = 4


def _fps(n: int = ACCOUNTS) -> list[str]:
    return [f"{i:016x}" for i in range(n)]


def _mark_due(ctx: Context, fps: list[str], at: float) -> None:
    pipe = ctx.store.pipeline()
    for fp in fps:
        ctx.store.due.add_new(fp, at, pipe)
    pipe.execute()


def _together(work: Callable[[int], None], threads: int = THREADS) -> None:
    """Runs work(0..threads-1) in threads released at the same moment; re-raises any error."""
    barrier = threading.Barrier(threads)
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            barrier.wait()
            work(i)
        except BaseException as exc:  # handed to the main thread, which re-raises it
            errors.append(exc)

    pool = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in pool), "a ticker did not finish"
    if errors:
        raise errors[0]


def test_concurrent_claims_take_every_due_account_exactly_once(settings, ctx, clock) -> None:
    fps = _fps()
    _mark_due(ctx, fps, clock.now)
    # Each ticker has its own connection, as separate scheduler processes would.
    tickers = [Context.build(settings) for _ in range(THREADS)]
    claims: list[list[str]] = [[] for _ in range(THREADS)]

    def tick(i: int) -> None:
        for _ in range(60):  # small batches, many rounds: the tickers interleave
            claims[i].extend(tickers[i].store.due.claim(clock.now, DUE_LEASE_S, limit=3))

    try:
        _together(tick)
    finally:
        for t in tickers:
            t.close()

    counts = Counter(fp for batch in claims for fp in batch)
    assert set(counts) == set(fps)
    assert [fp for fp, n in counts.items() if n > 1] == []
    assert sum(1 for batch in claims if batch) >= 2, "the tickers did not run concurrently"
    # Every claimed account is leased, not forgotten: it comes back after the lease.
    assert ctx.store.due.claim(clock.now + DUE_LEASE_S - 1, DUE_LEASE_S) == []
    assert sorted(ctx.store.due.claim(clock.now + DUE_LEASE_S, DUE_LEASE_S)) == sorted(fps)


def test_claim_takes_only_what_is_due(ctx, clock) -> None:
    _mark_due(ctx, ["00000000000000aa"], clock.now)
    _mark_due(ctx, ["00000000000000bb"], clock.now + 1)

    assert ctx.store.due.claim(clock.now, DUE_LEASE_S) == ["00000000000000aa"]
    assert ctx.store.due.due_at("00000000000000aa") == clock.now + DUE_LEASE_S
    assert ctx.store.due.due_at("00000000000000bb") == clock.now + 1


def test_concurrent_ticks_enqueue_each_account_once(ctx, clock) -> None:
    fps = _fps()
    _mark_due(ctx, fps, clock.now)
    claimed = [0] * THREADS

    def tick(i: int) -> None:
        for _ in range(5):
            claimed[i] += enqueue_due_polls()

    _together(tick)

    queue = ctx.jobs.queue("poll")
    assert sum(claimed) == ACCOUNTS
    assert queue.count == ACCOUNTS
    assert sorted(queue.get_job_ids()) == sorted(poll_job_id(fp) for fp in fps)


def test_ticks_after_the_lease_do_not_enqueue_a_queued_poll_again(ctx, clock) -> None:
    fps = _fps()
    _mark_due(ctx, fps, clock.now)

    assert enqueue_due_polls() == ACCOUNTS
    assert enqueue_due_polls() == 0  # a restarted scheduler ticking at once claims nothing
    # No worker ran them; the lease ends and the accounts are claimed again.
    clock.advance(DUE_LEASE_S)
    assert enqueue_due_polls() == ACCOUNTS

    queue = ctx.jobs.queue("poll")
    assert queue.count == ACCOUNTS
    assert len(set(queue.get_job_ids())) == ACCOUNTS


def test_enqueue_poll_refuses_a_second_queued_job(ctx) -> None:
    assert ctx.jobs.enqueue_poll("00000000000000aa") is True
    assert ctx.jobs.enqueue_poll("00000000000000aa") is False
    job = ctx.jobs.queue("poll").fetch_job(poll_job_id("00000000000000aa"))
    assert job.func_name == "workers.polling.poll_account"
    assert job.args == ("00000000000000aa",)
    assert 0 < job.timeout <= 120
    assert job.result_ttl is not None and 0 <= job.result_ttl < 30
    assert job.failure_ttl is not None and 0 < job.failure_ttl < 30
