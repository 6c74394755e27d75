"""The cron schedule as data, and the scheduler process that registers it on RQ's CronScheduler."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import redis
from rq.cron import CronScheduler

from quota_sentinel.connection import stop_waiting
from quota_sentinel.jobs import TICK_INTERVAL_S, queue_names
from quota_sentinel.services.context import Context
from workers import runtime
from workers.maintenance import reap_expired
from workers.ticking import enqueue_due_polls

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Periodic:
    """One periodic job: what runs, how often (s), on which queue, with which timeouts (s)."""

    func: object
    interval_s: int
    queue: str
    job_timeout_s: int
    result_ttl_s: int
    failure_ttl_s: int
    # A job no worker started within this many seconds is dropped (None: kept until run), so
    # ticks do not pile up while every worker is down.
    ttl_s: int | None = None


SCHEDULE: tuple[Periodic, ...] = (
    # Cheap dispatcher: claims due accounts and fans out unique poll jobs.
    Periodic(enqueue_due_polls, TICK_INTERVAL_S, "maintenance", 30, 10, 600, ttl_s=30),
    Periodic(reap_expired, 60, "maintenance", 120, 60, 3600),
)


class PatientCronScheduler(CronScheduler):
    """RQ's CronScheduler over a patient Redis client (connection.PatientRetry): during a Redis
    outage its loop waits inside the command it was sending and carries on when Redis is back
    (a plain client let the ConnectionError out of `start()` and the process exited)."""

    def _request_stop(self, signum, frame):
        stop_waiting()  # a stop during an outage must not wait for Redis
        super()._request_stop(signum, frame)

    def register_death(self, pipeline=None) -> None:
        try:
            super().register_death(pipeline)
        except redis.RedisError as exc:  # stopping while Redis is down: its entry expires
            log.warning("could not deregister the scheduler (%s); its entry expires", exc)


def build_scheduler(ctx: Context) -> CronScheduler:
    """A CronScheduler with every SCHEDULE entry registered."""
    names = queue_names(ctx.settings)
    cron = PatientCronScheduler(connection=ctx.jobs.r, logging_level=logging.INFO)
    for entry in SCHEDULE:
        cron.register(
            entry.func,
            queue_name=names[entry.queue],
            interval=entry.interval_s,
            job_timeout=entry.job_timeout_s,
            result_ttl=entry.result_ttl_s,
            failure_ttl=entry.failure_ttl_s,
            ttl=entry.ttl_s,
        )
    return cron


def run() -> None:
    """Runs the scheduler until SIGINT/SIGTERM (the `quota-sentinel scheduler` command)."""
    build_scheduler(runtime.context()).start()
