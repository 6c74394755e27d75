"""An instance's share of a shared account follows the other subscribers: their state, their
deregistration, and their silent expiry (by the clock at read time, and by the reaper)."""

from __future__ import annotations

import pytest

from quota_sentinel.engine import WEIGHT_UNITS
from quota_sentinel.store.weights import DEFAULT_WEIGHT
from tests.api.helpers import heartbeat, poll_now
from tests.factories import key_header, register
from workers.maintenance import reap_expired

# The default poll interval (300 s) × the default heartbeat factor (3).
TTL_S = 900


def allocation(client, reg) -> dict:
    status = client.get("/v1/status", headers=key_header(reg["api_key"]))
    assert status.status_code == 200, status.get_json()
    return status.get_json()["allocation"]["zai"]


def fingerprint(ctx, reg) -> str:
    return ctx.store.instances.get(reg["instance_id"]).accounts["zai"]


def stored_weights(ctx, reg) -> dict[str, str]:
    """The raw weights hash: `_total` and the weight of every subscriber that is not active."""
    return ctx.store.r.hgetall(ctx.store.keys.weights(fingerprint(ctx, reg)))


def live_weights(ctx, reg, now: float) -> dict[str, int]:
    fp = fingerprint(ctx, reg)
    return ctx.store.accounts.weights([fp], now)[fp]


def test_share_follows_another_subscriber_turning_idle_paused_and_active(client):
    me, other = register(client), register(client)
    assert allocation(client, me)["share"] == 0.5

    assert heartbeat(client, other, state="idle").status_code == 200
    assert allocation(client, me)["share"] == pytest.approx(1 / 1.3, abs=1e-4)
    assert allocation(client, other)["share"] == pytest.approx(0.3 / 1.3, abs=1e-4)

    assert heartbeat(client, other, state="paused").status_code == 200
    mine = allocation(client, me)
    assert mine["share"] == 1.0 and mine["subscribers"] == 2
    assert allocation(client, other)["share"] == 0.0

    assert heartbeat(client, other, state="active").status_code == 200
    assert allocation(client, me)["share"] == 0.5


def test_effective_caps_follow_the_share(client, zai, drain):
    me, other = register(client), register(client)
    poll_now(client, me["api_key"], drain)
    shared = allocation(client, me)["effective_caps"]
    heartbeat(client, other, state="paused")
    alone = allocation(client, me)["effective_caps"]
    # zai's default cap is 80; overcommit 1.5: 80 × 0.5 × 1.5 = 60, and alone the cap itself.
    assert shared and set(shared.values()) == {60.0}
    assert set(alone) == set(shared) and set(alone.values()) == {80.0}


def test_share_grows_when_another_subscriber_deregisters(client, ctx):
    me, other = register(client), register(client)
    assert allocation(client, me)["share"] == 0.5

    client.delete(f"/v1/instances/{other['instance_id']}", headers=key_header(other["api_key"]))

    mine = allocation(client, me)
    assert mine["share"] == 1.0 and mine["subscribers"] == 1
    assert stored_weights(ctx, me) == {"_total": "10"}


def test_share_grows_when_another_subscriber_expires_without_a_word(client, ctx, clock):
    me, silent = register(client), register(client)
    heartbeat(client, silent, state="idle")
    assert allocation(client, me)["share"] == pytest.approx(1 / 1.3, abs=1e-4)

    clock.advance(TTL_S - 60)
    assert heartbeat(client, me).status_code == 200
    assert allocation(client, me)["share"] == pytest.approx(1 / 1.3, abs=1e-4)
    clock.advance(61)  # the silent one's expiry is now behind; nothing told the server

    mine = allocation(client, me)
    assert mine["share"] == 1.0 and mine["subscribers"] == 1
    assert stored_weights(ctx, me) == {"_total": "10"}


def test_the_reaper_removes_an_expired_subscriber_and_its_weight(client, ctx, clock):
    me, silent = register(client), register(client)
    heartbeat(client, silent, state="paused")  # its weight 0 leaves the total as it is
    clock.advance(TTL_S - 60)
    heartbeat(client, me, state="idle")
    clock.advance(61)

    reap_expired()

    weights = stored_weights(ctx, me)
    assert weights == {me["instance_id"]: str(WEIGHT_UNITS["idle"]), "_total": "3"}
    assert live_weights(ctx, me, clock.now) == {me["instance_id"]: 3}
    assert silent["instance_id"] not in weights
    # Alone and idle: the whole budget is still its own.
    assert allocation(client, me)["share"] == 1.0


def test_weights_total_stays_the_sum_through_many_changes(client, ctx, clock):
    regs = [register(client) for _ in range(6)]
    for reg, state in zip(
        regs, ["idle", "paused", "active", "idle", "idle", "paused"], strict=True
    ):
        heartbeat(client, reg, state=state)
    heartbeat(client, regs[0], state="active")
    for leaving in (regs[1], regs[3]):  # a paused one (weight 0) and an idle one
        gone = client.delete(
            f"/v1/instances/{leaving['instance_id']}", headers=key_header(leaving["api_key"])
        )
        assert gone.status_code == 200

    expected = {
        r["instance_id"]: s
        for r, s in zip(regs, [10, 0, 10, 3, 3, 0], strict=True)
        if r not in (regs[1], regs[3])
    }
    assert live_weights(ctx, regs[0], clock.now) == expected
    assert int(stored_weights(ctx, regs[0])["_total"]) == sum(expected.values())
    assert allocation(client, regs[0])["share"] == pytest.approx(10 / 23, abs=1e-4)


def test_an_active_subscriber_costs_no_field_of_its_own(client, ctx):
    assert DEFAULT_WEIGHT == WEIGHT_UNITS["active"]
    regs = [register(client) for _ in range(3)]
    heartbeat(client, regs[2], state="paused")
    assert stored_weights(ctx, regs[0]) == {regs[2]["instance_id"]: "0", "_total": "20"}


def test_an_account_stored_before_weights_were_kept_gets_its_total_counted(client, ctx):
    me, other, idle = register(client), register(client), register(client)
    heartbeat(client, idle, state="idle")
    weights_key = ctx.store.keys.weights(fingerprint(ctx, me))
    ctx.store.r.delete(weights_key)  # what a server of the previous version left behind

    # Every subscriber is counted at its default (active) weight until it says otherwise.
    assert allocation(client, me)["share"] == pytest.approx(1 / 3, abs=1e-4)
    assert ctx.store.r.ttl(weights_key) > 0
    heartbeat(client, idle, state="idle")
    assert allocation(client, me)["share"] == pytest.approx(1 / 2.3, abs=1e-4)
    client.delete(f"/v1/instances/{other['instance_id']}", headers=key_header(other["api_key"]))
    assert allocation(client, me)["share"] == pytest.approx(1 / 1.3, abs=1e-4)
