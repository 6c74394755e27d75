"""What /v1/metrics reports from Redis: accounts, windows, instances, polls, queues, workers.

Read at scrape time by whichever web replica is scraped, so every replica reports the same
numbers. Accounts are graded as the team view grades them: default caps, whole budget.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from rq import Queue

from quota_sentinel.jobs import queue_names
from quota_sentinel.services.context import Context
from quota_sentinel.services.status import (
    AccountView,
    WindowView,
    account_view_at_default_caps,
)

# Characters of the fingerprint shown in labels (as on the dashboard's cards).
SHORT_FP = 6


@dataclass(frozen=True)
class AccountMetrics:
    """One account as a whole. `windows` maps window name → its graded view (the engine's
    forecast at the provider's default cap)."""

    provider: str
    plan: str
    account: str
    poll_age_s: float | None
    subscribers: dict[str, int]
    windows: dict[str, WindowView]


@dataclass(frozen=True)
class MetricsReport:
    accounts: list[AccountMetrics] = field(default_factory=list)
    instances: dict[tuple[str, str], int] = field(default_factory=dict)
    polls: dict[tuple[str, str], int] = field(default_factory=dict)
    queues: dict[str, int] = field(default_factory=dict)
    workers: int = 0


def metrics_report(ctx: Context, now: float) -> MetricsReport:
    """Everything the Redis-backed series need, read in a few round trips.

    Args:
        now: epoch seconds.
    """
    store = ctx.store
    live = store.instances.get_many(store.instances.live_ids(now)).values()
    accounts = [_account(view, states, now) for view, states in graded_accounts(ctx, live, now)]
    names = queue_names(ctx.settings)
    return MetricsReport(
        accounts=accounts,
        instances=dict(Counter((i.framework, i.state) for i in live)),
        polls=store.poll_counts.read(),
        queues={
            purpose: Queue(name, connection=ctx.jobs.r).count for purpose, name in names.items()
        },
        workers=ctx.jobs.worker_count(),
    )


def graded_accounts(
    ctx: Context, instances: Any, now: float
) -> list[tuple[AccountView, dict[str, int]]]:
    """Every account the live `instances` subscribe to, graded at default caps, with how many
    of its live subscribers are in each state."""
    found: dict[str, tuple[str, int, Counter[str]]] = {}
    for inst in instances:
        for provider, fp in inst.accounts.items():
            _, interval, states = found.get(fp, (provider, inst.poll_interval_s, Counter()))
            states[inst.state] += 1
            found[fp] = (provider, min(interval, inst.poll_interval_s), states)
    if not found:
        return []
    fps = sorted(found)
    snaps = ctx.store.snapshots.get_many(fps)
    graded = []
    for fp in fps:
        provider, interval, states = found[fp]
        view = account_view_at_default_caps(ctx, provider, fp, snaps.get(fp), interval, now)
        graded.append((view, dict(states)))
    return graded


def _account(view: AccountView, states: dict[str, int], now: float) -> AccountMetrics:
    snap = view.snapshot
    return AccountMetrics(
        provider=view.provider,
        plan=(snap.plan if snap else None) or "",
        account=view.fp[:SHORT_FP],
        poll_age_s=round(now - snap.polled_at, 3) if snap else None,
        subscribers=states,
        windows=view.windows,
    )
