"""An instance's TOKEN_STATUS and provider views: snapshots and samples through the engine."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from quota_sentinel import errors
from quota_sentinel.engine import (
    Sample,
    Status,
    cap_for,
    effective_cap,
    forecast_window,
    recommend,
    share_of,
    weight_units,
    worst_status,
)
from quota_sentinel.services.context import Context
from quota_sentinel.store.instances import Instance
from quota_sentinel.store.reads import AccountRead
from quota_sentinel.store.snapshots import Snapshot, StoredSample

NO_DATA = "no data"

# The last good data keeps grading a window for this many poll intervals (at least
# TRUST_MIN_S) after it was read, marked stale: one failed poll must not turn a RED provider
# into "no data, proceed". Older data grades UNKNOWN.
TRUST_INTERVALS = 3
TRUST_MIN_S = 900


def iso(ts: float | None) -> str | None:
    """Epoch seconds → ISO-8601 UTC text (None stays None)."""
    return datetime.fromtimestamp(ts, UTC).isoformat() if ts is not None else None


def horizon_min(ctx: Context, inst: Instance) -> float:
    """The velocity look-back: the configured horizon, widened so that it spans at least
    2.5 poll intervals (a slow-polling instance would otherwise never have two samples)."""
    return max(ctx.settings.velocity_horizon_min, 2.5 * inst.poll_interval_s / 60)


def trust_s(poll_interval_s: int) -> float:
    """How long after it was read the last good data still grades a window (seconds)."""
    return max(TRUST_INTERVALS * poll_interval_s, TRUST_MIN_S)


def oldest_useful_sample(ctx: Context, inst: Instance, now: float) -> float:
    """The oldest sample time a view at `now` can use: the velocity horizon before the oldest
    moment stale data may still be graded at."""
    return now - trust_s(inst.poll_interval_s) - horizon_min(ctx, inst) * 60


@dataclass(frozen=True)
class Freshness:
    """How far the last good data of an account can be trusted at `now`.

    Args:
        age_s: seconds since the last good data was read (None: never).
        stale: the numbers are not from a recent successful poll (the last poll failed, or
            none succeeded for over two intervals).
        usable: still recent enough to grade (within TRUST_INTERVALS intervals).
        error: what went wrong, as a sentence, or None.
        error_code: machine code of the error, or None.
    """

    age_s: float | None
    stale: bool
    usable: bool
    error: str | None
    error_code: str | None


def freshness(snap: Snapshot, poll_interval_s: int, now: float) -> Freshness:
    age = now - snap.ok_at if snap.ok_at is not None else None
    overdue = age is not None and age > 2 * poll_interval_s + 60
    error = snap.error["message"] if snap.error else None
    code = snap.error["code"] if snap.error else None
    if error is None and overdue:
        error = f"No successful poll for {age / 60:.0f} min; check that a worker is running."
        code = "no_recent_poll"
    usable = age is not None and age <= trust_s(poll_interval_s)
    return Freshness(age, snap.error is not None or overdue, usable, error, code)


@dataclass(frozen=True)
class AccountView:
    """What one instance sees of one of its accounts."""

    provider: str
    fp: str
    snapshot: Snapshot | None
    subscribers: int
    share: float
    status: Status
    windows: dict[str, dict[str, Any]]
    fresh: Freshness | None = None

    def to_dict(self) -> dict[str, Any]:
        if self.snapshot is None or self.fresh is None:
            return {"status": Status.UNKNOWN.value, "error": NO_DATA, "stale": False, "windows": {}}
        snap, fresh = self.snapshot, self.fresh
        return {
            "status": self.status.value,
            "stale": fresh.stale,
            "error": fresh.error,
            "error_code": fresh.error_code,
            "polled_at": iso(snap.polled_at),
            "data_at": iso(snap.ok_at),
            "data_age_s": round(fresh.age_s) if fresh.age_s is not None else None,
            "plan": snap.plan,
            "windows": self.windows,
        }


def _window_samples(samples: list[StoredSample], window: str) -> list[Sample]:
    return [
        Sample(t=s.t, utilization=s.windows[window][0], resets_at=s.windows[window][1])
        for s in samples
        if window in s.windows
    ]


def _evaluate_account(
    ctx: Context,
    inst: Instance,
    provider: str,
    fp: str,
    snap: Snapshot | None,
    samples: list[StoredSample],
    share: float,
    subscribers: int,
    now: float,
) -> AccountView:
    if snap is None:
        return AccountView(provider, fp, None, subscribers, share, Status.UNKNOWN, {})
    fresh = freshness(snap, inst.poll_interval_s, now)
    windows: dict[str, dict[str, Any]] = {}
    for name, last in sorted(snap.windows.items()):
        series = _window_samples(samples, name)
        if not series or series[-1].t < (snap.ok_at or 0):
            series.append(
                Sample(snap.ok_at or snap.polled_at, last["utilization"], last.get("resets_at"))
            )
        cap = cap_for(provider, name, inst.hard_caps)
        eff = effective_cap(cap, share, ctx.settings.overcommit)
        forecast = forecast_window(
            series,
            cap=eff,
            # Stale but usable data is graded as of the last good poll: within a window usage
            # only grows, so the status then is the least the status can be now.
            now=snap.ok_at if fresh.stale and fresh.usable else now,
            safety_margin_min=ctx.settings.safety_margin_min,
            horizon_min=horizon_min(ctx, inst),
            stale=not fresh.usable,
        )
        view = forecast.to_dict()
        view.update(
            cap=cap,
            effective_cap=round(eff, 2),
            resets_at=iso(forecast.resets_at),
            stale=fresh.stale,
        )
        if last.get("metadata"):
            view["metadata"] = last["metadata"]
        windows[name] = view
    status = worst_status(Status(w["status"]) for w in windows.values())
    return AccountView(provider, fp, snap, subscribers, share, status, windows, fresh)


def evaluate_accounts(
    ctx: Context,
    inst: Instance,
    reads: Mapping[str, AccountRead],
    now: float,
    memo: dict[tuple, AccountView] | None = None,
) -> dict[str, AccountView]:
    """Every account of `inst` graded with the instance's own effective caps, from what was
    read of them (`reads`: fingerprint → AccountRead; samples from any time on).

    Args:
        memo: shared across calls (the team view grades many instances), views of instances
            that see an account alike (same share, poll interval and hard caps) are computed
            once.
    """
    since = oldest_useful_sample(ctx, inst, now)
    views = {}
    for provider, fp in sorted(inst.accounts.items()):
        read = reads.get(fp) or AccountRead(None, 0, 0, None)
        weight, total, count = read.weight, read.total, read.subscribers
        if weight is None:  # not (or no longer) a live subscriber: it still counts for itself
            weight = weight_units(inst.state)
            total, count = total + weight, count + 1
        share = share_of(weight, total)
        caps = tuple(sorted(inst.hard_caps.items()))
        key = (fp, provider, share, count, inst.poll_interval_s, caps)
        if memo is not None and key in memo:
            views[provider] = memo[key]
            continue
        samples = [s for s in read.samples if s.t >= since]
        view = _evaluate_account(ctx, inst, provider, fp, read.snapshot, samples, share, count, now)
        views[provider] = view
        if memo is not None:
            memo[key] = view
    return views


def account_views(ctx: Context, inst: Instance, now: float) -> dict[str, AccountView]:
    """Every account of `inst`, graded with the instance's own effective caps.

    One round trip reads everything: per account the caller's weight and the weights' total
    (kept by the store as subscribers come and go), the snapshot and the recent samples.
    """
    fps = list(inst.accounts.values())
    reads = ctx.store.reads.accounts(fps, inst.id, now, oldest_useful_sample(ctx, inst, now))
    return evaluate_accounts(ctx, inst, reads, now)


def instance_status(inst: Instance, views: Mapping[str, AccountView], now: float) -> dict[str, Any]:
    """The TOKEN_STATUS of `inst` from its graded accounts."""
    advice = recommend(inst.framework, {p: v.status for p, v in views.items()})
    return {
        "instance_id": inst.id,
        "project": inst.project,
        "framework": inst.framework,
        "state": inst.state,
        "generated_at": iso(now),
        **advice.to_dict(),
        "providers": {p: v.to_dict() for p, v in views.items()},
        "allocation": {
            p: {
                "fingerprint": v.fp,
                "subscribers": v.subscribers,
                "share": round(v.share, 4),
                "effective_caps": {w: d["effective_cap"] for w, d in v.windows.items()},
            }
            for p, v in views.items()
        },
    }


def status_for_instance(ctx: Context, inst: Instance, now: float) -> dict[str, Any]:
    """The instance's TOKEN_STATUS: overall status, recommendation and per-provider detail."""
    return instance_status(inst, account_views(ctx, inst, now), now)


