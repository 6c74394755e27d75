"""reap_expired: expired instances, unsubscribed and orphaned accounts leave the indexes."""

from __future__ import annotations

from tests.workers.support import fp_of, register_instance, zai_auth
from workers.maintenance import reap_expired
from workers.ticking import enqueue_due_polls

ORPHAN = "00000000000000ff"


def _setup(client, ctx, clock):
    """A (30 s, expires soon) alone on key a; B (300 s) alone on key b; A2 (30 s) and B2 (300 s)
    sharing key s; D deregistered, alone on key d; an orphan due entry without an account."""
    a = register_instance(client, auth=zai_auth("key-a"), poll_interval=30)
    b = register_instance(client, auth=zai_auth("key-b"), poll_interval=300)
    a2 = register_instance(client, auth=zai_auth("key-s"), poll_interval=30)
    b2 = register_instance(client, auth=zai_auth("key-s"), poll_interval=300)
    d = register_instance(client, auth=zai_auth("key-d"), poll_interval=300)
    fps = {name: fp_of(ctx, reg) for name, reg in (("a", a), ("b", b), ("s", a2), ("d", d))}
    assert fp_of(ctx, b2) == fps["s"]
    assert client.delete(f"/v1/instances/{d.instance_id}", headers=d.headers).status_code == 200
    pipe = ctx.store.pipeline()
    ctx.store.due.add_new(ORPHAN, clock.now, pipe)
    pipe.execute()
    return {"a": a, "b": b, "a2": a2, "b2": b2}, fps


def test_reap_removes_expired_instances_and_accounts_nobody_watches(client, ctx, clock) -> None:
    regs, fps = _setup(client, ctx, clock)
    clock.advance(30 * ctx.settings.heartbeat_factor + 1)  # A and A2 have expired

    counts = reap_expired()

    assert counts == {"instances": 2, "orphans": 1, "unsubscribed": 2}
    assert sorted(ctx.store.instances.live_ids(0)) == sorted(
        [regs["b"].instance_id, regs["b2"].instance_id]
    )
    assert sorted(ctx.store.due.all()) == sorted([fps["b"], fps["s"]])
    shared_subs = ctx.store.r.zrange(ctx.store.keys.subscribers(fps["s"]), 0, -1)
    assert shared_subs == [regs["b2"].instance_id]


def test_reap_twice_is_harmless(client, ctx, clock) -> None:
    regs, fps = _setup(client, ctx, clock)
    clock.advance(30 * ctx.settings.heartbeat_factor + 1)
    reap_expired()
    due_before = sorted(ctx.store.due.all())

    assert reap_expired() == {"instances": 0, "orphans": 0, "unsubscribed": 0}

    assert sorted(ctx.store.due.all()) == due_before
    assert ctx.store.accounts.exists(fps["b"]) and ctx.store.accounts.exists(fps["s"])
    assert enqueue_due_polls() == 2


def test_reap_keeps_live_accounts_due(client, ctx, clock) -> None:
    regs, fps = _setup(client, ctx, clock)

    counts = reap_expired()

    assert counts == {"instances": 0, "orphans": 1, "unsubscribed": 1}  # D's account
    assert sorted(ctx.store.due.all()) == sorted([fps["a"], fps["b"], fps["s"]])


def test_reaped_account_is_scheduled_again_when_someone_registers_its_key(
    client, ctx, clock
) -> None:
    regs, fps = _setup(client, ctx, clock)
    clock.advance(30 * ctx.settings.heartbeat_factor + 1)
    reap_expired()
    assert ctx.store.due.due_at(fps["a"]) is None

    again = register_instance(client, auth=zai_auth("key-a"))

    assert fp_of(ctx, again) == fps["a"]
    assert ctx.store.due.due_at(fps["a"]) == clock.now
