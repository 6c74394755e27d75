"""The `quota-sentinel` command: start, worker, scheduler, health, status, guard, replay."""

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
from quota_sentinel.engine import Recommendation, Status, recommend
from quota_sentinel.errors import ConfigError
from quota_sentinel.jobs import SCHEDULER_ENTRY, WORKER_ENTRY, run_entry
from quota_sentinel.logconfig import configure_logging
from quota_sentinel.terminal import (
    instances_table,
    replay_table,
    status_table,
    summary_table,
    team_table,
)

DEFAULT_URL = "http://127.0.0.1:7878"


class Exit(enum.IntEnum):
    OK = 0
    ERROR = 1
    UNREACHABLE = 2


class GuardExit(enum.IntEnum):
    """`guard`'s exit code: the recommendation, or NO_ANSWER when the sentinel cannot tell."""

    PROCEED = 0
    NO_ANSWER = 2
    PROCEED_SMALL_ONLY = 10
    STOP = 20


_GUARD_EXITS = {r.value: GuardExit[r.value] for r in Recommendation}


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
    help="An instance's API key: that instance's status [QUOTA_SENTINEL_API_KEY].",
)
@click.option(
    "--admin-token",
    envvar="QUOTA_SENTINEL_ADMIN_TOKEN",
    help="The admin token: the team view of every account [QUOTA_SENTINEL_ADMIN_TOKEN].",
)
@click.option("--json", "as_json", is_flag=True, help="Print the raw JSON.")
@click.pass_context
def status(
    ctx: click.Context, url: str, api_key: str | None, admin_token: str | None, as_json: bool
) -> None:
    """Show the team view (every account and instance) or, with an API key, one instance.

    Without an admin token the team view is still shown by a server that has none configured,
    to callers on its own machine; otherwise this prints the server's health.
    """
    if api_key and not _given_over(ctx, "admin_token", "api_key"):
        _instance_status(url, api_key, as_json)
        return
    headers = {"Authorization": f"Bearer {admin_token}"} if admin_token else {}
    code, body = _get(url, "/v1/team", headers=headers)
    if code == 200:
        if as_json:
            click.echo(json.dumps(body, indent=2, sort_keys=True))
            return
        console = Console()
        console.print(team_table(body))
        console.print(instances_table(body))
        return
    if admin_token or code not in (401, 403, 404):
        _fail(body.get("message", f"the server answered {code}."))
    _health_summary(url, as_json)


def _given_over(ctx: click.Context, preferred: str, other: str) -> bool:
    """True when `preferred` came on the command line and `other` only from the environment."""
    on_line = click.core.ParameterSource.COMMANDLINE
    return (
        ctx.get_parameter_source(preferred) == on_line
        and ctx.get_parameter_source(other) != on_line
    )


def _instance_status(url: str, api_key: str, as_json: bool) -> None:
    code, body = _get(url, "/v1/status", api_key)
    if code != 200:
        _fail(body.get("message", f"the server answered {code}."))
    if as_json:
        click.echo(json.dumps(body, indent=2, sort_keys=True))
        return
    Console().print(status_table(body))


def _health_summary(url: str, as_json: bool) -> None:
    code, body = _get(url, "/v1/health")
    if as_json:
        click.echo(json.dumps(body, indent=2, sort_keys=True))
    else:
        click.echo(
            f"server {body.get('status')} (version {body.get('version')}); pass --admin-token "
            "(or QUOTA_SENTINEL_ADMIN_TOKEN) for the team view, or --api-key (or "
            "QUOTA_SENTINEL_API_KEY) for an instance's status."
        )
    sys.exit(Exit.OK if code == 200 else Exit.ERROR)


@main.command()
@click.option("--url", default=DEFAULT_URL, show_default=True, envvar="QUOTA_SENTINEL_URL")
@click.option(
    "--api-key",
    envvar="QUOTA_SENTINEL_API_KEY",
    required=True,
    help="The instance's API key [QUOTA_SENTINEL_API_KEY].",
)
@click.option(
    "--provider",
    help="Judge only this provider, strictly: RED stops, YELLOW goes small, else proceed.",
)
def guard(url: str, api_key: str, provider: str | None) -> None:
    """Print what the agent should do now, and exit with it: 0 PROCEED, 10 PROCEED_SMALL_ONLY,
    20 STOP, 2 when the sentinel cannot answer. For a hook or CI step before a long agent run.

    Without --provider this is the instance's own recommendation (its framework's rule); with
    it, that provider's status alone decides, claude-style, whatever the framework.
    """
    code, body = _get(url, "/v1/status", api_key)
    if code != 200:
        _fail(_no_answer(url, code, body), Exit.UNREACHABLE)
    if provider:
        recommendation, message = _provider_advice(body, provider)
    else:
        recommendation, message = body.get("recommendation"), body.get("message", "")
    code = _GUARD_EXITS.get(recommendation)
    if code is None:
        _fail(
            f"the sentinel answered an unknown recommendation {recommendation!r}.", Exit.UNREACHABLE
        )
    click.echo(f"{recommendation}: {message}")
    sys.exit(code)


def _no_answer(url: str, code: int, body: Any) -> str:
    message = body.get("message", "") if isinstance(body, dict) else ""
    if code in (401, 403):
        return f"the sentinel refused this API key (HTTP {code}): {message}"
    if code >= 500:
        return f"the sentinel at {url} cannot answer now (HTTP {code}): {message}"
    return f"the sentinel answered HTTP {code}: {message}"


def _provider_advice(body: dict[str, Any], provider: str) -> tuple[str, str]:
    providers = body.get("providers") or {}
    if provider not in providers:
        names = ", ".join(sorted(providers)) or "none"
        _fail(
            f"this instance has no {provider!r} account; its providers are: {names}.",
            Exit.UNREACHABLE,
        )
    try:
        status = Status(providers[provider].get("status"))
    except ValueError:
        _fail(f"the sentinel answered an unknown status for {provider}.", Exit.UNREACHABLE)
    advice = recommend("claude", {provider: status})
    return advice.recommendation.value, advice.message


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
