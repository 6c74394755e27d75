"""Redis connections: REDIS_URL when set, otherwise the embedded server of the data dir.

Web processes fail fast (a request answers 503 while Redis is down). Background processes
(worker, scheduler) connect *patiently*: every command retries with backoff until Redis is
back, so a Redis restart of any length pauses them instead of ending them, and the outage is
logged once when it starts and once when it ends.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import redis
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

from quota_sentinel.config import Settings
from quota_sentinel.embedded import embedded_url

log = logging.getLogger(__name__)
T = TypeVar("T")

# Retries while Redis is down: 0.2 s, 0.4 s, … then every PATIENT_BACKOFF_CAP_S, so work resumes
# at most that long after Redis is back.
PATIENT_BACKOFF_CAP_S = 3.0
PATIENT_BACKOFF_BASE_S = 0.1


class _Outage:
    """One process's view of a Redis outage, shared by every client and thread: logs its
    start and its end once each, however many commands wait through it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.since: float | None = None
        self.stopping = threading.Event()
        self.depth = threading.local()

    def failed(self, error: Exception) -> None:
        with self.lock:
            if self.since is None:
                self.since = time.monotonic()
                log.warning(
                    "Redis is unreachable (%s); waiting for it, retrying every %.0f s at most",
                    type(error).__name__,
                    PATIENT_BACKOFF_CAP_S,
                )

    def succeeded(self) -> None:
        if self.since is None:  # the common case: no lock, no log
            return
        with self.lock:
            if self.since is not None:
                log.warning("Redis is back after %.0f s; resuming", time.monotonic() - self.since)
                self.since = None


OUTAGE = _Outage()


def stop_waiting() -> None:
    """Makes patient clients of this process give up (raise) on their next failure: called on
    SIGTERM/SIGINT, so a process asked to stop during an outage can exit."""
    OUTAGE.stopping.set()


class PatientRetry(Retry):
    """Retries connection errors and timeouts forever, with capped exponential backoff, until
    the process is asked to stop. Nested calls (a connect inside a command) share one outage."""

    def __init__(self) -> None:
        super().__init__(
            ExponentialBackoff(cap=PATIENT_BACKOFF_CAP_S, base=PATIENT_BACKOFF_BASE_S), -1
        )

    def call_with_retry(
        self,
        do: Callable[[], T],
        fail: Callable[..., Any],
        is_retryable: Callable[[Exception], bool] | None = None,
        with_failure_count: bool = False,
    ) -> T:
        depth = getattr(OUTAGE.depth, "n", 0)
        OUTAGE.depth.n = depth + 1
        failures = 0
        try:
            while True:
                try:
                    result = do()
                except self._supported_errors as error:
                    if (is_retryable and not is_retryable(error)) or OUTAGE.stopping.is_set():
                        raise
                    failures += 1
                    fail(error, failures) if with_failure_count else fail(error)
                    if failures > 1:  # a stale pooled socket fails once, then reconnects
                        OUTAGE.failed(error)
                    time.sleep(self._backoff.compute(failures))
                    continue
                if depth == 0:
                    OUTAGE.succeeded()
                return result
        finally:
            OUTAGE.depth.n = depth


def redis_url(settings: Settings) -> str:
    """REDIS_URL, or the unix socket of the embedded server that `quota-sentinel start` runs."""
    return settings.redis_url or embedded_url(settings.data_dir)


def connect(
    settings: Settings, *, decode_responses: bool = True, patient: bool = False
) -> redis.Redis:
    """A client for the store (decoded text) or, with decode_responses=False, for RQ.

    Connecting is lazy: nothing is sent until the first command, so building a client for a
    server that is down does not fail. A default client's first command then raises
    redis.ConnectionError; a `patient` one waits for the server (see PatientRetry).
    """
    extra: dict[str, Any] = {"retry": PatientRetry()} if patient else {}
    return redis.Redis.from_url(
        redis_url(settings),
        decode_responses=decode_responses,
        socket_timeout=5,
        socket_connect_timeout=3,
        health_check_interval=30,
        **extra,
    )
