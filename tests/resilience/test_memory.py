"""Redis memory is bounded: about 1 KB per registered instance, and 10,000 registrations that
expire leave the key count and used_memory where they were (within 10 %).

Registrations go through the service layer (what POST /v1/instances runs, minus HTTP) on the
session's real Redis; expiry is Redis's own TTL, then the reaper the scheduler runs."""

from __future__ import annotations

import time

import pytest

from quota_sentinel.services.instances import register_instance
from tests.resilience.cluster import wait_for
from workers.maintenance import reap_expired

CHURN = 10_000
BASELINE = 200
CREDENTIALS = 10  # a team's few subscriptions, shared by many agents
BYTES_PER_INSTANCE = 1024
CHURN_INTERVAL_S = 30  # the floor, so churned instances expire 30 s after registering


@pytest.fixture
def quick_expiry(env: dict[str, str]) -> None:
    """Instances expire after one poll interval without heartbeat (list it before `ctx`)."""
    env["QUOTA_SENTINEL_HEARTBEAT_FACTOR"] = "1"


def _register(ctx, n: int, poll_interval: int, start: int = 0) -> None:
    for i in range(start, start + n):
        body = {
            "project_name": f"agent-{i}",
            "framework": "opencode",
            "poll_interval": poll_interval,
            "auth": {
                "opencode_auth": {"zai-coding-plan": {"key": f"zai-memory-{i % CREDENTIALS}"}}
            },
        }
        register_instance(ctx, body, "10.0.0.1", ctx.clock())


def _used_memory(r) -> int:
    return int(r.info("memory")["used_memory"])


def test_ten_thousand_instances_cost_under_1_kb_each_and_leave_nothing_when_expired(
    quick_expiry, ctx, clock, redis_client
):
    r = redis_client
    _register(ctx, BASELINE, poll_interval=86400)  # a live team that stays
    keys_before, memory_before = r.dbsize(), _used_memory(r)

    started = time.monotonic()
    _register(ctx, CHURN, CHURN_INTERVAL_S, start=BASELINE)
    registered = time.monotonic()
    keys_full, memory_full = r.dbsize(), _used_memory(r)
    per_instance = (memory_full - memory_before) / CHURN
    assert per_instance <= BYTES_PER_INSTANCE, f"{per_instance:.0f} bytes per instance"

    # They expire (Redis TTLs), then the reaper prunes the indexes as the scheduler would.
    time.sleep(max(0.0, registered + CHURN_INTERVAL_S + 1 - time.monotonic()))
    clock.advance(CHURN_INTERVAL_S * 2)
    wait_for("the churned keys to expire", lambda: r.dbsize() <= keys_before * 1.1, 120)
    reaped = reap_expired()
    assert reaped["instances"] == CHURN
    wait_for(
        "used_memory back within 10 %",
        lambda: _used_memory(r) <= memory_before * 1.1,
        120,
    )
    keys_after, memory_after = r.dbsize(), _used_memory(r)
    assert abs(keys_after - keys_before) <= keys_before * 0.1
    assert abs(memory_after - memory_before) <= memory_before * 0.1
    print(
        f"MEASURED redis memory: {per_instance:.0f} B per instance; keys {keys_before} → "
        f"{keys_full} → {keys_after}; used_memory {memory_before} → {memory_full} → "
        f"{memory_after} B; {CHURN} registrations took {registered - started:.1f} s"
    )
