"""poll_account(fp): happy path against the provider fakes, its guards, and the next due time."""

from __future__ import annotations

import pytest
from rq.registry import FailedJobRegistry

from quota_sentinel.jobs import POLL_LOCK_TTL_S
from tests.upstreams.server import Reply, Request
from tests.upstreams.zai import QUOTA_PATH
from tests.workers.support import (
    DEEPSEEK_KEY,
    HOUR_S,
    ZAI_KEY,
    deepseek_auth,
    fp_of,
    ms,
    register_instance,
    sample_count,
)
from workers.polling import JITTER_FRACTION, poll_account


def test_poll_of_zai_writes_snapshot_and_sample(zai, client, ctx, clock) -> None:
    reset = clock.now + 2 * HOUR_S
    zai.set_usage(five_hour=41, weekly=18, reset_5h_ms=ms(reset))
    fp = fp_of(ctx, register_instance(client))

    assert poll_account(fp) == "ok"

    assert zai.calls == 1
    assert zai.requests[-1].headers["authorization"] == f"Bearer {ZAI_KEY}"
    snap = ctx.store.snapshots.get(fp)
    assert snap is not None
    assert snap.error is None and snap.failures == 0
    assert snap.polled_at == snap.ok_at == clock.now
    assert snap.plan == "pro"
    assert snap.windows["5h"]["utilization"] == 41
    assert snap.windows["5h"]["resets_at"] == pytest.approx(reset, abs=0.001)
    assert snap.windows["weekly"]["utilization"] == 18
    assert snap.windows["mcp_monthly"]["utilization"] == pytest.approx(13.7)
    samples = ctx.store.snapshots.samples_since([fp], 0)[fp]
    assert [s.t for s in samples] == [clock.now]
    assert samples[0].windows["5h"][0] == 41
    assert ctx.store.last_poll_at() == clock.now


def test_poll_of_deepseek_writes_snapshot_sample_and_reference(
    deepseek, client, ctx, clock
) -> None:
    fp = fp_of(ctx, register_instance(client, auth=deepseek_auth()), "deepseek")

    assert poll_account(fp) == "ok"
    deepseek.set_balance(7.5)
    clock.advance(ctx.settings.min_poll_gap_s)
    assert poll_account(fp) == "ok"

    assert deepseek.calls == 2
    assert deepseek.requests[-1].headers["authorization"] == f"Bearer {DEEPSEEK_KEY}"
    snap = ctx.store.snapshots.get(fp)
    assert snap.windows["balance"]["utilization"] == pytest.approx(25.0)
    assert snap.windows["balance"]["metadata"]["total_balance"] == 7.5
    assert ctx.store.accounts.get(fp).state == {"reference_balance": 10.0, "currency": "USD"}
    assert [s.windows["balance"][0] for s in ctx.store.snapshots.samples_since([fp], 0)[fp]] == [
        0.0,
        pytest.approx(25.0),
    ]


def test_second_poll_within_min_poll_gap_is_too_soon(zai, client, ctx, clock) -> None:
    fp = fp_of(ctx, register_instance(client))

    assert poll_account(fp) == "ok"
    assert poll_account(fp) == "too soon"
    clock.advance(ctx.settings.min_poll_gap_s - 1)
    assert poll_account(fp) == "too soon"

    assert zai.calls == 1
    assert sample_count(ctx, fp) == 1
    clock.advance(1)
    assert poll_account(fp) == "ok"
    assert zai.calls == 2


def test_poll_while_the_lock_is_held_is_skipped(zai, client, ctx) -> None:
    fp = fp_of(ctx, register_instance(client))
    key = ctx.store.keys.poll_lock(fp)
    token = ctx.store.locks.acquire(key, POLL_LOCK_TTL_S)
    assert token is not None

    assert poll_account(fp) == "locked"
    assert zai.calls == 0
    assert ctx.store.snapshots.get(fp) is None

    assert ctx.store.locks.release(key, token)
    assert poll_account(fp) == "ok"
    assert zai.calls == 1
    assert ctx.store.r.exists(key) == 0, "the poll must release its lock"


