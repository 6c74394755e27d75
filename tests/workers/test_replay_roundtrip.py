"""One forecast: a server's own history, recorded by a real worker, exported and replayed tells
the status the server told at every poll (failed polls and slow pollers included); a request
grades the forecast the worker stored, without reading samples."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from quota_sentinel.cli import main
from quota_sentinel.engine import grade
from quota_sentinel.services.forecast import trend_of
from quota_sentinel.store.snapshots import Snapshot
from tests.test_replay import live_url  # noqa: F401 (the app over real HTTP, a fixture)
from tests.workers.support import heartbeat, ms, providers_view, register_instance

HOUR_S = 3600


def _levels(count: int, interval: int) -> list[int]:
    """Idle at 10 %, then a burst of 36 %/h up to 100 %: the shape that needs the short fit."""
    step = 3 * interval // 300
    return [min(10 + step * max(i - count // 3, 0), 100) for i in range(count)]


@pytest.mark.parametrize("interval", [300, 1800], ids=["5-min poller", "30-min poller"])
def test_replay_of_an_exported_history_tells_the_status_the_server_told(
    interval,
    zai,
    client,
    clock,
    drain,
    live_url,  # noqa: F811 (the imported fixture)
):
    reg = register_instance(client, poll_interval=interval)
    reset = clock.now + 5 * HOUR_S if interval == 300 else clock.now + 40 * HOUR_S
    count = 24
    failing = set(range(count // 2, count // 2 + 5))  # five failed polls in a row
    told = []
    for i, level in enumerate(_levels(count, interval)):
        if i:
            clock.advance(interval)
        heartbeat(client, reg)
        zai.set_usage(five_hour=level, reset_5h_ms=ms(reset))
        if i in failing:
            zai.fail("500")
        else:
            zai.ok()
        assert client.post("/v1/poll", headers=reg.headers).status_code == 202
        assert drain() == 1
        told.append(providers_view(client, reg)["zai"]["windows"]["5h"])

    statuses = [w["status"] for w in told]
    assert "UNKNOWN" in statuses, "the failed stretch outlives the trust window"
    assert {"GREEN", "RED"} <= set(statuses), statuses
    assert any(w["stale"] for w in told)

    exported = CliRunner().invoke(
        main, ["export-samples", "--url", live_url, "--api-key", reg.api_key]
    )
    assert exported.exit_code == 0, exported.output
    lines = [json.loads(line) for line in exported.output.splitlines()]
    assert sum("error" in line for line in lines) == len(failing)
    assert {line["poll_interval_s"] for line in lines} == {interval}
    trace = "".join(json.dumps(line) + "\n" for line in lines)
    replayed = CliRunner().invoke(main, ["replay", "-", "--json"], input=trace)
    assert replayed.exit_code == 0, replayed.output
    rows = [json.loads(line) for line in replayed.output.splitlines()]
    five_hour = [r for r in rows if r.get("window") == "5h"]

    assert [r["status"] for r in five_hour] == statuses
    assert [r["outlook_code"] for r in five_hour] == [w["outlook_code"] for w in told]
    assert [r["velocity_pct_per_hour"] for r in five_hour] == [
        w["velocity_pct_per_hour"] for w in told
    ]
    assert [bool(r.get("error")) for r in five_hour] == [i in failing for i in range(count)]


def test_a_status_request_grades_the_stored_forecast_without_reading_samples(
    zai, client, ctx, clock, drain
):
    reg = register_instance(client, poll_interval=300)
    reset = clock.now + 4 * HOUR_S
    for i, level in enumerate([10, 16, 22, 28, 34, 40]):
        if i:
            clock.advance(300)
        heartbeat(client, reg)
        zai.set_usage(five_hour=level, reset_5h_ms=ms(reset))
        assert client.post("/v1/poll", headers=reg.headers).status_code == 202
        assert drain() == 1
    before = providers_view(client, reg)["zai"]
    fp = ctx.store.instances.get(reg.instance_id).accounts["zai"]
    # The samples are the worker's input only: without them a request answers the same.
    assert ctx.store.r.delete(ctx.store.keys.samples(fp), ctx.store.keys.history(fp)) == 2

    after = providers_view(client, reg)["zai"]

    assert after == before
    assert after["windows"]["5h"]["velocity_pct_per_hour"] > 60
    assert after["windows"]["5h"]["samples_used"] == 6


def test_a_snapshot_stored_before_forecasts_were_still_grades_its_last_reading():
    text = json.dumps(
        {
            "polled_at": 1000.0,
            "ok_at": 1000.0,
            "windows": {"5h": {"utilization": 81.0, "resets_at": 9000.0}},
            "plan": None,
            "error": None,
            "failures": 0,
            "next_poll_at": 1300.0,
        }
    )
    snap = Snapshot.from_json(text)

    trend = trend_of(snap, "5h")
    forecast = grade(trend, cap=80.0, now=1010.0, safety_margin_min=30.0)

    assert snap.trends == {} and snap.interval_s is None
    assert (trend.t, trend.utilization, trend.velocity) == (1000.0, 81.0, None)
    assert forecast.status.value == "RED" and forecast.outlook.value == "at_cap"
    assert trend_of(snap, "weekly") is None
