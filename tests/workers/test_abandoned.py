"""A poll abandoned by a dead worker is replaced, and POST /v1/poll says what really happened.

The job states here are RQ's own, written through RQ's Job API as a worker would leave them;
tests/resilience/test_worker_killed.py kills a real worker mid-poll.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from rq.job import JobStatus

from quota_sentinel.jobs import POLL_LOCK_TTL_S, poll_job_id
from quota_sentinel.services.polls import PollRequest, enqueue_poll
from tests.workers.support import fp_of, register_instance


def _mark_started(ctx, fp: str, seconds_ago: float) -> None:
    """Leaves the queued poll job of `fp` as a worker killed mid-poll does: started, never
    finished (RQ's timestamps are wall-clock)."""
    job = ctx.jobs.queue("poll").fetch_job(poll_job_id(fp))
    job.started_at = datetime.fromtimestamp(time.time() - seconds_ago, UTC)
    job.set_status(JobStatus.STARTED)
    job.save()
    ctx.jobs.queue("poll").remove(job)


def test_post_poll_answers_queued_then_in_progress_never_queued_twice(zai, client, ctx):
    reg = register_instance(client)

    first = client.post("/v1/poll", headers=reg.headers)
    second = client.post("/v1/poll", headers=reg.headers)

    assert first.status_code == 202 and second.status_code == 202
    assert first.get_json()["queued"] == ["zai"] and first.get_json()["in_progress"] == []
    assert second.get_json()["queued"] == [] and second.get_json()["in_progress"] == ["zai"]
    assert ctx.jobs.queue("poll").count == 1


def test_a_running_poll_is_not_replaced(zai, client, ctx):
    fp = fp_of(ctx, register_instance(client))
    assert enqueue_poll(ctx, fp) is PollRequest.QUEUED
    _mark_started(ctx, fp, seconds_ago=POLL_LOCK_TTL_S + 5)
    # Its worker is alive: it holds and renews the account's poll lock.
    token = ctx.store.locks.acquire(ctx.store.keys.poll_lock(fp), POLL_LOCK_TTL_S)
    assert token is not None

    assert enqueue_poll(ctx, fp) is PollRequest.RUNNING
    assert ctx.jobs.poll_job(fp).status == "started"
    assert ctx.jobs.queue("poll").count == 0


def test_a_just_started_poll_is_running_even_before_it_takes_its_lock(zai, client, ctx):
    fp = fp_of(ctx, register_instance(client))
    enqueue_poll(ctx, fp)
    _mark_started(ctx, fp, seconds_ago=1)

    assert enqueue_poll(ctx, fp) is PollRequest.RUNNING


def test_a_poll_abandoned_by_a_dead_worker_is_replaced_and_runs(zai, client, ctx, drain):
    reg = register_instance(client)
    fp = fp_of(ctx, reg)
    enqueue_poll(ctx, fp)
    _mark_started(ctx, fp, seconds_ago=POLL_LOCK_TTL_S + 1)  # and no lock: nobody renews it

    answer = client.post("/v1/poll", headers=reg.headers).get_json()

    assert answer["queued"] == ["zai"] and answer["in_progress"] == []
    assert ctx.jobs.poll_job(fp).status == "queued"
    assert drain() == 1
    assert zai.calls == 1
    assert ctx.jobs.poll_job(fp) is None  # done and gone: the next poll can be queued


def test_a_failed_poll_kept_for_inspection_does_not_block_the_next(zai, client, ctx):
    fp = fp_of(ctx, register_instance(client))
    enqueue_poll(ctx, fp)
    job = ctx.jobs.queue("poll").fetch_job(poll_job_id(fp))
    job.set_status(JobStatus.FAILED)
    ctx.jobs.queue("poll").remove(job)

    assert enqueue_poll(ctx, fp) is PollRequest.QUEUED
    assert ctx.jobs.queue("poll").count == 1
