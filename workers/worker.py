"""The worker process: an RQ worker on the poll, maintenance and alerts queues."""

from __future__ import annotations

import logging
import time

import redis
from rq import Worker

from quota_sentinel.connection import OUTAGE, stop_waiting
from quota_sentinel.jobs import queue_names
from workers import runtime

log = logging.getLogger(__name__)

RESTART_PAUSE_S = 5.0


class PatientWorker(Worker):
    """RQ's worker over a patient Redis client (connection.PatientRetry): a Redis outage
    pauses it; a stop request during one makes its clients give up so it can exit."""

    def request_stop(self, signum, frame):
        stop_waiting()
        super().request_stop(signum, frame)


def run(burst: bool = False) -> None:
    """Works the queues until SIGINT/SIGTERM (warm shutdown), or until empty with `burst`.

    RQ's loop quits on errors it does not expect; unless a stop was asked for, a new worker
    takes over after a pause instead of the process exiting.
    """
    ctx = runtime.context()
    names = queue_names(ctx.settings)
    queues = [names["poll"], names["maintenance"], names["alerts"]]
    while True:
        worker = PatientWorker(queues, connection=ctx.jobs.r)
        try:
            # The scheduler moves webhook deliveries waiting for their retry back onto their
            # queue.
            worker.work(burst=burst, with_scheduler=True)
        except redis.RedisError as exc:
            if not OUTAGE.stopping.is_set():
                raise
            log.warning("stopped while Redis is unreachable (%s); its entry expires", exc)
        if burst or OUTAGE.stopping.is_set():
            return
        log.error("the worker loop ended unexpectedly; starting again in %.0f s", RESTART_PAUSE_S)
        time.sleep(RESTART_PAUSE_S)
