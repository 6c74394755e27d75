"""Alerts: status transitions of an account detected after each poll, queued once per
transition for every receiver that wants them, and the bookkeeping of their delivery."""

from __future__ import annotations

import hashlib
import logging
import math
from typing import Any

from quota_sentinel.alerts.receivers import Receiver
from quota_sentinel.engine import Status
from quota_sentinel.services.context import Context
from quota_sentinel.services.status import AccountView, account_view_at_default_caps, iso
from quota_sentinel.store.snapshots import Snapshot

log = logging.getLogger(__name__)

WINDOW_STATUS_CHANGED = "window.status_changed"
CREDENTIALS_FAILED = "account.credentials_failed"
POLLS_FAILING = "account.polls_failing"
CREDENTIAL_ERRORS = ("auth_failed", "credentials_expired")
# Polls failing for longer than this many poll intervals raise account.polls_failing.
FAILING_INTERVALS = 3
SHORT_FP = 6
_SEVERITY = {Status.RED.value: "critical", Status.YELLOW.value: "warning"}
_WINDOW = "window:"


def detect_transitions(
    ctx: Context, provider: str, fp: str, interval_s: int, now: float
) -> list[dict[str, Any]]:
    """Compares the account as the team view grades it (default caps) with the state it was
    last alerted at, and queues one alert per change. Safe to run twice on one outcome: the
    state is compared and set atomically and each alert id is claimed once.

    Returns:
        the alerts this call queued (generic bodies).
    """
    snap = ctx.store.snapshots.get(fp)
    if snap is None:
        return []
    view = account_view_at_default_caps(ctx, provider, fp, snap, interval_s, now)
    state = {_WINDOW + name: w.forecast.status.value for name, w in view.windows.items()}
    # UNKNOWN (data too old to grade) is not a transition: polls_failing says why.
    state = {k: v for k, v in state.items() if v != Status.UNKNOWN.value}
    code = snap.error["code"] if snap.error else None
    state["credentials"] = code if code in CREDENTIAL_ERRORS else "ok"
    state["polling"] = "failing" if _failing(snap, code, interval_s, now) else "ok"
    queued = []
    for field, old, new in ctx.store.alerts.transitions(fp, state):
        alert = _alert(view, snap, field, old, new, now)
        if alert is not None and queue_alert(ctx, alert):
            queued.append(alert)
    return queued


def _failing(snap: Snapshot, code: str | None, interval_s: int, now: float) -> bool:
    if code is None or code in CREDENTIAL_ERRORS:
        return False
    if snap.ok_at is None:
        return snap.failures > FAILING_INTERVALS
    return now - snap.ok_at > FAILING_INTERVALS * interval_s


def _alert(
    view: AccountView, snap: Snapshot, field: str, old: str | None, new: str, now: float
) -> dict[str, Any] | None:
    """The generic body of one change, or None for a change nobody is told about (a window
    first seen GREEN, credentials or polling back to ok)."""
    base = {
        "provider": view.provider,
        "account": view.fp[:SHORT_FP],
        "plan": snap.plan,
        "window": None,
        "from": old,
        "to": new,
        "utilization": None,
        "projected_exhaustion_min": None,
        "resets_at": None,
        "at": iso(now),
    }
    if field.startswith(_WINDOW):
        if old is None and new == Status.GREEN.value:
            return None
        name = field[len(_WINDOW) :]
        window = view.windows[name].forecast
        base.update(
            event=WINDOW_STATUS_CHANGED,
            severity=_SEVERITY.get(new, "info"),
            window=name,
            utilization=_number(window.utilization, 2),
            projected_exhaustion_min=_number(window.projected_exhaustion_min, 1),
            resets_at=iso(window.resets_at),
        )
    elif new == "ok":
        return None
    elif field == "credentials":
        base.update(event=CREDENTIALS_FAILED, severity="critical", **{"from": old or "ok"})
    else:
        base.update(event=POLLS_FAILING, severity="warning", **{"from": old or "ok"})
        base["error"] = snap.error["code"] if snap.error else None
    digest = f"{view.fp}|{field}|{old}|{new}|{snap.polled_at!r}"
    base["id"] = hashlib.sha256(digest.encode()).hexdigest()[:20]
    base["message"] = message(base)
    return base


