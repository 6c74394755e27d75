"""`quota-sentinel switch`: the click command (the CLI group adds it with `add_command`)."""

from __future__ import annotations

import os
import sys
import traceback
from pathlib import Path

import click

from quota_sentinel.client import DEFAULT_URL
from quota_sentinel.exits import UserError
from quota_sentinel.switcher.runner import Options, Runner


@click.command("switch")
@click.argument("config", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--sentinel-url",
    default=DEFAULT_URL,
    show_default=True,
    envvar="QUOTA_SENTINEL_URL",
    help="The quota-sentinel server [QUOTA_SENTINEL_URL].",
)
@click.option(
    "--poll-interval",
    type=click.IntRange(min=1),
    default=60,
    show_default=True,
    help="Seconds between two checks (daemon mode).",
)
@click.option(
    "--recovery-hold",
    type=click.IntRange(min=1),
    default=3,
    show_default=True,
    help="Consecutive GREEN polls of the original's provider before switching back.",
)
@click.option("--once", is_flag=True, help="Check once, apply, deregister and exit (for cron).")
@click.option("--restore", is_flag=True, help="Put every original model back and exit (offline).")
@click.option("--dry-run", is_flag=True, help="Print the diff of one check; change nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON summary per check.")
@click.option(
    "--no-autostart",
    is_flag=True,
    help="Never start `quota-sentinel start` when nothing answers at a loopback URL.",
)
@click.option("--debug", is_flag=True, help="Show a traceback on errors.")
def switch(
    config: Path | None,
    sentinel_url: str,
    poll_interval: int,
    recovery_hold: int,
    once: bool,
    restore: bool,
    dry_run: bool,
    as_json: bool,
    no_autostart: bool,
    debug: bool,
) -> None:
    """Move OpenCode's models to healthy fallbacks before a quota runs out, and back after.

    CONFIG defaults to opencode.jsonc or opencode.json in the current directory. Fallbacks come
    from each agent's `fallback_models` or from a quota-sentinel.json(c) beside the config.
    Only model values change; comments and formatting stay. OpenCode picks a change up at its
    next session.
    """
    options = Options(
        config=config,
        sentinel_url=sentinel_url,
        poll_interval_s=poll_interval,
        recovery_hold=recovery_hold,
        once=once,
        restore=restore,
        dry_run=dry_run,
        as_json=as_json,
        autostart=not no_autostart,
        cwd=Path.cwd(),
        env=dict(os.environ),
    )
    try:
        code = Runner(options, click.echo, lambda line: click.echo(line, err=True)).run()
    except UserError as exc:
        if debug:
            traceback.print_exc()
        click.echo(f"quota-sentinel: {exc.message}", err=True)
        sys.exit(exc.exit_code)
    sys.exit(code)
