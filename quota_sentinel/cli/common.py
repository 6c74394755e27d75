"""What the commands share: exit codes, settings with a clean failure, GET against the API."""

from __future__ import annotations

import enum
import sys
from typing import Any

import click
import requests

from quota_sentinel.config import Settings
from quota_sentinel.errors import ConfigError

DEFAULT_URL = "http://127.0.0.1:7878"


class Exit(enum.IntEnum):
    OK = 0
    ERROR = 1
    UNREACHABLE = 2


def load_settings(**overrides: Any) -> Settings:
    try:
        return Settings.from_env(**{k: v for k, v in overrides.items() if v is not None})
    except ConfigError as exc:
        fail(exc.message)


def fail(message: str, code: Exit = Exit.ERROR) -> None:
    click.echo(f"quota-sentinel: {message}", err=True)
    sys.exit(code)


def api_get(
    url: str, path: str, api_key: str | None = None, headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    headers = {**(headers or {}), **({"X-API-Key": api_key} if api_key else {})}
    try:
        response = requests.get(url.rstrip("/") + path, headers=headers, timeout=5)
    except requests.RequestException:
        fail(f"nothing answers at {url}; is `quota-sentinel start` running?", Exit.UNREACHABLE)
    try:
        return response.status_code, response.json()
    except ValueError:
        fail(f"{url} answered with something that is not quota-sentinel's JSON.", Exit.UNREACHABLE)
