"""The team view: every account and every live instance, computed from Redis by any replica.

Accounts are graded as a whole (the provider's default caps, share 1.0); each instance row
carries what that instance itself is told, graded from the snapshots, samples and subscriber
weights read once for the whole view. Nothing here reads a credential: accounts are found
through the instances that subscribe to them, never by opening the (encrypted) account hash.
Words (outlooks, error headlines) are added at the edge: web/schemas/phrasing.py.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from quota_sentinel.engine import Status
from quota_sentinel.engine.windows import window_length_s
from quota_sentinel.services.context import Context
from quota_sentinel.services.status import (
    NEVER_POLLED,
    AccountView,
    account_view_at_default_caps,
    evaluate_accounts,
    instance_status,
    iso,
)
from quota_sentinel.store.instances import Instance
from quota_sentinel.store.keys import HISTORY_RETENTION_S
from quota_sentinel.store.reads import AccountRead
from quota_sentinel.store.snapshots import Snapshot, StoredSample

# A window's sparkline spans the window's own length (clamped to what the store keeps) and
# has at most this many points: the last sample of each of SPARKLINE_POINTS equal time slices.
SPARKLINE_POINTS = 60
# Seconds of history for a window whose length its name does not tell (e.g. a balance).
DEFAULT_HISTORY_S = 24 * 3600
MIN_HISTORY_S = 3600
# The latest alerts listed under the accounts (the store keeps a few more, for a day).
RECENT_ALERTS_SHOWN = 20

# Cards are ordered by how much attention they need: RED, YELLOW, failing polls, GREEN, no data.
_RANK = {Status.RED: 0, Status.YELLOW: 1, Status.GREEN: 3, Status.UNKNOWN: 4}


def team_view(ctx: Context, now: float) -> dict[str, Any]:
    """Every account with its windows, forecasts and history, and every live instance.

    Args:
        now: epoch seconds.
    """
    store = ctx.store
    instances = store.instances.live(now)
    accounts = _accounts_of(instances.values())
    fps = sorted(accounts)
    snaps = store.snapshots.get_many(fps)
    weights = store.accounts.weights(fps, now) if fps else {}
    since = now - max((_longest_history_s(snaps.get(fp)) for fp in fps), default=MIN_HISTORY_S)
    history = store.snapshots.history_since(fps, since) if fps else {}
    # The sparkline: the thinned history, which reaches back far enough for monthly windows,
    # then the recent samples.
    recent_since = now - DEFAULT_HISTORY_S
    recent = store.snapshots.samples_since(fps, recent_since) if fps else {}
    rows = []
    for fp in fps:
        provider, interval, projects = accounts[fp]
        view = account_view_at_default_caps(ctx, provider, fp, snaps.get(fp), interval, now)
        line = _merge(history.get(fp, []), recent.get(fp, []))
        rows.append(_account_row(view, line, len(weights.get(fp, {})), projects, interval, now))
    rows.sort(key=lambda a: (_rank(a), a["provider"], a["label"]))
    members = sorted(instances.values(), key=lambda i: (i.project, i.id))
    totals = {fp: sum(w.values()) for fp, w in weights.items()}
    memo: dict[tuple, AccountView] = {}
    told: dict[tuple, dict[str, Any]] = {}
    instance_rows = []
    for inst in members:
        reads = {
            fp: AccountRead(
                weight=weights.get(fp, {}).get(inst.id),
                total=totals.get(fp, 0),
                subscribers=len(weights.get(fp, {})),
                snapshot=snaps.get(fp),
            )
            for fp in inst.accounts.values()
        }
        views = evaluate_accounts(ctx, inst, reads, now, memo)
        # Instances of one framework that see the same (memoized) views are told the same.
        key = (inst.framework, tuple((p, id(v)) for p, v in views.items()))
        if key not in told:  # its allocation dict is then shared: the schema dumps it once
            told[key] = instance_status(inst, views, now)
        instance_rows.append(_instance_row(inst, told[key], now))
    return {
        "generated_at": iso(now),
        "summary": _summary(rows, len(members)),
        "accounts": rows,
        "instances": instance_rows,
        "alerts": ctx.store.alerts.recent(RECENT_ALERTS_SHOWN),
    }


def _merge(history: list[StoredSample], recent: list[StoredSample]) -> list[StoredSample]:
    """The thinned history, then every recent sample after it: the sparkline's points."""
    cut = recent[0].t if recent else float("inf")
    return [s for s in history if s.t < cut] + recent


