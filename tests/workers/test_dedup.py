"""Credential dedup: many instances on one key are one account, one upstream call per interval."""

from __future__ import annotations

from tests.workers.support import (
    fp_of,
    get_json,
    heartbeat,
    providers_view,
    register_instance,
    zai_auth,
)
from workers.ticking import enqueue_due_polls

INSTANCES = 50
INTERVAL_S = 300


def test_fifty_instances_on_one_key_are_one_account_polled_once_per_interval(
    zai, client, ctx, clock, drain
) -> None:
    regs = [register_instance(client, poll_interval=INTERVAL_S) for _ in range(INSTANCES)]
    fps = {fp_of(ctx, reg) for reg in regs}
    assert len(fps) == 1
    (fp,) = fps
    assert ctx.store.due.all() == [fp]
    assert len(ctx.store.accounts.live_subscribers(fp, clock.now)) == INSTANCES

    assert enqueue_due_polls() == 1
    assert drain() == 1
    assert zai.calls == 1

    # Every subscriber sees that one poll.
    for reg in (regs[0], regs[-1]):
        assert providers_view(client, reg)["zai"]["windows"]["5h"]["utilization"] == 41

    # Ticking again within the interval: nothing is due.
    clock.advance(INTERVAL_S * 0.8)
    assert enqueue_due_polls() == 0
    assert drain() == 0
    assert zai.calls == 1

    # After the interval, one more poll however often the scheduler ticks.
    for reg in regs:
        heartbeat(client, reg)
    clock.advance(INTERVAL_S * 0.2)
    assert enqueue_due_polls() == 1
    assert enqueue_due_polls() == 0
    assert drain() == 1
    assert zai.calls == 2


def test_poll_requests_of_fifty_instances_make_one_upstream_call(
    zai, client, ctx, clock, drain
) -> None:
    regs = [register_instance(client, poll_interval=INTERVAL_S) for _ in range(INSTANCES)]

    answers = [client.post("/v1/poll", headers=reg.headers) for reg in regs]
    assert {a.status_code for a in answers} == {202}
    assert drain() == 1
    assert enqueue_due_polls() == 0, "the poll rescheduled the account"
    assert zai.calls == 1

    # Within the min poll gap the requests are deferred, not polled.
    clock.advance(ctx.settings.min_poll_gap_s / 3)
    answer = client.post("/v1/poll", headers=regs[7].headers).get_json()
    assert answer["queued"] == []
    assert answer["scheduled_in_s"]["zai"] == round(ctx.settings.min_poll_gap_s * 2 / 3, 1)
    assert drain() == 0
    assert zai.calls == 1

    # Once the gap has passed, the scheduler polls the deferred request, once.
    clock.advance(ctx.settings.min_poll_gap_s)
    assert enqueue_due_polls() == 1
    assert drain() == 1
    assert zai.calls == 2


def test_two_keys_of_one_provider_are_two_accounts(zai, client, ctx, clock, drain) -> None:
    # The fake accepts one key; the other gets Z.ai's auth envelope: separate outcomes. (The
    # provider may retry a rejected key in another header form, so its calls are not counted.)
    good = register_instance(client, auth=zai_auth())
    other = register_instance(client, auth=zai_auth("zai-other-key"))
    fp_good, fp_other = fp_of(ctx, good), fp_of(ctx, other)
    assert fp_good != fp_other
    assert sorted(ctx.store.due.all()) == sorted([fp_good, fp_other])

    assert enqueue_due_polls() == 2
    assert drain() == 2

    sent = [r.headers["authorization"].removeprefix("Bearer ") for r in zai.requests]
    assert sent.count("zai-test-key") == 1
    assert "zai-other-key" in sent and set(sent) == {"zai-test-key", "zai-other-key"}
    samples = ctx.store.snapshots.samples_since([fp_good, fp_other], 0)
    # The refused key's failed poll is stored as a marker with no utilization.
    assert len(samples[fp_good]) == 1 and [s.windows for s in samples[fp_other]] == [{}]
    assert providers_view(client, good)["zai"]["status"] == "GREEN"
    other_view = providers_view(client, other)["zai"]
    assert other_view["status"] == "UNKNOWN" and other_view["error_code"] == "auth_failed"
    detail = get_json(client, "/v1/providers/zai", good)
    assert detail["fingerprint"] == fp_good and detail["subscribers"] == [good.instance_id]


def test_two_keys_of_one_provider_keep_separate_samples(zai, client, ctx, clock, drain) -> None:
    first = register_instance(client, auth=zai_auth())
    zai.key = "zai-second-key"  # the fake now accepts only the second key
    second = register_instance(client, auth=zai_auth("zai-second-key"))
    fp_first, fp_second = fp_of(ctx, first), fp_of(ctx, second)

    zai.set_usage(five_hour=70)
    enqueue_due_polls()
    drain()
    zai.key = "zai-test-key"
    zai.set_usage(five_hour=10)
    clock.advance(INTERVAL_S)
    for reg in (first, second):
        heartbeat(client, reg)
    enqueue_due_polls()
    drain()

    first_samples = [
        s for s in ctx.store.snapshots.samples_since([fp_first], 0)[fp_first] if s.error is None
    ]
    second_samples = [
        s for s in ctx.store.snapshots.samples_since([fp_second], 0)[fp_second] if s.error is None
    ]
    assert [s.windows["5h"].utilization for s in first_samples] == [10]
    assert [s.windows["5h"].utilization for s in second_samples] == [70]
    assert providers_view(client, first)["zai"]["windows"]["5h"]["utilization"] == 10
    assert providers_view(client, second)["zai"]["windows"]["5h"]["utilization"] == 70
