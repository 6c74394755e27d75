"""Alerts end to end: real polls against the Z.ai fake turn a window RED, the worker detects
the transition, RQ jobs deliver it to real loopback receivers with retries and backoff."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import subprocess
import sys
import threading
from dataclasses import replace

from quota_sentinel.config import Settings
from quota_sentinel.services.alerts import detect_transitions
from quota_sentinel.services.context import Context
from quota_sentinel.services.forecast import trends_after_poll
from quota_sentinel.store.snapshots import StoredSample
from tests.alerts.conftest import SECRET
from tests.api.helpers import heartbeat, poll_now
from tests.factories import ZAI_TEST_KEY, register
from workers.ticking import enqueue_due_polls

GENERIC_FIELDS = {
    "event",
    "provider",
    "account",
    "plan",
    "window",
    "from",
    "to",
    "utilization",
    "projected_exhaustion_min",
    "resets_at",
    "at",
}


def _check_signature(request, now: float) -> None:
    header = request.headers["x-quota-sentinel-signature"]
    t, v1 = (part.split("=", 1)[1] for part in header.split(","))
    expected = hmac.new(
        SECRET.encode(), f"{t}.".encode() + request.body, hashlib.sha256
    ).hexdigest()
    assert hmac.compare_digest(v1, expected) and abs(int(t) - now) <= 300


def _ms(epoch_s: float) -> int:
    return int(epoch_s * 1000)


def _go_red(zai, client, clock, drain) -> dict:
    """An instance whose Z.ai 5h window goes from 20 % to 91 % in a minute (resetting in 2 h)."""
    reg = register(client)
    resets = _ms(clock.now + 2 * 3600)
    zai.set_usage(five_hour=20, weekly=10, reset_5h_ms=resets)
    poll_now(client, reg["api_key"], drain)
    clock.advance(60)
    zai.set_usage(five_hour=91, weekly=10)
    poll_now(client, reg["api_key"], drain)
    return reg


def test_a_window_turning_red_reaches_every_receiver_once_signed_and_retried(
    webhooks, zai, client, ctx, clock, drain, deliver, caplog
):
    caplog.set_level(logging.INFO)
    reg = _go_red(zai, client, clock, drain)

    deliver(lambda: len(ctx.store.alerts.down()) == 1 and len(webhooks.posts(webhooks.flaky)) == 3)

    (ok,) = webhooks.posts(webhooks.ok)
    body = ok.json()
    fp = ctx.store.instances.get(reg["instance_id"]).accounts["zai"]
    assert GENERIC_FIELDS <= set(body)
    assert body["event"] == "window.status_changed" and body["window"] == "5h"
    assert (body["from"], body["to"], body["utilization"]) == ("GREEN", "RED", 91)
    assert body["provider"] == "zai" and body["account"] == fp[:6]
    assert body["resets_at"].endswith("+00:00") and body["at"].endswith("+00:00")
    _check_signature(ok, clock.now)
    assert ok.headers["x-quota-sentinel-delivery"] == body["id"]
    flaky = webhooks.posts(webhooks.flaky)
    assert [r.body for r in flaky] == [ok.body] * 3
    for request in flaky:
        _check_signature(request, clock.now)
    (down,) = ctx.store.alerts.down().values()
    assert down["label"] == "generic 127.0.0.1" and "could not be reached" in down["reason"]
    enqueue_due_polls()  # a scheduler tick: health is "ok" but for the receiver given up on
    health = client.get("/v1/health").get_json()
    assert health["status"] == "ok" and health["webhooks"]["configured"] == 3
    assert [d["receiver"] for d in health["webhooks"]["down"]] == ["generic 127.0.0.1"]
    given_up = [r for r in caplog.records if "given up on" in r.getMessage()]
    assert len(given_up) == 1
    text = caplog.text + json.dumps(health)
    assert webhooks.down_url not in text and SECRET not in text
    for request in webhooks.ok.requests + webhooks.flaky.requests:
        raw = request.body.decode() + json.dumps(request.headers)
        for secret in (ZAI_TEST_KEY, reg["api_key"], fp, SECRET):
            assert secret not in raw


def test_back_to_green_is_an_alert_and_an_unchanged_status_is_not(
    webhooks, zai, client, ctx, clock, drain, deliver
):
    reg = _go_red(zai, client, clock, drain)
    clock.advance(60)
    poll_now(client, reg["api_key"], drain)  # still RED: nothing new
    clock.advance(60)
    zai.set_usage(five_hour=3, weekly=10, reset_5h_ms=_ms(clock.now + 5 * 3600))  # a reset
    poll_now(client, reg["api_key"], drain)

    deliver(lambda: len(webhooks.posts(webhooks.ok)) == 2)

    moves = [(r.json()["from"], r.json()["to"]) for r in webhooks.posts(webhooks.ok)]
    assert moves == [("GREEN", "RED"), ("RED", "GREEN")]
    recent = client.get("/v1/team").get_json()["alerts"]
    assert [(a["from"], a["to"]) for a in recent] == [("RED", "GREEN"), ("GREEN", "RED")]
    assert recent[0]["severity"] == "info" and recent[1]["severity"] == "critical"


def test_refused_credentials_raise_one_alert(webhooks, zai, client, ctx, clock, drain, deliver):
    reg = register(client)
    poll_now(client, reg["api_key"], drain)
    zai.fail("401")
    for _ in range(2):
        clock.advance(60)
        poll_now(client, reg["api_key"], drain)

    deliver(lambda: len(webhooks.posts(webhooks.ok)) >= 1)

    events = [a["event"] for a in ctx.store.alerts.recent()]
    assert events == ["account.credentials_failed"]
    body = webhooks.posts(webhooks.ok)[0].json()
    assert (body["from"], body["to"], body["severity"]) == ("ok", "auth_failed", "critical")


def test_polls_failing_for_more_than_three_intervals_raise_one_alert(
    zai, client, ctx, clock, drain
):
    reg = register(client, poll_interval=60)
    poll_now(client, reg["api_key"], drain)
    zai.fail("500")
    seen = []
    for _ in range(6):
        clock.advance(61)
        assert heartbeat(client, reg).status_code == 200
        poll_now(client, reg["api_key"], drain)
        seen.append([a["event"] for a in ctx.store.alerts.recent()])

    # Failing since the last success 61 s … 366 s ago: the alert comes once past 180 s.
    assert seen[1] == [] and seen[2] == ["account.polls_failing"]
    assert seen[-1] == ["account.polls_failing"]


def test_one_transition_judged_by_two_workers_at_once_is_one_alert(
    webhooks, zai, client, ctx, clock, drain, settings, env
):
    reg = register(client)
    zai.set_usage(five_hour=20)
    poll_now(client, reg["api_key"], drain)
    fp = ctx.store.instances.get(reg["instance_id"]).accounts["zai"]
    # A RED outcome recorded as a poll records it, then judged by two workers at once.
    snap = ctx.store.snapshots.get(fp)
    now = clock.advance(60)
    red_5h = {**snap.windows["5h"], "utilization": 95.0}
    red = replace(snap, polled_at=now, ok_at=now, windows={**snap.windows, "5h": red_5h})
    sample = StoredSample(
        now, {n: (w["utilization"], w["resets_at"]) for n, w in red.windows.items()}
    )
    red = replace(red, trends=trends_after_poll(ctx, fp, sample, 300, snap), interval_s=300)
    assert ctx.store.snapshots.record(fp, red, sample, None)
    judges = [Context.build(settings) for _ in range(2)]
    barrier = threading.Barrier(2)
    queued: list[list] = [[], []]

    def judge(i: int) -> None:
        barrier.wait()
        queued[i] = detect_transitions(judges[i], "zai", fp, 300, now)

    threads = [threading.Thread(target=judge, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    for judge_ctx in judges:
        judge_ctx.close()
    assert sorted(len(q) for q in queued) == [0, 1]
    assert detect_transitions(ctx, "zai", fp, 300, now) == []  # judged again later: nothing

    # Two worker processes work the alerts queue together.
    child_env = {k: v for k, v in os.environ.items() if not k.startswith("QUOTA_SENTINEL_")}
    child_env.update(env)
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "quota_sentinel", "worker", "--burst"],
            env=child_env,
            stdout=subprocess.DEVNULL,
        )
        for _ in range(2)
    ]
    for worker in workers:
        assert worker.wait(timeout=120) == 0

    (post,) = webhooks.posts(webhooks.ok)
    assert (
        post.json()["to"] == "RED" and post.json()["id"] == queued[0 if queued[0] else 1][0]["id"]
    )


def test_filters_pick_receivers_and_a_receiver_back_up_leaves_health(
    receivers, env, zai, client, ctx, clock, drain, deliver, caplog
):
    caplog.set_level(logging.INFO)
    ok, flaky = receivers.ok.url + "/hook", receivers.flaky.url + "/hook"
    # flaky refuses the first alert's 5 tries (2 scripted by the fixture, 3 here), then recovers.
    receivers.flaky.script("/hook", method="POST", status=500, times=3)
    env["QUOTA_SENTINEL_WEBHOOKS"] = f"{ok}#providers=deepseek,{flaky}#min=critical"
    ctx.settings = ctx.settings.replace(
        webhooks=Settings.from_env(env).webhooks, webhook_retry_base_s=0.2
    )
    reg = _go_red(zai, client, clock, drain)
    deliver(lambda: bool(ctx.store.alerts.down()))
    down = client.get("/v1/health").get_json()["webhooks"]["down"]
    assert [d["receiver"] for d in down] == ["generic 127.0.0.1"]

    # A reset: back to GREEN (info: below flaky's minimum), then RED again.
    resets = _ms(clock.now + 5 * 3600)
    for usage in (50, 93):
        clock.advance(60)
        zai.set_usage(five_hour=usage, weekly=10, reset_5h_ms=resets)
        poll_now(client, reg["api_key"], drain)
    deliver(lambda: not ctx.store.alerts.down())

    assert receivers.posts(receivers.ok) == []  # zai alerts; it wants deepseek only
    moves = [(a["from"], a["to"]) for a in ctx.store.alerts.recent()]
    assert moves == [("GREEN", "RED"), ("RED", "GREEN"), ("GREEN", "RED")]
    taken = [r.json() for r in receivers.posts(receivers.flaky)]
    assert len(taken) == 6 and {(a["from"], a["to"]) for a in taken} == {("GREEN", "RED")}
    assert client.get("/v1/health").get_json()["webhooks"]["down"] == []
    assert len([r for r in caplog.records if "given up on" in r.getMessage()]) == 1
