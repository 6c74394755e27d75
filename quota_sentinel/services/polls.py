"""Asking for a poll of one account: enqueue it, or say truthfully why no new job was needed,
replacing a poll that a dead worker abandoned."""

from __future__ import annotations

import enum
import logging
import time

from quota_sentinel.jobs import POLL_LOCK_TTL_S
from quota_sentinel.services.context import Context

log = logging.getLogger(__name__)

_WAITING = {"queued", "deferred", "scheduled"}


class PollRequest(enum.Enum):
    QUEUED = "queued"  # a new poll job was enqueued
    PENDING = "pending"  # a poll job already waits for a worker
    RUNNING = "running"  # a worker is polling the account now


def enqueue_poll(ctx: Context, fp: str) -> PollRequest:
    """Enqueues a poll of `fp` unless one is already waiting or running.

    A poll job keeps its unique id while it runs; if its worker is killed it stays "started"
    for ever and would refuse every later poll of the account. A running poll renews the
    account's poll lock (TTL POLL_LOCK_TTL_S); a job started longer ago than that whose lock is
    gone was abandoned, and is deleted and replaced here. So is a failed job kept for
    inspection. RQ's timestamps are wall-clock, so the age is measured on the wall clock.
    """
    for _ in range(3):
        if ctx.jobs.enqueue_poll(fp):
            return PollRequest.QUEUED
        job = ctx.jobs.poll_job(fp)
        if job is None:
            continue  # it finished between the two calls
        if job.status in _WAITING:
            return PollRequest.PENDING
        if job.status == "started":
            age = time.time() - job.started_at if job.started_at else 0.0
            if age < POLL_LOCK_TTL_S or ctx.store.locks.held(ctx.store.keys.poll_lock(fp)):
                return PollRequest.RUNNING
            log.warning(
                "the poll of account %s started %.0f s ago and its worker is gone; replacing it",
                fp,
                age,
            )
        ctx.jobs.discard_poll(fp)
    return PollRequest.PENDING  # others kept replacing it at the same moment: one is queued
