"""The stored form of snapshots and samples: what older versions wrote still loads, as typed
values, and what this version writes is the same JSON."""

from __future__ import annotations

import json

from quota_sentinel.engine import Trend
from quota_sentinel.providers.base import WindowUsage
from quota_sentinel.store.snapshots import Snapshot, StoredSample
from tests.factories import key_header, register

# A snapshot as written before forecasts were stored with it (no trends, no interval_s) and
# a window without metadata, as the earliest versions wrote it.
OLD_SNAPSHOT = {
    "polled_at": 0.0,
    "ok_at": 0.0,
    "windows": {
        "5h": {"utilization": 41.5, "resets_at": 7200.0, "metadata": {"plan": "pro"}},
        "weekly": {"utilization": 12.0, "resets_at": None},
    },
    "plan": "pro",
    "error": None,
    "failures": 0,
    "next_poll_at": 300.0,
}


def _old_snapshot(at: float) -> dict:
    snap = json.loads(json.dumps(OLD_SNAPSHOT))
    snap["polled_at"] = snap["ok_at"] = at
    snap["next_poll_at"] = at + 300
    snap["windows"]["5h"]["resets_at"] = at + 7200
    return snap


def _old_sample(t: float, five: float) -> str:
    return json.dumps({"t": t, "windows": {"5h": [five, t + 7200], "weekly": [12.0, None]}})


def test_an_old_snapshot_and_its_samples_load_as_typed_values_and_serve(
    ctx, client, redis_client, clock
):
    reg = register(client)
    fp = ctx.store.instances.get(reg["instance_id"]).accounts["zai"]
    now = clock.now
    keys = ctx.store.keys
    # Written as an older version left them in Redis, bypassing this version's encoder.
    redis_client.set(keys.snapshot(fp), json.dumps(_old_snapshot(now)))
    redis_client.zadd(keys.samples(fp), {_old_sample(now - 300, 40.0): now - 300})
    redis_client.zadd(keys.samples(fp), {_old_sample(now, 41.5): now})

    snap = ctx.store.snapshots.get(fp)
    assert snap.windows == {
        "5h": WindowUsage(41.5, now + 7200, {"plan": "pro"}),
        "weekly": WindowUsage(12.0, None, {}),
    }
    assert snap.trends == {} and snap.interval_s is None
    samples = ctx.store.snapshots.samples_since([fp], 0)[fp]
    assert [s.t for s in samples] == [now - 300, now]
    assert samples[-1].windows == {
        "5h": WindowUsage(41.5, now + 7200),
        "weekly": WindowUsage(12.0, None),
    }

    # …and the services read them: the provider view and the samples export.
    headers = key_header(reg["api_key"])
    view = client.get("/v1/providers", headers=headers).get_json()["zai"]
    assert view["windows"]["5h"]["utilization"] == 41.5
    assert view["windows"]["5h"]["metadata"] == {"plan": "pro"}
    assert view["windows"]["weekly"]["utilization"] == 12.0
    exported = client.get("/v1/samples", headers=headers).get_json()["samples"]
    assert [(r["t"], r["window"], r["utilization"]) for r in exported] == [
        (now - 300, "5h", 40.0),
        (now - 300, "weekly", 12.0),
        (now, "5h", 41.5),
        (now, "weekly", 12.0),
    ]


def test_this_version_writes_the_json_older_versions_wrote():
    trend = Trend(5.0, 41.5, 7205.0, 3.0, 2.5, None, 0.4, 5.0, 6, 41.5)
    old = {**OLD_SNAPSHOT, "trends": {"5h": trend.to_json()}, "interval_s": 300.0}
    old["windows"] = {
        "5h": OLD_SNAPSHOT["windows"]["5h"],
        "weekly": {**OLD_SNAPSHOT["windows"]["weekly"], "metadata": {}},
    }
    text = json.dumps(old, sort_keys=True)
    snap = Snapshot.from_json(text)
    assert snap.trends == {"5h": trend}
    assert snap.to_json() == text

    member = json.dumps(
        {"t": 5.0, "windows": {"5h": [41.5, 7205.0], "weekly": [12.0, None]}, "interval": 300},
        sort_keys=True,
    )
    sample = StoredSample.from_json(member)
    assert sample.windows["5h"] == WindowUsage(41.5, 7205.0)
    assert sample.to_json() == member
