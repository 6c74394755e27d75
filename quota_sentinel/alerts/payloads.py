"""One alert rendered for each receiver format: signed generic JSON, Slack, Discord, ntfy."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from quota_sentinel import __version__
from quota_sentinel.alerts.receivers import Receiver

SIGNATURE_HEADER = "X-Quota-Sentinel-Signature"
# Receivers should refuse a signature whose t is further than this from their clock (seconds):
# a captured request cannot be replayed later. Every retry is signed afresh.
REPLAY_WINDOW_S = 300

_NTFY = {
    "critical": ("5", "rotating_light"),
    "warning": ("4", "warning"),
    "info": ("3", "white_check_mark"),
}
_MARK = {"critical": ":red_circle:", "warning": ":large_yellow_circle:", "info": ":green_circle:"}


def sign(secret: str, body: bytes, t: int) -> str:
    """The signature header value: `t=<unix s>,v1=<hex HMAC-SHA256 of "<t>.<body>">`."""
    mac = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def verify(secret: str, header: str, body: bytes, now: float) -> bool:
    """What a receiver does with the header: recompute the HMAC and check the replay window."""
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        t = int(fields["t"])
    except (KeyError, ValueError):
        return False
    if abs(now - t) > REPLAY_WINDOW_S:
        return False
    expected = sign(secret, body, t).split("v1=", 1)[1]
    return hmac.compare_digest(expected, fields.get("v1", ""))


def render(
    receiver: Receiver, alert: dict[str, Any], secret: str | None, now: float
) -> tuple[bytes, dict[str, str]]:
    """The request body and headers that deliver `alert` (the generic body) to `receiver`."""
    headers = {"User-Agent": f"quota-sentinel/{__version__}"}
    text = alert["message"]
    if receiver.kind == "slack":
        body = json.dumps({"text": f"{_MARK[alert['severity']]} {text}"}).encode()
    elif receiver.kind == "discord":
        # No mentions: an alert must not ping @everyone whatever its text says.
        body = json.dumps({"content": text[:2000], "allowed_mentions": {"parse": []}}).encode()
    elif receiver.kind == "ntfy":
        priority, tag = _NTFY[alert["severity"]]
        headers.update(Title=_title(alert), Priority=priority, Tags=tag)
        return text.encode(), {**headers, "Content-Type": "text/plain; charset=utf-8"}
    else:
        body = json.dumps(alert, sort_keys=True, separators=(",", ":")).encode()
        headers["X-Quota-Sentinel-Event"] = alert["event"]
        headers["X-Quota-Sentinel-Delivery"] = alert["id"]
        if secret:
            headers[SIGNATURE_HEADER] = sign(secret, body, int(now))
    return body, {**headers, "Content-Type": "application/json"}


def _title(alert: dict[str, Any]) -> str:
    where = " ".join(p for p in (alert["provider"], alert.get("window")) if p)
    return f"quota-sentinel: {where} {alert['to']}"
