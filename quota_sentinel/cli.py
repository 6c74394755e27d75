"""The `quota-sentinel` command: start, worker, scheduler, health, status."""

from __future__ import annotations

import enum
import json
import sys
from typing import Any

import click
import requests
from rich.console import Console
from rich.table import Table

from quota_sentinel import __version__
from quota_sentinel.config import Settings
from quota_sentinel.errors import ConfigError
from quota_sentinel.jobs import SCHEDULER_ENTRY, WORKER_ENTRY, run_entry
from quota_sentinel.logconfig import configure_logging

DEFAULT_URL = "http://127.0.0.1:7878"
STATUS_STYLE = {"GREEN": "green", "YELLOW": "yellow", "RED": "bold red", "UNKNOWN": "dim"}


class Exit(enum.IntEnum):
    OK = 0
    ERROR = 1
    UNREACHABLE = 2


def _settings(**overrides: Any) -> Settings:
    try:
        return Settings.from_env(**{k: v for k, v in overrides.items() if v is not None})
    except ConfigError as exc:
        _fail(exc.message)


def _fail(message: str, code: Exit = Exit.ERROR) -> None:
    click.echo(f"quota-sentinel: {message}", err=True)
    sys.exit(code)


@click.group()
@click.version_option(__version__, prog_name="quota-sentinel")
def main() -> None:
    """Watch AI subscription quotas and tell coding agents to go on, go small or stop."""


@main.command()
@click.option("--host", help="Bind address [QUOTA_SENTINEL_HOST, default 127.0.0.1].")
@click.option("--port", type=click.IntRange(1, 65535), help="Port [QUOTA_SENTINEL_PORT, 7878].")
@click.option(
    "--web-workers",
    type=click.IntRange(1, 64),
    default=2,
    show_default=True,
    help="gunicorn worker processes.",
)
def start(host: str | None, port: int | None, web_workers: int) -> None:
    """Run everything: embedded Redis (unless REDIS_URL), web, worker and scheduler."""
    from quota_sentinel.supervisor import Supervisor

    settings = _settings(host=host, port=port)
    configure_logging(settings, "start")
    try:
        code = Supervisor(settings, web_workers).run()
    except ConfigError as exc:
        _fail(exc.message)
    sys.exit(code)


@main.command()
@click.option("--burst", is_flag=True, help="Exit once the queues are empty.")
def worker(burst: bool) -> None:
    """Run an RQ worker for polls and maintenance (needs REDIS_URL or a running `start`)."""
    configure_logging(_settings(), "worker")
    try:
        run_entry(WORKER_ENTRY, burst=burst)
    except ConfigError as exc:
        _fail(exc.message)


@main.command()
def scheduler() -> None:
    """Run RQ's cron scheduler with the schedule of workers/schedule.py."""
    configure_logging(_settings(), "scheduler")
    try:
        run_entry(SCHEDULER_ENTRY)
    except ConfigError as exc:
        _fail(exc.message)


def _get(url: str, path: str, api_key: str | None = None) -> tuple[int, Any]:
    headers = {"X-API-Key": api_key} if api_key else {}
    try:
        response = requests.get(url.rstrip("/") + path, headers=headers, timeout=5)
    except requests.RequestException:
        _fail(f"nothing answers at {url}; is `quota-sentinel start` running?", Exit.UNREACHABLE)
    try:
        return response.status_code, response.json()
    except ValueError:
        _fail(f"{url} answered with something that is not quota-sentinel's JSON.", Exit.UNREACHABLE)


@main.command()
@click.option("--url", default=DEFAULT_URL, show_default=True, envvar="QUOTA_SENTINEL_URL")
def health(url: str) -> None:
    """Check that the server answers and reaches Redis (exit 0 healthy, 1 not, 2 unreachable)."""
    status, body = _get(url, "/v1/health")
    age = body.get("last_poll_age_s")
    click.echo(
        f"{body.get('status')}: redis {body.get('redis')}, workers {body.get('workers')}, "
        f"last poll {'never' if age is None else f'{age:.0f} s ago'}, "
        f"version {body.get('version')}"
    )
    sys.exit(Exit.OK if status == 200 else Exit.ERROR)


def _status_table(body: dict[str, Any]) -> Table:
    table = Table(
        title=f"{body['project']} ({body['framework']}): {body['recommendation']}",
        caption=body.get("message"),
    )
    for column in (
        "provider",
        "window",
        "used %",
        "cap %",
        "velocity %/h",
        "runs out in",
        "resets at",
        "status",
    ):
        table.add_column(column)
    for name, provider in sorted(body["providers"].items()):
        windows = provider.get("windows") or {}
        if not windows:
            table.add_row(
                name,
                "-",
                "",
                "",
                "",
                "",
                "",
                _styled(provider["status"]),
            )
            if provider.get("error"):
                table.add_row("", f"[dim]{provider['error']}[/]", "", "", "", "", "", "")
            continue
        for wname, w in sorted(windows.items()):
            left = w.get("projected_exhaustion_min")
            table.add_row(
                name,
                wname,
                _num(w.get("utilization")),
                _num(w.get("effective_cap")),
                _num(w.get("velocity_pct_per_hour")),
                "-" if left is None else f"{left:.0f} min",
                (w.get("resets_at") or "-")[:16].replace("T", " "),
                _styled(w["status"]),
            )
        if provider.get("error"):
            table.add_row("", f"[dim]stale: {provider['error']}[/]", "", "", "", "", "", "")
    return table


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _styled(status: str) -> str:
    return f"[{STATUS_STYLE.get(status, '')}]{status}[/]"


@main.command()
@click.option("--url", default=DEFAULT_URL, show_default=True, envvar="QUOTA_SENTINEL_URL")
@click.option(
    "--api-key",
    envvar="QUOTA_SENTINEL_API_KEY",
    help="An instance's API key [QUOTA_SENTINEL_API_KEY].",
)
@click.option("--json", "as_json", is_flag=True, help="Print the raw JSON.")
def status(url: str, api_key: str | None, as_json: bool) -> None:
    """Show an instance's providers, forecasts and recommendation (or server health)."""
    if not api_key:
        code, body = _get(url, "/v1/health")
        if as_json:
            click.echo(json.dumps(body, indent=2, sort_keys=True))
        else:
            click.echo(
                f"server {body.get('status')} (version {body.get('version')}); pass "
                "--api-key (or QUOTA_SENTINEL_API_KEY) for an instance's status."
            )
        sys.exit(Exit.OK if code == 200 else Exit.ERROR)
    code, body = _get(url, "/v1/status", api_key)
    if code != 200:
        _fail(body.get("message", f"the server answered {code}."))
    if as_json:
        click.echo(json.dumps(body, indent=2, sort_keys=True))
        return
    Console().print(_status_table(body))