def providers_for_instance(ctx: Context, inst: Instance, now: float) -> dict[str, Any]:
    """`GET /v1/providers`: provider name → status and windows, for the caller's accounts."""
    return {p: v.to_dict() for p, v in account_views(ctx, inst, now).items()}


def provider_detail(ctx: Context, inst: Instance, name: str, now: float) -> dict[str, Any]:
    """`GET /v1/providers/{name}`: the caller's account of that provider.

    Raises:
        errors.NotFound: the caller has no account of that provider.
    """
    if name not in inst.accounts:
        raise errors.NotFound(
            f"This instance has no {name!r} account; its providers are: "
            f"{', '.join(sorted(inst.accounts)) or 'none'}."
        )
    view = account_views(ctx, inst, now)[name]
    if view.snapshot is None:
        return {"name": name, "status": Status.UNKNOWN.value, "error": NO_DATA}
    subscribers = ctx.store.accounts.live_subscribers(view.fp, now)
    if inst.id not in subscribers:
        subscribers.append(inst.id)
    return {
        "name": name,
        "fingerprint": view.fp,
        "subscribers": sorted(subscribers),
        **view.to_dict(),
    }


def account_view_at_default_caps(
    ctx: Context,
    provider: str,
    fp: str,
    snap: Snapshot | None,
    samples: list[StoredSample],
    poll_interval_s: int,
    now: float,
) -> AccountView:
    """One account as a whole, for the team view: the provider's default caps, the whole budget
    (share 1.0, so the effective cap is the cap), no instance's hard caps; everything else is
    computed exactly as an instance's own view of the account.

    Args:
        samples: the account's stored samples over any span; only those inside the velocity
            horizon are used, the same ones `account_views` reads.
        poll_interval_s: the account's poll interval (its fastest subscriber's), seconds.
    """
    whole = Instance(
        id="",
        project="",
        framework="",
        poll_interval_s=poll_interval_s,
        state="active",
        registered_at=now,
        heartbeat_at=now,
        expires_at=now,
    )
    since = oldest_useful_sample(ctx, whole, now)
    recent = [s for s in samples if s.t >= since]
    return _evaluate_account(ctx, whole, provider, fp, snap, recent, 1.0, 0, now)
