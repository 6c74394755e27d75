"""An instance's TOKEN_STATUS and provider views: snapshots and samples through the engine."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from quota_sentinel import errors
from quota_sentinel.engine import (
    Freshness,
    Status,
    cap_for,
    effective_cap,
    grade,
    recommend,
    shares,
    worst_status,
)
from quota_sentinel.services.context import Context
from quota_sentinel.services.forecast import freshness_of, trend_of
from quota_sentinel.store.instances import Instance
from quota_sentinel.store.snapshots import Snapshot

# A provider never polled yet: the human text (as the original README shows it) and the code
# that programs compare.
NO_DATA = "no data"
NEVER_POLLED = "never_polled"


def iso(ts: float | None) -> str | None:
    """Epoch seconds → ISO-8601 UTC text (None stays None)."""
    return datetime.fromtimestamp(ts, UTC).isoformat() if ts is not None else None


@dataclass(frozen=True)
class AccountView:
    """What one instance sees of one of its accounts."""

    provider: str
    fp: str
    snapshot: Snapshot | None
    subscribers: list[str]
    share: float
    status: Status
    windows: dict[str, dict[str, Any]]
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
            "polled_at": iso(snap.polled_at),
            "data_at": iso(snap.ok_at),
            "data_age_s": round(fresh.age_s) if fresh.age_s is not None else None,
            "plan": snap.plan,
            "windows": self.windows,
        }


def _evaluate_account(
    ctx: Context,
    inst: Instance,
    provider: str,
    fp: str,
    snap: Snapshot | None,
    subscribers: dict[str, str],
    now: float,
) -> AccountView:
    """Grade each stored window trend of one account against the instance's effective cap."""
    share = shares(subscribers).get(inst.id, 0.0) if subscribers else 1.0
    if snap is None:
        return AccountView(provider, fp, None, sorted(subscribers), share, Status.UNKNOWN, {})
    fresh = freshness_of(snap, inst.poll_interval_s, now)
    windows: dict[str, dict[str, Any]] = {}
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
    return AccountView(provider, fp, snap, sorted(subscribers), share, status, windows, fresh)


def account_views(ctx: Context, inst: Instance, now: float) -> dict[str, AccountView]:
    """Every account of `inst`, graded with the instance's own effective caps."""
    fps = dict(sorted(inst.accounts.items()))
    store = ctx.store
    snaps = store.snapshots.get_many(list(fps.values()))
    views = {}
    for provider, fp in fps.items():
        sub_ids = store.accounts.live_subscribers(fp, now)
        live = store.instances.get_many(sub_ids)
        states = {i: live[i].state for i in live}
        states.setdefault(inst.id, inst.state)
        views[provider] = _evaluate_account(ctx, inst, provider, fp, snaps.get(fp), states, now)
    return views


def status_for_instance(ctx: Context, inst: Instance, now: float) -> dict[str, Any]:
    """The instance's TOKEN_STATUS: overall status, recommendation and per-provider detail."""
    views = account_views(ctx, inst, now)
    advice = recommend(inst.framework, {p: v.status for p, v in views.items()})
    result = {
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
                "subscribers": len(v.subscribers),
                "share": round(v.share, 4),
                "effective_caps": {w: d["effective_cap"] for w, d in v.windows.items()},
            }
            for p, v in views.items()
        },
    }
    return result


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
        return {
            "name": name,
            "status": Status.UNKNOWN.value,
            "error": NO_DATA,
            "error_code": NEVER_POLLED,
        }
    return {"name": name, "fingerprint": view.fp, "subscribers": view.subscribers, **view.to_dict()}


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
    return _evaluate_account(ctx, whole, provider, fp, snap, {}, now)
