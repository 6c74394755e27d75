"""The `quota-sentinel` command: start, worker, scheduler, health, status."""

from __future__ import annotations

import enum
import json
import sys
from typing import Any

import click
import requests
from rich.console import Console

from quota_sentinel import __version__
from quota_sentinel.config import Settings
from quota_sentinel.errors import ConfigError
from quota_sentinel.jobs import SCHEDULER_ENTRY, WORKER_ENTRY, run_entry
from quota_sentinel.logconfig import configure_logging
from quota_sentinel.terminal import replay_table, status_table, summary_table

DEFAULT_URL = "http://127.0.0.1:7878"


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


def _get(
    url: str, path: str, api_key: str | None = None, headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    headers = {**(headers or {}), **({"X-API-Key": api_key} if api_key else {})}
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
    Console().print(status_table(body))


@main.command()
@click.argument("trace", type=click.File("r"))
@click.option(
    "--safety-margin",
    type=click.FloatRange(0),
    default=30.0,
    show_default=True,
    help="Minutes of headroom (QUOTA_SENTINEL_SAFETY_MARGIN_MIN on the server).",
)
@click.option(
    "--cap",
    type=click.FloatRange(0, 100, min_open=True),
    help="One cap (%) for every window, instead of the server's defaults.",
)
@click.option("--hard-caps", help='JSON overrides like the registration\'s: {"zai_default": 70}.')
@click.option(
    "--horizon",
    type=click.FloatRange(1),
    default=60.0,
    show_default=True,
    help="Velocity look-back, minutes.",
)
@click.option(
    "--framework", type=click.Choice(["claude", "opencode"]), default="opencode", show_default=True
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def replay(trace, safety_margin, cap, hard_caps, horizon, framework, as_json) -> None:
    """Backtest the forecast on a recorded TRACE (JSON Lines; - reads stdin)."""
    from quota_sentinel.replay import ReplayOptions, TraceError, parse_trace
    from quota_sentinel.replay import replay as run

    if cap is not None and hard_caps:
        _fail("give either --cap or --hard-caps, not both.")
    caps = _hard_caps(hard_caps) if hard_caps else None
    options = ReplayOptions(safety_margin, horizon, framework, cap, caps)
    try:
        rows, summaries = run(parse_trace(trace), options)
    except TraceError as exc:
        _fail(f"{trace.name}: {exc}")
    if as_json:
        for row in rows:
            click.echo(json.dumps(row, sort_keys=True))
        for summary in summaries:
            click.echo(json.dumps({"summary": summary}, sort_keys=True))
        return
    console = Console()
    console.print(replay_table(rows))
    console.print(summary_table(summaries))


def _hard_caps(text: str) -> dict[str, float]:
    try:
        caps = json.loads(text)
    except ValueError:
        _fail('--hard-caps must be a JSON object such as {"zai_default": 70}.')
    valid = isinstance(caps, dict) and all(
        isinstance(v, int | float) and not isinstance(v, bool) and 0 < v <= 100
        for v in caps.values()
    )
    if not valid:
        _fail("--hard-caps must map cap keys to percentages between 0 and 100.")
    return {str(k): float(v) for k, v in caps.items()}


@main.command("export-samples")
@click.option("--url", default=DEFAULT_URL, show_default=True, envvar="QUOTA_SENTINEL_URL")
@click.option("--api-key", envvar="QUOTA_SENTINEL_API_KEY", help="An instance's API key.")
@click.option(
    "--admin-token",
    envvar="QUOTA_SENTINEL_ADMIN_TOKEN",
    help="The admin token: every account's samples.",
)
@click.option("--since", type=float, default=0.0, help="Only samples from this epoch second on.")
def export_samples(url, api_key, admin_token, since) -> None:
    """Write the server's stored samples as a trace that `replay` reads (JSON Lines)."""
    if not api_key and not admin_token:
        _fail("pass --api-key or --admin-token.")
    headers = {"X-API-Key": api_key} if api_key else {"Authorization": f"Bearer {admin_token}"}
    code, body = _get(url, f"/v1/samples?since={since}", headers=headers)
    if code != 200:
        _fail(body.get("message", f"the server answered {code}."))
    for sample in body["samples"]:
        click.echo(json.dumps(sample, sort_keys=True))
