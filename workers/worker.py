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

import signal
import threading
import time

from rq import SimpleWorker
from rq.timeouts import TimerDeathPenalty

from quota_sentinel.jobs import POLL_THREADS, queue_names
from workers import runtime

# Seconds a stopping process waits for its threads' running jobs (start's supervisor waits 15 s).
STOP_GRACE_S = 10.0


class PollThread(SimpleWorker):
    """An RQ worker that runs in a thread of the worker process."""

    death_penalty_class = TimerDeathPenalty

    def _install_signal_handlers(self) -> None:
        """Nothing: the process's main thread owns SIGINT and SIGTERM."""


def run(burst: bool = False, threads: int = POLL_THREADS) -> None:
    """Works the queues until SIGINT/SIGTERM (warm shutdown), or until empty with `burst`."""
    ctx = runtime.context()  # built here, before any thread asks for it
    names = queue_names(ctx.settings)
    queues = [names["poll"], names["maintenance"], names["alerts"]]
    workers = [PollThread(queues, connection=ctx.jobs.r) for _ in range(threads)]
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    running = [
        threading.Thread(
            target=w.work,
            kwargs={"burst": burst, "with_scheduler": i == 0},
            name=f"poll-{i}",
            daemon=True,
        )
        for i, w in enumerate(workers)
    ]
    for thread in running:
        thread.start()
    while not stop.is_set() and any(t.is_alive() for t in running):
        stop.wait(0.5)
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
            worker.teardown()
