"""`install` / `uninstall` (Claude Code hooks, the OpenCode plugin and skill); `hook` (what those
hooks run) lives in `agents.hook`, light enough to start fast."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from quota_sentinel.agents import claude_settings, opencode_files
from quota_sentinel.agents.hook import hook
from quota_sentinel.client import DEFAULT_URL
from quota_sentinel.exits import UserError

_where = [
    click.option(
        "--project",
        type=click.Path(file_okay=False, path_type=Path),
        help="The project folder (default: the current directory).",
    ),
    click.option("--user", is_flag=True, help="The user's own settings, for every project."),
]
_hook_options = [
    click.option(
        "--sentinel-url",
        help="Write this server URL into the hooks (default: QUOTA_SENTINEL_URL when they run, "
        f"else {DEFAULT_URL}).",
    ),
    click.option(
        "--no-autostart",
        is_flag=True,
        help="The hooks never start a local server when nothing answers.",
    ),
]


def _options(func, options):
    for option in reversed(options):
        func = option(func)
    return func


def where(func):
    """--project DIR | --user."""
    return _options(func, _where)


def where_and_how(func):
    """--project DIR | --user, plus what the installed hooks are told (--sentinel-url, …)."""
    return _options(func, _where + _hook_options)


def _target(project: Path | None, user: bool) -> Path | None:
    """The project folder (absolute), or None for the user's settings."""
    if project is not None and user:
        raise click.UsageError("give --project DIR or --user, not both.")
    return None if user else (project or Path.cwd()).absolute()


def _extra(sentinel_url: str | None, no_autostart: bool) -> list[str]:
    return [*(["--sentinel-url", sentinel_url] if sentinel_url else [])] + (
        ["--no-autostart"] if no_autostart else []
    )


def _run(action) -> None:
    try:
        action()
    except UserError as exc:
        click.echo(f"quota-sentinel: {exc.message}", err=True)
        sys.exit(exc.exit_code)


@click.group()
def install() -> None:
    """Let a coding agent consult the sentinel by itself (Claude Code hooks, OpenCode plugin)."""


@click.group()
def uninstall() -> None:
    """Remove exactly what `quota-sentinel install` added."""


@install.command("claude-code")
@where_and_how
def install_claude_code(
    project: Path | None, user: bool, sentinel_url: str | None, no_autostart: bool
) -> None:
    """Add SessionStart, UserPromptSubmit and PreToolUse (subagent) hooks to Claude Code."""
    path = claude_settings.settings_path(_target(project, user), os.environ)

    def act() -> None:
        changed = claude_settings.install(path, _extra(sentinel_url, no_autostart))
        events = ", ".join(h.event for h in claude_settings.HOOKS)
        verb = "Added" if changed else "Already there:"
        click.echo(f"{verb} quota-sentinel hooks ({events}) in {path}.")

    _run(act)


@uninstall.command("claude-code")
@where
def uninstall_claude_code(project: Path | None, user: bool) -> None:
    """Take quota-sentinel's hooks out of Claude Code's settings; nothing else changes."""
    path = claude_settings.settings_path(_target(project, user), os.environ)

    def act() -> None:
        removed = claude_settings.uninstall(path)
        click.echo(
            f"Removed {removed} quota-sentinel hooks from {path}."
            if removed
            else f"No quota-sentinel hooks in {path}; nothing changed."
        )

    _run(act)


@install.command("opencode")
@where_and_how
def install_opencode(
    project: Path | None, user: bool, sentinel_url: str | None, no_autostart: bool
) -> None:
    """Add the quota-sentinel plugin and skill to OpenCode (your models stay as they are)."""
    target = _target(project, user)

    def act() -> None:
        for path in opencode_files.install(target, os.environ, _extra(sentinel_url, no_autostart)):
            click.echo(f"Wrote {path}.")

    _run(act)


@uninstall.command("opencode")
@where
def uninstall_opencode(project: Path | None, user: bool) -> None:
    """Remove the quota-sentinel plugin and skill from OpenCode."""
    target = _target(project, user)

    def act() -> None:
        removed = opencode_files.uninstall(target, os.environ)
        for path in removed:
            click.echo(f"Removed {path}.")
        if not removed:
            click.echo("No quota-sentinel plugin or skill there; nothing changed.")

    _run(act)


def register(group: click.Group) -> None:
    """Adds install, uninstall and hook to the CLI group."""
    for command in (install, uninstall, hook):
        group.add_command(command)
