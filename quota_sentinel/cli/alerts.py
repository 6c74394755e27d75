"""`quota-sentinel alerts test`: a sample alert to every configured webhook, right now."""

from __future__ import annotations

import sys
import time

import click

from quota_sentinel.alerts.delivery import DeliveryFailed, send
from quota_sentinel.cli.common import Exit, fail, load_settings
from quota_sentinel.services.alerts import sample_alert


@click.group()
def alerts() -> None:
    """Webhook alerts (QUOTA_SENTINEL_WEBHOOKS)."""


@alerts.command("test")
def test_alerts() -> None:
    """Send a sample alert to each webhook and say which took it (exit 1 if one did not)."""
    settings = load_settings()
    if not settings.webhooks:
        fail("No webhooks are configured; set QUOTA_SENTINEL_WEBHOOKS to a comma-separated list.")
    now = time.time()
    alert = sample_alert(now)
    failed = 0
    for receiver in settings.webhooks:
        try:
            status = send(receiver, alert, settings.webhook_secret, settings.http_timeout_s, now)
        except DeliveryFailed as exc:
            failed += 1
            click.echo(f"failed  {exc}")
        else:
            click.echo(f"ok      {receiver.label} (HTTP {status})")
    sys.exit(Exit.ERROR if failed else Exit.OK)
