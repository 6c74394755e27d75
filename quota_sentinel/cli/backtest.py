"""Backtests: replay a recorded trace, export a server's samples as one."""

from __future__ import annotations

import json

import click
from rich.console import Console

from quota_sentinel.cli.common import DEFAULT_URL, api_get, fail
from quota_sentinel.terminal import (
    replay_table,
    summary_table,
)


@click.command()
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
        fail("give either --cap or --hard-caps, not both.")
    caps = _hard_caps(hard_caps) if hard_caps else None
    options = ReplayOptions(safety_margin, horizon, framework, cap, caps)
    try:
        rows, summaries = run(parse_trace(trace), options)
    except TraceError as exc:
        fail(f"{trace.name}: {exc}")
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
        fail('--hard-caps must be a JSON object such as {"zai_default": 70}.')
    valid = isinstance(caps, dict) and all(
        isinstance(v, int | float) and not isinstance(v, bool) and 0 < v <= 100
        for v in caps.values()
    )
    if not valid:
        fail("--hard-caps must map cap keys to percentages between 0 and 100.")
    return {str(k): float(v) for k, v in caps.items()}


@click.command("export-samples")
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
        fail("pass --api-key or --admin-token.")
    headers = {"X-API-Key": api_key} if api_key else {"Authorization": f"Bearer {admin_token}"}
    code, body = api_get(url, f"/v1/samples?since={since}", headers=headers)
    if code != 200:
        fail(body.get("message", f"the server answered {code}."))
    for sample in body["samples"]:
        click.echo(json.dumps(sample, sort_keys=True))