def _accounts_of(instances: Iterable[Instance]) -> dict[str, tuple[str, int, list[str]]]:
    """fingerprint → (provider, poll interval s, subscribing projects) over live instances."""
    found: dict[str, tuple[str, int, set[str]]] = {}
    for inst in instances:
        for provider, fp in inst.accounts.items():
            _, interval, projects = found.get(fp, (provider, inst.poll_interval_s, set()))
            projects.add(inst.project)
            found[fp] = (provider, min(interval, inst.poll_interval_s), projects)
    return {fp: (p, i, sorted(projects)) for fp, (p, i, projects) in found.items()}


def history_span_s(name: str) -> float:
    """Seconds of history a window's sparkline covers."""
    length = window_length_s(name) or DEFAULT_HISTORY_S
    return min(max(length, MIN_HISTORY_S), HISTORY_RETENTION_S)


def _longest_history_s(snap: Snapshot | None) -> float:
    names = snap.windows if snap else ()
    return max((history_span_s(name) for name in names), default=MIN_HISTORY_S)


def sparkline(
    samples: list[StoredSample], window: str, since: float, now: float
) -> list[list[float]]:
    """The window's samples since `since` as [[t, utilization], …], oldest first; more than
    SPARKLINE_POINTS are thinned to the last sample of each of that many equal time slices."""
    points = [
        [round(s.t, 3), round(s.windows[window].utilization, 2)]
        for s in sorted(samples, key=lambda s: s.t)
        if window in s.windows and since <= s.t <= now
    ]
    if len(points) <= SPARKLINE_POINTS:
        return points
    step = (now - since) / SPARKLINE_POINTS
    slices = {min(int((t - since) // step), SPARKLINE_POINTS - 1): [t, u] for t, u in points}
    return [slices[i] for i in sorted(slices)]


def outlook(window: dict[str, Any], now: float) -> dict[str, float | None]:
    """When a window runs out (reaches its cap), if before its reset, and when it resets.

    Returns:
        {"runs_out_in_min", "resets_in_min"}: minutes, None when not applicable (no reset
        known; not rising, or resetting before the cap). The words are web/schemas/phrasing.py's.
    """
    resets_at = window.get("resets_at")
    resets_in = (resets_at - now) / 60 if resets_at is not None else None
    left = window.get("projected_exhaustion_min")
    if resets_in is not None and left is not None and left >= resets_in:
        left = None
    return {
        "runs_out_in_min": left,
        "resets_in_min": resets_in,
    }


def _account_row(
    view: AccountView,
    samples: list[StoredSample],
    subscribers: int,
    projects: list[str],
    interval_s: int,
    now: float,
) -> dict[str, Any]:
    snap = view.snapshot
    plan = snap.plan if snap else None
    label = " · ".join(part for part in (view.provider, plan, view.fp[:6]) if part)
    row: dict[str, Any] = {
        "provider": view.provider,
        "fingerprint": view.fp,
        "label": label,
        "subscribers": subscribers,
        "projects": projects,
        "poll_interval_s": interval_s,
        **view.to_dict(),
    }
    row["polled_age_s"] = now - snap.polled_at if snap else None
    row["poll_failed"] = bool(snap and snap.error)
    windows = {}
    for name, window in row.get("windows", {}).items():
        span = history_span_s(name)
        windows[name] = {
            **window,
            **outlook(window, now),
            "history": sparkline(samples, name, now - span, now),
            "history_span_s": span,
        }
    row["windows"] = windows
    return row


def _rank(row: dict[str, Any]) -> int:
    status = Status(row["status"])
    if status == Status.UNKNOWN and row.get("error") and row.get("error_code") != NEVER_POLLED:
        return 2
    return _RANK[status]


def _summary(rows: list[dict[str, Any]], instances: int) -> dict[str, Any]:
    counts = {s.value: 0 for s in Status}
    for row in rows:
        counts[row["status"]] += 1
    worst = next((s for s in (Status.RED, Status.YELLOW, Status.GREEN) if counts[s.value]), None)
    return {
        "status": (worst or Status.UNKNOWN).value,
        "counts": counts,
        "accounts": len(rows),
        "instances": instances,
    }


def _instance_row(inst: Instance, status: dict[str, Any], now: float) -> dict[str, Any]:
    return {
        "instance_id": inst.id,
        "project": inst.project,
        "framework": inst.framework,
        "state": inst.state,
        "heartbeat_age_s": round(max(now - inst.heartbeat_at, 0.0)),
        "expires_in_s": round(max(inst.expires_at - now, 0.0)),
        "poll_interval_s": inst.poll_interval_s,
        "providers": sorted(inst.accounts),
        "overall_status": status["overall_status"],
        "recommendation": status["recommendation"],
        "message": status["message"],
        "allocation": status["allocation"],
    }
