"""An instance's TOKEN_STATUS and provider views: each account's stored forecast graded against
the instance's own effective caps (engine.grade: arithmetic only, no samples are read)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from quota_sentinel import errors
from quota_sentinel.engine import (
    Freshness,
    Status,
    WindowForecast,
    cap_for,
    effective_cap,
    grade,
    recommend,
    share_of,
    weight_units,
    worst_status,
)
from quota_sentinel.services.context import Context
from quota_sentinel.services.forecast import freshness_of, trend_of
from quota_sentinel.store.instances import Instance
from quota_sentinel.store.reads import AccountRead
from quota_sentinel.store.snapshots import Snapshot

# A provider never polled yet: the human text (as the original README shows it) and the code
# that programs compare.
NO_DATA = "no data"
NEVER_POLLED = "never_polled"


def iso(ts: float | None) -> str | None:
    """Epoch seconds → ISO-8601 UTC text (None stays None)."""
    return datetime.fromtimestamp(ts, UTC).isoformat() if ts is not None else None


@dataclass(frozen=True)
class WindowView:
    """One window graded for one reader: the engine's forecast (its `cap` the effective cap it
    was graded against), the window's own (hard) cap, and the provider's metadata."""

    forecast: WindowForecast
    cap: float
    metadata: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The API's window object, unrounded (web/schemas rounds and formats): the
        forecast's fields, `effective_cap`, `cap`, `resets_at` in epoch seconds."""
        forecast = self.forecast
        view = {
            "utilization": forecast.utilization,
            "velocity_pct_per_hour": forecast.velocity_pct_per_hour,
            "projected_exhaustion_min": forecast.projected_exhaustion_min,
            "projected_at_reset": forecast.projected_at_reset,
            "resets_at": forecast.resets_at,
            "status": forecast.status.value,
            "outlook_code": forecast.outlook.value,
            "stale": forecast.stale,
            "cap": self.cap,
            "effective_cap": forecast.cap,
            "samples_used": forecast.samples_used,
        }
        if self.metadata:
            view["metadata"] = dict(self.metadata)
        return view


@dataclass(frozen=True)
class AccountView:
    """What one instance sees of one of its accounts."""

    provider: str
    fp: str
    snapshot: Snapshot | None
    subscribers: int
    share: float
    status: Status
    windows: dict[str, WindowView]
    fresh: Freshness | None = None

    def to_dict(self) -> dict[str, Any]:
        if self.snapshot is None or self.fresh is None:
            return {
                "status": Status.UNKNOWN.value,
                "error": NO_DATA,
                "error_code": NEVER_POLLED,
                "stale": False,
                "windows": {},
            }
        snap, fresh = self.snapshot, self.fresh
        return {
            "status": self.status.value,
            "stale": fresh.stale,
            "error": fresh.error,
            "error_code": fresh.error_code,
            "polled_at": snap.polled_at,
            "data_at": snap.ok_at,
            "data_age_s": fresh.age_s,
            "plan": snap.plan,
            "windows": {name: w.to_dict() for name, w in self.windows.items()},
        }


def _evaluate_account(
    ctx: Context,
    inst: Instance,
    provider: str,
    fp: str,
    snap: Snapshot | None,
    share: float,
    subscribers: int,
    now: float,
) -> AccountView:
    """Grade each stored window trend of one account against the instance's effective cap."""
    if snap is None:
        return AccountView(provider, fp, None, subscribers, share, Status.UNKNOWN, {})
    fresh = freshness_of(snap, inst.poll_interval_s, now)
    windows: dict[str, WindowView] = {}
    for name, last in sorted(snap.windows.items()):
        cap = cap_for(provider, name, inst.hard_caps)
        eff = effective_cap(cap, share, ctx.settings.overcommit)
        forecast = grade(
            trend_of(snap, name),
            cap=eff,
            now=now,
            safety_margin_min=ctx.settings.safety_margin_min,
            fresh=fresh,
        )
        windows[name] = WindowView(forecast, cap, last.metadata)
    status = worst_status(w.forecast.status for w in windows.values())
    return AccountView(provider, fp, snap, subscribers, share, status, windows, fresh)


def evaluate_accounts(
    ctx: Context,
    inst: Instance,
    reads: Mapping[str, AccountRead],
    now: float,
    memo: dict[tuple, AccountView] | None = None,
) -> dict[str, AccountView]:
    """Every account of `inst` graded with the instance's own effective caps, from what was
    read of them (`reads`: fingerprint → AccountRead).

    Args:
        memo: shared across calls (the team view grades many instances), views of instances
            that see an account alike (same share, poll interval and hard caps) are computed
            once.
    """
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
        view = _evaluate_account(ctx, inst, provider, fp, read.snapshot, share, count, now)
        views[provider] = view
        if memo is not None:
            memo[key] = view
    return views


def account_views(
    ctx: Context, inst: Instance, now: float, reads: Mapping[str, AccountRead] | None = None
) -> dict[str, AccountView]:
    """Every account of `inst`, graded with the instance's own effective caps.

    `reads`: its accounts as already read at `now` (with the API key, services.instances
    .authenticate); None reads them here.

    One round trip reads everything: per account the caller's weight and the weights' total
    (kept by the store as subscribers come and go) and the snapshot with its stored forecast.
    """
    if reads is None:
        reads = ctx.store.reads.accounts(list(inst.accounts.values()), inst.id, now)
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
                "share": v.share,
                "effective_caps": {w: d.forecast.cap for w, d in v.windows.items()},
            }
            for p, v in views.items()
        },
    }


def status_for_instance(
    ctx: Context, inst: Instance, now: float, reads: Mapping[str, AccountRead] | None = None
) -> dict[str, Any]:
    """The instance's TOKEN_STATUS: overall status, recommendation and per-provider detail."""
    return instance_status(inst, account_views(ctx, inst, now, reads), now)


def providers_for_instance(
    ctx: Context, inst: Instance, now: float, reads: Mapping[str, AccountRead] | None = None
) -> dict[str, Any]:
    """`GET /v1/providers`: provider name → status and windows, for the caller's accounts."""
    return {p: v.to_dict() for p, v in account_views(ctx, inst, now, reads).items()}


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
        return {
            "name": name,
            "status": Status.UNKNOWN.value,
            "error": NO_DATA,
            "error_code": NEVER_POLLED,
        }
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
    poll_interval_s: int,
    now: float,
) -> AccountView:
    """One account as a whole, for the team view: the provider's default caps, the whole budget
    (share 1.0, so the effective cap is the cap), no instance's hard caps; everything else is
    computed exactly as an instance's own view of the account.

    Args:
        poll_interval_s: the account's poll interval (its fastest subscriber's), seconds; used
            only when the snapshot does not record the one its poll used.
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
    return _evaluate_account(ctx, whole, provider, fp, snap, 1.0, 0, now)
