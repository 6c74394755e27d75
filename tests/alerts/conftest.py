"""Webhook receivers on loopback: one answering 200, one failing twice then taking the alert,
one where nothing listens; `webhooks` points QUOTA_SENTINEL_WEBHOOKS at all three."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from rq import SimpleWorker

from quota_sentinel.jobs import queue_names
from quota_sentinel.services.context import Context
from tests.upstreams.server import FakeUpstream, Reply

SECRET = "whsec-test-0123456789abcdef"
HOOK = "/hook"


@dataclass
class Receivers:
    ok: FakeUpstream
    flaky: FakeUpstream
    down_url: str

    def posts(self, fake: FakeUpstream) -> list:
        return [r for r in fake.requests if r.method == "POST"]


def _receiver() -> FakeUpstream:
    return FakeUpstream({("POST", HOOK): lambda request: Reply(status=200, json={})}).start()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def receivers() -> Iterator[Receivers]:
    ok, flaky = _receiver(), _receiver()
    flaky.script(HOOK, method="POST", status=503, times=2)
    try:
        yield Receivers(ok, flaky, f"http://127.0.0.1:{_free_port()}{HOOK}")
    finally:
        ok.stop()
        flaky.stop()


@pytest.fixture
def webhooks(env: dict[str, str], receivers: Receivers) -> Receivers:
    """The three receivers configured, signed with SECRET, retried after 0.2, 0.6, 1.8, 5.4 s."""
    env["QUOTA_SENTINEL_WEBHOOKS"] = ",".join(
        [receivers.ok.url + HOOK, receivers.flaky.url + HOOK, receivers.down_url]
    )
    env["QUOTA_SENTINEL_WEBHOOK_SECRET"] = SECRET
    env["QUOTA_SENTINEL_WEBHOOK_RETRY_BASE"] = "0.2"
    return receivers


@pytest.fixture
def deliver(ctx: Context) -> Callable[[Callable[[], bool]], None]:
    """Works every queue (moving retries that are due back first) until `done()` holds."""

    def run(done: Callable[[], bool], timeout_s: float = 60.0) -> None:
        names = list(queue_names(ctx.settings).values())
        deadline = time.monotonic() + timeout_s
        while not done():
            assert time.monotonic() < deadline, "deliveries did not finish in time"
            SimpleWorker(names, connection=ctx.jobs.r).work(burst=True, with_scheduler=True)
            time.sleep(0.1)

    return run
