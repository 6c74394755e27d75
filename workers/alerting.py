"""deliver_alert(alert_id, receiver_id): one webhook delivery, retried with backoff, then given
up on (recorded once, shown in /v1/health)."""

from __future__ import annotations

import logging

from rq import Retry, get_current_job

from quota_sentinel.alerts.delivery import DeliveryFailed, send
from quota_sentinel.jobs import ALERT_RETRIES, alert_retry
from quota_sentinel.logconfig import log_context
from quota_sentinel.services.alerts import gave_up, receiver_by_id
from workers import runtime

log = logging.getLogger(__name__)


def deliver_alert(alert_id: str, receiver_id: str, retry_base_s: float = 10.0) -> str | Retry:
    """POSTs the stored alert to the receiver. Receivers that fail are retried ALERT_RETRIES
    times with growing delays (an rq Retry), then given up on.

    Returns:
        "delivered", "gave up", why nothing was sent ("gone", "unknown receiver"), or a Retry.
    """
    ctx = runtime.context()
    log_context.set(f"alert-{alert_id}")
    receiver = receiver_by_id(ctx, receiver_id)
    if receiver is None:
        return "unknown receiver"
    alert = ctx.store.alerts.get(alert_id)
    if alert is None:
        return "gone"
    try:
        send(receiver, alert, ctx.settings.webhook_secret, ctx.settings.http_timeout_s, ctx.clock())
    except DeliveryFailed as exc:
        job = get_current_job()
        tries = (job.number_of_retries or 0) if job is not None else ALERT_RETRIES
        if tries >= ALERT_RETRIES:
            gave_up(ctx, receiver, alert, str(exc))
            return "gave up"
        log.warning("webhook delivery failed (try %d): %s", tries + 1, exc)
        return alert_retry(retry_base_s)
    ctx.store.alerts.mark_up(receiver.id)
    return "delivered"
