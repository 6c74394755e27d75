"""Short locks: owner-only release, and a keeper that renews a lock while its work runs."""

from __future__ import annotations

import time

from quota_sentinel.store.locks import Locks


def test_a_kept_lock_outlives_its_ttl_and_is_gone_soon_after_its_keeper_stops(redis_client):
    locks = Locks(redis_client)
    token = locks.acquire("qs:lock:test", 2)
    assert token is not None and locks.acquire("qs:lock:test", 2) is None

    with locks.kept("qs:lock:test", token, 2):
        time.sleep(4.5)  # more than twice the TTL: only renewals keep it
        assert locks.held("qs:lock:test")
        assert 0 < redis_client.ttl("qs:lock:test") <= 2

    # Without its keeper (a killed worker) the lock expires on its own within the TTL.
    deadline = time.monotonic() + 30
    while locks.held("qs:lock:test") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not locks.held("qs:lock:test")


def test_only_the_owner_renews_or_releases(redis_client):
    locks = Locks(redis_client)
    token = locks.acquire("qs:lock:test", 5)
    assert token is not None

    assert not locks.renew("qs:lock:test", "not-the-owner", 60)
    assert not locks.release("qs:lock:test", "not-the-owner")
    assert redis_client.ttl("qs:lock:test") <= 5
    assert locks.renew("qs:lock:test", token, 60)
    assert redis_client.ttl("qs:lock:test") > 5
    assert locks.release("qs:lock:test", token)
    assert not locks.held("qs:lock:test")
