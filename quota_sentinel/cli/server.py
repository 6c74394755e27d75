"""The server-side commands: start (all-in-one), web, worker, scheduler."""

from __future__ import annotations

import os
import sys
import tempfile

import click

from quota_sentinel.cli.common import fail, load_settings
from quota_sentinel.errors import ConfigError
from quota_sentinel.jobs import POLL_THREADS, SCHEDULER_ENTRY, WORKER_ENTRY, run_entry
from quota_sentinel.logconfig import configure_logging

_HOST = click.option("--host", help="Bind address [QUOTA_SENTINEL_HOST, default 127.0.0.1].")
_PORT = click.option(
    "--port", type=click.IntRange(1, 65535), help="Port [QUOTA_SENTINEL_PORT, 7878]."
)
_WEB_WORKERS = click.option(
    "--web-workers",
    type=click.IntRange(1, 64),
    default=2,
    show_default=True,
    help="gunicorn worker processes (each with 8 threads).",
)


@click.command()
@_HOST
@_PORT
@_WEB_WORKERS
def web(host: str | None, port: int | None, web_workers: int) -> None:
    """Serve the API alone with gunicorn, as `start` does (needs REDIS_URL)."""
    from quota_sentinel.supervisor import gunicorn_argv

    settings = load_settings(host=host, port=port)
    if settings.metrics_dir is None:
        # gunicorn's processes add up their HTTP metrics in one folder: a fresh one per run.
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="qs-metrics-")
    argv = gunicorn_argv(settings.host, settings.port, web_workers, settings.access_log)
    os.execv(argv[0], argv)


@click.command()
@_HOST
@_PORT
@_WEB_WORKERS
def start(host: str | None, port: int | None, web_workers: int) -> None:
    """Run everything: embedded Redis (unless REDIS_URL), web, worker and scheduler."""
    from quota_sentinel.supervisor import Supervisor

    settings = load_settings(host=host, port=port)
    configure_logging(settings, "start")
    try:
        code = Supervisor(settings, web_workers).run()
    except ConfigError as exc:
        fail(exc.message)
    sys.exit(code)


@click.command()
@click.option("--burst", is_flag=True, help="Exit once the queues are empty.")
@click.option(
    "--threads",
    type=click.IntRange(1, 64),
    default=POLL_THREADS,
    show_default=True,
    help="Polls run at once (one RQ worker per thread).",
)
def worker(burst: bool, threads: int) -> None:
    """Run RQ workers for polls and maintenance (needs REDIS_URL or a running `start`)."""
    configure_logging(load_settings(), "worker")
    try:
        run_entry(WORKER_ENTRY, burst=burst, threads=threads)
    except ConfigError as exc:
        fail(exc.message)


@click.command()
def scheduler() -> None:
    """Run RQ's cron scheduler with the schedule of workers/schedule.py."""
    configure_logging(load_settings(), "scheduler")
    try:
        run_entry(SCHEDULER_ENTRY)
    except ConfigError as exc:
        fail(exc.message)
