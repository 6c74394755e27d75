"""The thinned history: one sample per 15-minute slot, kept 35 days, beside the recent samples."""

from __future__ import annotations

from quota_sentinel.providers.base import WindowUsage
from quota_sentinel.store.keys import HISTORY_SLOT_S, SAMPLE_MAX_COUNT
from quota_sentinel.store.snapshots import Snapshot, StoredSample
from tests.factories import register

DAY_S = 24 * 3600


def _fp(ctx, client) -> str:
    reg = register(client)
    return ctx.store.instances.get(reg["instance_id"]).accounts["zai"]


def _record(ctx, fp: str, t: float, utilization: float) -> None:
    sample = StoredSample(t, {"mcp_monthly": WindowUsage(utilization)})
    assert ctx.store.snapshots.record(fp, Snapshot(polled_at=t, ok_at=t), sample, None)


def test_history_keeps_the_last_sample_of_each_slot_beyond_the_recent_samples(ctx, client):
    fp = _fp(ctx, client)
    start = 1_790_000_000 // HISTORY_SLOT_S * HISTORY_SLOT_S
    step = 300
    count = 10 * DAY_S // step  # ten days of 5-minute polls: more than the recent samples keep
    for i in range(count):
        _record(ctx, fp, start + i * step, i / count * 100)
    end = start + (count - 1) * step

    recent = ctx.store.snapshots.samples_since([fp], 0)[fp]
    history = ctx.store.snapshots.history_since([fp], 0)[fp]
    assert len(recent) == SAMPLE_MAX_COUNT
    assert recent[0].t > start + 2 * DAY_S  # the recent samples lost the first days…
    assert history[0].t == start + 2 * step  # …the history kept them, one per slot
    assert len(history) == count * step // HISTORY_SLOT_S
    assert all(b.t - a.t == HISTORY_SLOT_S for a, b in zip(history, history[1:], strict=False))
    assert history[-1].t == end

    since = ctx.store.snapshots.history_since([fp], end - 9 * DAY_S)[fp]
    assert since[0].t <= end - 9 * DAY_S + HISTORY_SLOT_S


def test_history_drops_samples_older_than_35_days(ctx, client):
    fp = _fp(ctx, client)
    start = 1_790_000_000
    _record(ctx, fp, start, 10.0)
    _record(ctx, fp, start + 36 * DAY_S, 20.0)

    history = ctx.store.snapshots.history_since([fp], 0)[fp]
    assert [s.windows["mcp_monthly"].utilization for s in history] == [20.0]


def test_history_expires_with_the_account(ctx, client, redis_client):
    fp = _fp(ctx, client)
    _record(ctx, fp, 1_790_000_000, 10.0)
    account_ttl = redis_client.ttl(ctx.store.keys.account(fp))
    assert 0 < redis_client.ttl(ctx.store.keys.history(fp)) <= account_ttl
