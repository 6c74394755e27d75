"""`quota-sentinel hook claude-code EVENT`: what the installed Claude Code hooks run.

Installed as `python -m quota_sentinel.agents claude-code EVENT` (the same command without the
rest of the CLI to import), because Claude Code waits for it before every prompt.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import click

from quota_sentinel.agents import claude_hook
from quota_sentinel.agents.link import Link
from quota_sentinel.client import DEFAULT_URL

# Seconds a hook may spend talking to the sentinel before it answers from the cache.
HOOK_BUDGET_S = 0.5


@click.group()
def hook() -> None:
    """Run by the agents' hooks that `quota-sentinel install` wrote; not for people."""


@hook.command("claude-code")
@click.argument("event", type=click.Choice(claude_hook.EVENTS))
@click.option("--sentinel-url", default=DEFAULT_URL, envvar="QUOTA_SENTINEL_URL")
@click.option("--no-autostart", is_flag=True)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.05),
    default=HOOK_BUDGET_S,
    envvar="QUOTA_SENTINEL_HOOK_TIMEOUT",
    help="Seconds to wait for the sentinel before answering from the cache.",
)
def claude_code(event: str, sentinel_url: str, no_autostart: bool, timeout: float) -> None:
    """Answer one Claude Code hook event (JSON on stdin) in Claude Code's hook protocol."""
    try:
        payload = json.loads(sys.stdin.read() or "{}")
        payload = payload if isinstance(payload, dict) else {}
        where = os.environ.get("CLAUDE_PROJECT_DIR") or payload.get("cwd") or os.getcwd()
        link = Link(Path(where), "claude", sentinel_url, os.environ, timeout, not no_autostart)
        answer = link.answer(poll=event == "session-start")
        now = time.time()
        if event == "session-start":
            reply = claude_hook.session_start(answer, now)
        elif event == "user-prompt-submit":
            reply = claude_hook.user_prompt_submit(answer, now)
        else:
            reply = claude_hook.pre_tool_use(answer, str(payload.get("tool_name", "")), now)
    except Exception as exc:  # noqa: BLE001 - a hook must fail open, never block by accident
        reply = claude_hook.failed_open(event, str(exc) or type(exc).__name__)
    if reply.stdout:
        click.echo(reply.stdout)
    if reply.stderr:
        click.echo(reply.stderr, err=True)
    sys.exit(reply.code)
