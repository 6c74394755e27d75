"""The cron schedule as data, and the scheduler process that registers it on RQ's CronScheduler."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from rq.cron import CronScheduler

from quota_sentinel.jobs import queue_names
from quota_sentinel.services.context import Context
from workers import runtime
from workers.maintenance import reap_expired
from workers.ticking import enqueue_due_polls


@dataclass(frozen=True)
class Periodic:
    """One periodic job: what runs, how often (s), on which queue, with which timeouts (s)."""

    func: object
    interval_s: int
    queue: str
    job_timeout_s: int
    result_ttl_s: int
    failure_ttl_s: int


SCHEDULE: tuple[Periodic, ...] = (
    # Cheap dispatcher: claims due accounts and fans out unique poll jobs.
    Periodic(enqueue_due_polls, 5, "maintenance", 30, 10, 600),
    Periodic(reap_expired, 60, "maintenance", 120, 60, 3600),
)


def build_scheduler(ctx: Context) -> CronScheduler:
    """A CronScheduler with every SCHEDULE entry registered."""
    names = queue_names(ctx.settings)
    cron = CronScheduler(connection=ctx.jobs.r, logging_level=logging.INFO)
    for entry in SCHEDULE:
        cron.register(
            entry.func,
            queue_name=names[entry.queue],
            interval=entry.interval_s,
            job_timeout=entry.job_timeout_s,
            result_ttl=entry.result_ttl_s,
            failure_ttl=entry.failure_ttl_s,
        )
    return cron


def run() -> None:
    """Runs the scheduler until SIGINT/SIGTERM (the `quota-sentinel scheduler` command)."""
    build_scheduler(runtime.context()).start()
