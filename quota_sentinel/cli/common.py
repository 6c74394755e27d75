"""What the commands share: settings with a clean failure, one-sentence failures, GET against
the API through the shared client."""

from __future__ import annotations

import sys
from typing import Any, NoReturn

import click

from quota_sentinel.client import DEFAULT_URL, Client, Unreachable
from quota_sentinel.config import Settings
from quota_sentinel.errors import ConfigError
from quota_sentinel.exits import Exit

__all__ = ["DEFAULT_URL", "Exit", "api_get", "fail", "load_settings"]

# A CLI call reads one small answer: fail within seconds rather than hang a terminal or a hook.
CLI_TIMEOUT_S = (3.05, 5.0)


def load_settings(**overrides: Any) -> Settings:
    try:
        return Settings.from_env(**{k: v for k, v in overrides.items() if v is not None})
    except ConfigError as exc:
        fail(exc.message)


def fail(message: str, code: Exit = Exit.ERROR) -> NoReturn:
    click.echo(f"quota-sentinel: {message}", err=True)
    sys.exit(code)


def api_get(
    url: str, path: str, api_key: str | None = None, headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    """(HTTP status, JSON body) of GET `path`; exits UNREACHABLE with a sentence when nothing
    (or not quota-sentinel) answers."""
    try:
        with Client(url, CLI_TIMEOUT_S) as client:
            return client.request("GET", path, api_key, headers=headers)
    except Unreachable as exc:
        fail(f"{exc.message} Is `quota-sentinel start` running?", exc.exit_code)
