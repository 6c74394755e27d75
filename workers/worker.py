"""The worker process: POLL_THREADS RQ workers, one per thread, on the poll, maintenance and
alerts queues.

A poll mostly waits for the provider (a slow one takes 200 ms and more), so one process runs
several at once: each thread is an RQ SimpleWorker (the job runs in the thread, no fork per
job), with a timer instead of SIGALRM for job timeouts (signals reach only the main thread).
1,000 accounts at a 60 s interval against a 200 ms upstream need about 17 polls/s: four forking
workers managed ~10 and fell behind by ~50 s; four processes of POLL_THREADS threads keep every
poll within a tick of its due time (README, Performance). The main thread turns SIGINT/SIGTERM
into a warm shutdown: each thread finishes its job (up to STOP_GRACE_S) and signs off. The
first thread also runs RQ's scheduler, which moves webhook deliveries waiting for their retry
back onto their queue.
"""

from __future__ import annotations

import logging
import signal
import threading
import time

import redis
from rq import SimpleWorker
from rq.timeouts import TimerDeathPenalty

from quota_sentinel.connection import stop_waiting
from quota_sentinel.jobs import POLL_THREADS, queue_names
from workers import runtime

log = logging.getLogger(__name__)

# Seconds a stopping process waits for its threads' running jobs (start's supervisor waits 15 s).
STOP_GRACE_S = 10.0
# A poll thread whose RQ loop ended without a stop request is replaced after this pause.
RESTART_PAUSE_S = 5.0


class PollThread(SimpleWorker):
    """An RQ worker that runs in a thread of the worker process."""

    death_penalty_class = TimerDeathPenalty

    def _install_signal_handlers(self) -> None:
        """Nothing: the process's main thread owns SIGINT and SIGTERM."""


def _start(worker: PollThread, i: int, burst: bool) -> threading.Thread:
    thread = threading.Thread(
        target=worker.work,
        kwargs={"burst": burst, "with_scheduler": i == 0},
        name=f"poll-{i}",
        daemon=True,
    )
    thread.start()
    return thread


def run(burst: bool = False, threads: int = POLL_THREADS) -> None:
    """Works the queues until SIGINT/SIGTERM (warm shutdown), or until empty with `burst`.

    The Redis clients are patient (connection.PatientRetry): a Redis outage pauses the threads
    instead of ending them. A thread whose RQ loop still ends without a stop request (RQ quits
    on errors it does not expect) is replaced after RESTART_PAUSE_S.
    """
    ctx = runtime.context()  # built here, before any thread asks for it
    names = queue_names(ctx.settings)
    queues = [names["poll"], names["maintenance"], names["alerts"]]
    workers = [PollThread(queues, connection=ctx.jobs.r) for _ in range(threads)]
    stop = threading.Event()

    def request_stop(*_: object) -> None:
        stop_waiting()  # a stop during a Redis outage must not wait for Redis
        stop.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    running = [_start(w, i, burst) for i, w in enumerate(workers)]
    ended: dict[int, float] = {}  # thread → when it was found ended
    while not stop.is_set() and (not burst or any(t.is_alive() for t in running)):
        stop.wait(0.5)
        for i, thread in enumerate(running):
            if burst or stop.is_set() or thread.is_alive():
                continue
            if i not in ended:
                log.error("poll thread %d ended unexpectedly; replacing it", i)
                ended[i] = time.monotonic()
            elif time.monotonic() - ended[i] >= RESTART_PAUSE_S:
                del ended[i]
                workers[i] = PollThread(queues, connection=ctx.jobs.r)
                running[i] = _start(workers[i], i, burst)
    _stop(workers, running)


def _stop(workers: list[PollThread], running: list[threading.Thread]) -> None:
    """Lets busy threads finish their job; idle ones (blocked waiting for a job) sign off (and
    stop the RQ scheduler they may run) and end with the process."""
    for worker in workers:
        worker._stop_requested = True  # what RQ's own SIGTERM handler sets
    deadline = time.monotonic() + STOP_GRACE_S
    for worker, thread in zip(workers, running, strict=True):
        while thread.is_alive() and worker.get_state() == "busy" and time.monotonic() < deadline:
            thread.join(0.2)
        if thread.is_alive():
            try:
                worker.teardown()
            except redis.RedisError as exc:  # stopping during an outage: its entry expires
                log.warning("a poll thread could not sign off (%s); its entry expires", exc)
