"""The `quota-sentinel` command: one click group, its commands in the modules beside this one."""

from __future__ import annotations

import click

from quota_sentinel import __version__
from quota_sentinel.cli import agents
from quota_sentinel.cli.alerts import alerts
from quota_sentinel.cli.backtest import export_samples, replay
from quota_sentinel.cli.client import guard, health, status
from quota_sentinel.cli.probe import probe
from quota_sentinel.cli.server import scheduler, start, web, worker
from quota_sentinel.switcher.command import switch

__all__ = ["main"]


@click.group()
@click.version_option(__version__, prog_name="quota-sentinel")
def main() -> None:
    """Watch AI subscription quotas and tell coding agents to go on, go small or stop."""


for command in (
    start,
    web,
    worker,
    scheduler,
    health,
    status,
    guard,
    switch,
    replay,
    export_samples,
    alerts,
):
    main.add_command(command)
main.add_command(probe)
agents.register(main)
