"""reap_expired(): garbage collection of expired instances, subscribers and accounts."""

from __future__ import annotations

from workers import runtime


def reap_expired() -> dict[str, int]:
    """Prunes the instance index, expired subscribers, and the due entries of accounts that
    expired or have no live subscriber (their keys then expire on their own TTL).

    Returns:
        counts of what was removed.
    """
    ctx = runtime.context()
    store = ctx.store
    now = ctx.clock()
    counts = {"instances": store.instances.prune(now), "orphans": 0, "unsubscribed": 0}
    for fp in store.due.all():
        if not store.accounts.exists(fp):
            store.due.remove(fp)
            counts["orphans"] += 1
        elif store.accounts.prune_subscribers(fp, now) == 0:
            store.due.remove(fp)
            counts["unsubscribed"] += 1
    return counts
