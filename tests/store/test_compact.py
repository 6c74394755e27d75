"""Pruning an index zset gives its memory back after a big shrink, keeping members and TTL."""

from __future__ import annotations

from quota_sentinel.store.compact import ZsetPruner


def test_a_prune_that_removes_most_members_rewrites_the_set_small(redis_client):
    r = redis_client
    r.zadd("qs:test:index", {f"m{i}": i for i in range(5000)})
    r.expire("qs:test:index", 600)
    grown = r.memory_usage("qs:test:index")

    removed, left = ZsetPruner(r).prune("qs:test:index", 4899)

    assert (removed, left) == (4900, 100)
    assert r.zrange("qs:test:index", 0, -1, withscores=True) == [
        (f"m{i}", float(i)) for i in range(4900, 5000)
    ]
    assert 590 <= r.ttl("qs:test:index") <= 600
    assert r.memory_usage("qs:test:index") < grown / 20


def test_a_small_prune_leaves_the_set_as_it_is_and_an_empty_one_goes(redis_client):
    r = redis_client
    r.zadd("qs:test:index", {f"m{i}": i for i in range(10)})
    pruner = ZsetPruner(r)

    assert pruner.prune("qs:test:index", 2) == (3, 7)
    assert r.zcard("qs:test:index") == 7 and r.ttl("qs:test:index") == -1
    assert pruner.prune("qs:test:index", 100) == (7, 0)
    assert not r.exists("qs:test:index")
