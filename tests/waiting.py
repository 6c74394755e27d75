"""Waiting for a condition on a busy machine: a generous deadline, and every transient error
(connection refused or reset, read timeout, any requests or socket error) counts as "not yet"."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

import requests

T = TypeVar("T")

# Errors that mean "the other side is not ready yet", never "the test failed".
TRANSIENT = (requests.RequestException, ConnectionError, TimeoutError)


def wait_until(
    check: Callable[[], T],
    *,
    timeout: float = 60,
    interval: float = 0.2,
    what: str = "the condition",
    alive: Callable[[], None] | None = None,
) -> T:
    """Calls `check` until it returns a truthy value (returned) or `timeout` seconds pass.

    Args:
        check: the probe; a TRANSIENT error it raises is a "not yet".
        timeout: seconds before giving up with an AssertionError naming `what`.
        interval: seconds between probes.
        what: what is awaited, for the failure message.
        alive: called before each probe; raises (e.g. a process died) to stop early.
    """
    deadline = time.monotonic() + timeout
    last: object = None
    while True:
        if alive is not None:
            alive()
        try:
            value = check()
        except TRANSIENT as exc:
            value, last = None, exc
        else:
            last = value
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"{what} not reached within {timeout:g} s (last: {last!r})")
        time.sleep(interval)


def http_ok(url: str, *, request_timeout: float = 5) -> bool:
    """True when GET `url` answers 200."""
    return requests.get(url, timeout=request_timeout).status_code == 200