def test_poll_holds_a_short_lock_while_in_flight(zai, client, ctx) -> None:
    # Seen from the upstream while the poll is in flight: a second worker cannot start a poll
    # of the same account, and the lock is short (renewed while the poll runs, see
    # tests/store/test_locks.py), so a killed worker's lock is gone within POLL_LOCK_TTL_S.
    fp = fp_of(ctx, register_instance(client))
    key = ctx.store.keys.poll_lock(fp)
    seen: list[int] = []

    def observe(request: Request) -> Reply:
        seen.append(ctx.store.r.ttl(key))
        return zai._serve(request)

    zai.upstream.route("GET", QUOTA_PATH, observe)
    assert poll_account(fp) == "ok"

    assert len(seen) == 1 and 0 < seen[0] <= POLL_LOCK_TTL_S
    assert ctx.store.r.exists(key) == 0


def test_poll_of_unknown_account_is_gone_and_leaves_due(zai, client, ctx, clock) -> None:
    pipe = ctx.store.pipeline()
    ctx.store.due.add_new("0123456789abcdef", clock.now, pipe)
    pipe.execute()

    assert poll_account("0123456789abcdef") == "gone"
    assert ctx.store.due.due_at("0123456789abcdef") is None
    assert zai.calls == 0


def test_poll_of_expired_account_is_gone(zai, client, ctx) -> None:
    fp = fp_of(ctx, register_instance(client))
    ctx.store.r.delete(ctx.store.keys.account(fp))

    assert poll_account(fp) == "gone"
    assert ctx.store.due.due_at(fp) is None
    assert zai.calls == 0


def test_poll_after_the_only_subscriber_deregistered_is_unsubscribed(zai, client, ctx) -> None:
    reg = register_instance(client)
    fp = fp_of(ctx, reg)
    response = client.delete(f"/v1/instances/{reg.instance_id}", headers=reg.headers)
    assert response.status_code == 200

    assert poll_account(fp) == "unsubscribed"
    assert zai.calls == 0
    assert ctx.store.snapshots.get(fp) is None


def test_poll_after_the_only_subscriber_expired_is_unsubscribed(zai, client, ctx, clock) -> None:
    reg = register_instance(client, poll_interval=30)
    fp = fp_of(ctx, reg)
    clock.advance(30 * ctx.settings.heartbeat_factor + 1)

    assert poll_account(fp) == "unsubscribed"
    assert zai.calls == 0


def _next_due_offsets(ctx, clock, fp: str, polls: int) -> list[float]:
    offsets = []
    for _ in range(polls):
        assert poll_account(fp) == "ok"
        due = ctx.store.due.due_at(fp)
        assert ctx.store.snapshots.get(fp).next_poll_at == pytest.approx(due)
        offsets.append(due - clock.now)
        clock.advance(ctx.settings.min_poll_gap_s)
    return offsets


def test_next_due_is_the_smallest_live_interval_with_jitter(zai, client, ctx, clock) -> None:
    fast = register_instance(client, poll_interval=60)
    slow = register_instance(client, poll_interval=120)
    fp = fp_of(ctx, fast)
    assert fp_of(ctx, slow) == fp

    offsets = _next_due_offsets(ctx, clock, fp, 12)

    assert all(60 * (1 - JITTER_FRACTION) <= o <= 60 for o in offsets), offsets
    assert len({round(o, 3) for o in offsets}) > 1, "the next due time is not jittered"


def test_next_due_follows_the_remaining_subscriber(zai, client, ctx, clock) -> None:
    fast = register_instance(client, poll_interval=60)
    register_instance(client, poll_interval=120)
    fp = fp_of(ctx, fast)
    assert client.delete(f"/v1/instances/{fast.instance_id}", headers=fast.headers).status_code

    offsets = _next_due_offsets(ctx, clock, fp, 5)

    assert all(120 * (1 - JITTER_FRACTION) <= o <= 120 for o in offsets), offsets


def test_poll_job_runs_on_a_real_worker(zai, client, ctx, drain) -> None:
    fp = fp_of(ctx, register_instance(client))

    assert ctx.jobs.enqueue_poll(fp) is True
    assert drain() == 1

    assert zai.calls == 1
    assert ctx.store.snapshots.get(fp).windows["5h"]["utilization"] == 41
    assert FailedJobRegistry(ctx.jobs.names["poll"], connection=ctx.jobs.r).count == 0


def test_fakes_reach_the_settings_whatever_the_fixture_order(ctx, client, deepseek, zai) -> None:
    # ctx is listed first: the workers conftest still builds settings after the fakes.
    assert ctx.settings.base_url("zai") == zai.url
    assert ctx.settings.base_url("deepseek") == deepseek.url
    fp = fp_of(ctx, register_instance(client))
    assert poll_account(fp) == "ok" and zai.calls == 1
