"""The worker process: an RQ worker on the poll, maintenance and alerts queues."""

from __future__ import annotations

from rq import Worker

from quota_sentinel.jobs import queue_names
from workers import runtime


def run(burst: bool = False) -> None:
    """Works the queues until SIGINT/SIGTERM (warm shutdown), or until empty with `burst`."""
    ctx = runtime.context()
    names = queue_names(ctx.settings)
    worker = Worker([names["poll"], names["maintenance"], names["alerts"]], connection=ctx.jobs.r)
    # The scheduler moves webhook deliveries waiting for their retry back onto their queue.
    worker.work(burst=burst, with_scheduler=True)
