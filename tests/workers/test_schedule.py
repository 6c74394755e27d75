"""The cron schedule: what build_scheduler registers, and what its jobs do once a worker runs."""

from __future__ import annotations

from quota_sentinel.jobs import queue_names
from tests.workers.support import fp_of, register_instance
from workers.schedule import SCHEDULE, build_scheduler

DAY_S = 86400
TICK = "workers.ticking.enqueue_due_polls"
REAP = "workers.maintenance.reap_expired"


def test_scheduler_registers_the_tick_and_the_reaper(ctx) -> None:
    cron = build_scheduler(ctx)

    jobs = {job.func_name: job for job in cron.get_jobs()}
    assert set(jobs) == {TICK, REAP}
    maintenance = queue_names(ctx.settings)["maintenance"]
    assert (jobs[TICK].interval, jobs[TICK].queue_name) == (5, maintenance)
    assert (jobs[REAP].interval, jobs[REAP].queue_name) == (60, maintenance)
    for job in jobs.values():
        options = job.job_options
        assert 0 < options["job_timeout"] <= 300
        assert 0 <= options["result_ttl"] < DAY_S
        assert 0 < options["failure_ttl"] < DAY_S
    # The tick runs every 5 s: its job must not outlive many ticks or pile up in Redis.
    assert jobs[TICK].job_options["result_ttl"] <= 60


def test_schedule_is_declared_as_data() -> None:
    assert [(p.func.__module__ + "." + p.func.__name__, p.interval_s) for p in SCHEDULE] == [
        (TICK, 5),
        (REAP, 60),
    ]


def test_cron_jobs_are_enqueued_and_run_by_a_worker(zai, client, ctx, drain) -> None:
    fp = fp_of(ctx, register_instance(client))
    cron = build_scheduler(ctx)

    enqueued = cron.enqueue_jobs()

    assert {job.func_name for job in enqueued} == {TICK, REAP}
    queue = ctx.jobs.queue("maintenance")
    assert queue.count == 2
    assert drain() == 3  # the tick, the reaper, and the poll the tick enqueued
    assert zai.calls == 1
    assert ctx.store.snapshots.get(fp).windows["5h"].utilization == 41
    assert queue.count == 0 and ctx.jobs.queue("poll").count == 0


def test_two_schedulers_starting_together_poll_once(zai, client, ctx, drain) -> None:
    # rq enqueues interval jobs at start-up and does not coordinate copies of the scheduler.
    fp = fp_of(ctx, register_instance(client))
    first, second = build_scheduler(ctx), build_scheduler(ctx)

    first.enqueue_jobs()
    second.enqueue_jobs()

    assert ctx.jobs.queue("maintenance").count == 4
    assert drain() == 5  # two ticks, two reapers, one poll
    assert zai.calls == 1
    assert ctx.store.snapshots.get(fp) is not None
