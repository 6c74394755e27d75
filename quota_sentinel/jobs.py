"""The only link to `workers`: queue names, dotted job paths, and enqueueing with unique ids."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import redis
from rq import Queue, Retry
from rq.exceptions import DuplicateJobError
from rq.worker_registration import REDIS_WORKER_KEYS

from quota_sentinel.config import Settings

log = logging.getLogger(__name__)

POLL_ACCOUNT = "workers.polling.poll_account"
ENQUEUE_DUE_POLLS = "workers.ticking.enqueue_due_polls"
REAP_EXPIRED = "workers.maintenance.reap_expired"
DELIVER_ALERT = "workers.alerting.deliver_alert"

POLL_JOB_TIMEOUT_S = 60
# A running poll holds the account's lock with this TTL and renews it every third of it: a
# started job whose lock is gone was abandoned (its worker died) and may be replaced.
POLL_LOCK_TTL_S = 15
# The scheduler's dispatcher tick (seconds); health calls the scheduler late after
# TICK_LATE_AFTER_S without one (generous: a tick waits behind polls in a busy worker).
TICK_INTERVAL_S = 5
TICK_LATE_AFTER_S = 6 * TICK_INTERVAL_S
# Polls one worker process runs at once, one RQ worker per thread (workers/worker.py).
POLL_THREADS = 4
# A unique job id stays taken while the job hash lives. A finished poll's hash is deleted at
# once (result_ttl 0; nothing reads poll results): a kept hash refused the next poll of the
# account (POST /v1/poll, or a tick after a slow poll), and the claimed due entry then waited
# out its whole lease. Failed jobs (bugs) stay visible briefly, well under the 30 s interval.
POLL_RESULT_TTL_S = 0
POLL_FAILURE_TTL_S = 25
# A webhook delivery is retried this many times, the n-th retry after base × 3^(n-1) seconds
# (QUOTA_SENTINEL_WEBHOOK_RETRY_BASE, default 10: 10 s, 30 s, 90 s, 270 s), then given up on.
ALERT_RETRIES = 4
ALERT_JOB_TIMEOUT_S = 60
ALERT_FAILURE_TTL_S = 86400


def queue_names(settings: Settings) -> dict[str, str]:
    """Queue names, scoped by the key prefix so deployments sharing a Redis stay apart."""
    scope = settings.key_prefix.rstrip(":") or "qs"
    return {
        "poll": f"{scope}-poll",
        "maintenance": f"{scope}-maintenance",
        "alerts": f"{scope}-alerts",
    }


def poll_job_id(fp: str) -> str:
    return f"poll-{fp}"


class JobQueue:
    """Enqueues jobs by dotted name over a raw (undecoded) Redis client, as RQ needs."""

    def __init__(self, r: redis.Redis, settings: Settings) -> None:
        self.r = r
        self.names = queue_names(settings)

    def queue(self, purpose: str) -> Queue:
        return Queue(self.names[purpose], connection=self.r)

    # RQ's set of registered workers (what `rq.Worker.count` sizes).
    worker_set = REDIS_WORKER_KEYS

    def worker_count(self) -> int:
        """How many RQ workers are registered (what `rq.Worker.count` says), in O(1): the size
        of RQ's worker set, without reading its members."""
        return self.r.scard(REDIS_WORKER_KEYS)

    def enqueue_poll(self, fp: str) -> bool:
        """Enqueues `poll_account(fp)` unless a job of that account already exists.

        Returns:
            True if a job was enqueued, False if one with the same id already exists (see
            `poll_job` for what it is doing).
        """
        try:
            self.queue("poll").enqueue(
                POLL_ACCOUNT,
                fp,
                job_id=poll_job_id(fp),
                unique=True,
                job_timeout=POLL_JOB_TIMEOUT_S,
                result_ttl=POLL_RESULT_TTL_S,
                failure_ttl=POLL_FAILURE_TTL_S,
            )
        except DuplicateJobError:
            log.debug("poll of %s already exists", fp)
            return False
        return True

    def poll_job(self, fp: str) -> PollJob | None:
        """The existing poll job of an account: its RQ status and when it started (epoch s)."""
        job = self.queue("poll").fetch_job(poll_job_id(fp))
        if job is None:
            return None
        status = job.get_status(refresh=False)
        started = job.started_at.timestamp() if job.started_at else None
        return PollJob(str(status.value if status else "unknown"), started)

    def discard_poll(self, fp: str) -> None:
        """Deletes an account's poll job (one a dead worker abandoned), freeing its unique id."""
        job = self.queue("poll").fetch_job(poll_job_id(fp))
        if job is not None:
            job.delete()

    def enqueue_alert(self, alert_id: str, receiver_id: str, retry_base_s: float) -> bool:
        """Enqueues `deliver_alert(alert_id, receiver_id)` once per alert and receiver; failed
        deliveries come back with exponential backoff (the job returns an rq Retry).

        Returns:
            True if a job was enqueued, False if that delivery is already queued.
        """
        try:
            self.queue("alerts").enqueue(
                DELIVER_ALERT,
                alert_id,
                receiver_id,
                retry_base_s,
                job_id=f"alert-{alert_id}-{receiver_id}",
                unique=True,
                job_timeout=ALERT_JOB_TIMEOUT_S,
                result_ttl=0,
                failure_ttl=ALERT_FAILURE_TTL_S,
            )
        except DuplicateJobError:
            return False
        return True


def alert_retry(retry_base_s: float) -> Retry:
    """The rq Retry a failed delivery returns: ALERT_RETRIES more tries, 3 × longer each."""
    return Retry(max=ALERT_RETRIES, interval=[retry_base_s * 3**n for n in range(ALERT_RETRIES)])


@dataclass(frozen=True)
class PollJob:
    status: str  # RQ's: queued, started, finished, failed, …
    started_at: float | None


# Process entry points in `workers`, called by dotted name from the CLI.
WORKER_ENTRY = "workers.worker.run"
SCHEDULER_ENTRY = "workers.schedule.run"


def run_entry(dotted: str, **kwargs: object) -> None:
    """Imports `package.module.function` and calls it (keeps quota_sentinel free of
    import-time links to workers)."""
    import importlib

    module, _, name = dotted.rpartition(".")
    getattr(importlib.import_module(module), name)(**kwargs)
