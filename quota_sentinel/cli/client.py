"""Commands that ask a running server over HTTP: health, status, guard."""

from __future__ import annotations

import json
import sys
from typing import Any

import click
from rich.console import Console

from quota_sentinel.cli.common import DEFAULT_URL, Exit, api_get, fail
from quota_sentinel.engine import Recommendation, Status, recommend
from quota_sentinel.terminal import (
    instances_table,
    status_table,
    team_table,
)

# `guard`'s exit code: the recommendation, or NO_ANSWER when the sentinel cannot tell.
_GUARD_EXITS = {r.value: Exit[r.value] for r in Recommendation}


@click.command()
@click.option("--url", default=DEFAULT_URL, show_default=True, envvar="QUOTA_SENTINEL_URL")
def health(url: str) -> None:
    """Check that the server answers and reaches Redis (exit 0 healthy, 1 not, 2 unreachable)."""
    status, body = api_get(url, "/v1/health")
    age = body.get("last_poll_age_s")
    tick = body.get("last_tick_age_s")
    click.echo(
        f"{body.get('status')}: redis {body.get('redis')}, workers {body.get('workers')}, "
        f"last poll {'never' if age is None else f'{age:.0f} s ago'}, "
        f"scheduler {'not ticking' if tick is None else f'ticked {tick:.0f} s ago'}, "
        f"version {body.get('version')}"
    )
    if body.get("status") == "degraded":
        click.echo("No scheduler tick lately: polls have stopped. Is `quota-sentinel scheduler`")
        click.echo("running (or `quota-sentinel start`), with a worker?")
    sys.exit(Exit.OK if status == 200 and body.get("status") == "ok" else Exit.ERROR)


@click.command()
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
    code, body = api_get(url, "/v1/team", headers=headers)
    if code == 200:
        if as_json:
            click.echo(json.dumps(body, indent=2, sort_keys=True))
            return
        console = Console()
        console.print(team_table(body))
        console.print(instances_table(body))
        return
    if admin_token or code not in (401, 403, 404):
        fail(body.get("message", f"the server answered {code}."))
    _health_summary(url, as_json)


def _given_over(ctx: click.Context, preferred: str, other: str) -> bool:
    """True when `preferred` came on the command line and `other` only from the environment."""
    on_line = click.core.ParameterSource.COMMANDLINE
    return (
        ctx.get_parameter_source(preferred) == on_line
        and ctx.get_parameter_source(other) != on_line
    )


def _instance_status(url: str, api_key: str, as_json: bool) -> None:
    code, body = api_get(url, "/v1/status", api_key)
    if code != 200:
        fail(body.get("message", f"the server answered {code}."))
    if as_json:
        click.echo(json.dumps(body, indent=2, sort_keys=True))
        return
    Console().print(status_table(body))


def _health_summary(url: str, as_json: bool) -> None:
    code, body = api_get(url, "/v1/health")
    if as_json:
        click.echo(json.dumps(body, indent=2, sort_keys=True))
    else:
        click.echo(
            f"server {body.get('status')} (version {body.get('version')}); pass --admin-token "
            "(or QUOTA_SENTINEL_ADMIN_TOKEN) for the team view, or --api-key (or "
            "QUOTA_SENTINEL_API_KEY) for an instance's status."
        )
    sys.exit(Exit.OK if code == 200 else Exit.ERROR)


@click.command()
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
    code, body = api_get(url, "/v1/status", api_key)
    if code != 200:
        fail(_no_answer(url, code, body), Exit.UNREACHABLE)
    if provider:
        recommendation, message = _provider_advice(body, provider)
    else:
        recommendation, message = body.get("recommendation"), body.get("message", "")
    code = _GUARD_EXITS.get(recommendation)
    if code is None:
        fail(
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
        fail(
            f"this instance has no {provider!r} account; its providers are: {names}.",
            Exit.UNREACHABLE,
        )
    try:
        status = Status(providers[provider].get("status"))
    except ValueError:
        fail(f"the sentinel answered an unknown status for {provider}.", Exit.UNREACHABLE)
    advice = recommend("claude", {provider: status})
    return advice.recommendation.value, advice.message