def _number(value: float | None, digits: int) -> float | None:
    """A finite number rounded for people (JSON has no infinity), else None."""
    return round(value, digits) if value is not None and math.isfinite(value) else None


def message(alert: dict[str, Any]) -> str:
    """One line a person reads in Slack, Discord or a phone notification."""
    who = " · ".join(p for p in (alert["provider"], alert.get("plan"), alert["account"]) if p)
    event = alert["event"]
    if event == WINDOW_STATUS_CHANGED:
        text = f"{who}: window {alert['window']} went {alert['from'] or 'new'} → {alert['to']}"
        if alert.get("utilization") is not None:
            text += f", {alert['utilization']:.1f} % used"
        if alert.get("projected_exhaustion_min") is not None:
            text += f", cap in ~{alert['projected_exhaustion_min']:.0f} min"
        if alert.get("resets_at"):
            text += f", resets {alert['resets_at']}"
        return text + "."
    if event == CREDENTIALS_FAILED:
        return f"{who}: the provider refused the credentials ({alert['to']}); register fresh ones."
    return (
        f"{who}: usage checks have failed for more than {FAILING_INTERVALS} poll intervals "
        f"({alert.get('error') or 'error'})."
    )


def queue_alert(ctx: Context, alert: dict[str, Any]) -> bool:
    """Claims the alert's id (the dedup key) and, for the one caller that wins, lists it as
    recent and enqueues one delivery job per receiver whose filters let it through."""
    if not ctx.store.alerts.claim(alert["id"], alert):
        return False
    ctx.store.alerts.push_recent(alert)
    log.info("alert %s: %s", alert["event"], alert["message"])
    for receiver in ctx.settings.webhooks:
        if receiver.wants(alert["severity"], alert["provider"]):
            ctx.jobs.enqueue_alert(alert["id"], receiver.id, ctx.settings.webhook_retry_base_s)
    return True


def receiver_by_id(ctx: Context, receiver_id: str) -> Receiver | None:
    return next((r for r in ctx.settings.webhooks if r.id == receiver_id), None)


def gave_up(ctx: Context, receiver: Receiver, alert: dict[str, Any], reason: str) -> None:
    """Records a receiver given up on after every retry; logs it once until it recovers."""
    info = {"label": receiver.label, "since": alert["at"], "alert": alert["id"], "reason": reason}
    if ctx.store.alerts.mark_down(receiver.id, info):
        log.error("webhook %s given up on after every retry: %s", receiver.label, reason)


def webhooks_health(ctx: Context, down: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """How many receivers are configured and which of those given up on (`down`, as
    `store.alerts.down()` reads it) are still configured (health report)."""
    return {
        "configured": len(ctx.settings.webhooks),
        "down": [
            {"receiver": info["label"], "since": info["since"], "reason": info["reason"]}
            for rid, info in sorted(down.items())
            if receiver_by_id(ctx, rid) is not None
        ],
    }


def sample_alert(now: float) -> dict[str, Any]:
    """An example window.status_changed alert (`quota-sentinel alerts test`)."""
    alert = {
        "id": "test-" + hashlib.sha256(repr(now).encode()).hexdigest()[:15],
        "event": WINDOW_STATUS_CHANGED,
        "severity": "warning",
        "provider": "zai",
        "account": "000000",
        "plan": "test",
        "window": "5h",
        "from": Status.GREEN.value,
        "to": Status.YELLOW.value,
        "utilization": 61.5,
        "projected_exhaustion_min": 42.0,
        "resets_at": iso(now + 3 * 3600),
        "at": iso(now),
        "test": True,
    }
    alert["message"] = "[test] " + message(alert)
    return alert
