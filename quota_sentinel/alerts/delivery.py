"""Sends one rendered alert to one receiver; any failure becomes one sentence without the URL."""

from __future__ import annotations

from typing import Any

import requests

from quota_sentinel.alerts.payloads import render
from quota_sentinel.alerts.receivers import Receiver

CONNECT_TIMEOUT_S = 3.05


class DeliveryFailed(Exception):
    """The receiver did not take the alert. The message names the receiver by its label only
    (the URL of a Slack or Discord webhook is itself a secret)."""


def send(
    receiver: Receiver,
    alert: dict[str, Any],
    secret: str | None,
    timeout_s: float,
    now: float,
    session: requests.Session | None = None,
) -> int:
    """POSTs `alert` to `receiver` in its format; redirects are not followed.

    Returns:
        the HTTP status (2xx).

    Raises:
        DeliveryFailed: no answer, or an answer other than 2xx.
    """
    body, headers = render(receiver, alert, secret, now)
    post = (session or requests).post
    try:
        response = post(
            receiver.url,
            data=body,
            headers=headers,
            timeout=(CONNECT_TIMEOUT_S, timeout_s),
            allow_redirects=False,
        )
    except requests.Timeout:
        raise DeliveryFailed(f"{receiver.label} did not answer within {timeout_s:g} s") from None
    except requests.ConnectionError:
        raise DeliveryFailed(f"{receiver.label} could not be reached") from None
    except requests.RequestException as exc:
        raise DeliveryFailed(f"{receiver.label} failed ({type(exc).__name__})") from None
    if not 200 <= response.status_code < 300:
        raise DeliveryFailed(f"{receiver.label} answered HTTP {response.status_code}")
    return response.status_code
