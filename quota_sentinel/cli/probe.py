"""`quota-sentinel probe PROVIDER`: poll one provider from this machine and show what we read.

A user checks their own credential against the real API (or a fake, through
QUOTA_SENTINEL_<PROVIDER>_BASE_URL) without a server: credentials are found the way `switch`
finds them (switcher.credentials), or given with `--key`; the windows are printed as the server
would store them, and `--raw` prints every answer body with each secret-looking value redacted,
so a shape we misread can be reported in one paste (docs/providers.md).
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click

from quota_sentinel.cli.common import Exit, fail, load_settings
from quota_sentinel.providers.base import ProviderError, UsageResult
from quota_sentinel.providers.http import ClientFactory, HttpClient
from quota_sentinel.providers.parsing import utc_text
from quota_sentinel.providers.registry import PROVIDERS, alias_for, fetcher_for
from quota_sentinel.services.credentials import Credential, parse_auth
from quota_sentinel.switcher import apply, credentials, opencode
from quota_sentinel.switcher.errors import SwitcherError

REDACTED = "[redacted]"
OAUTH_PROVIDERS = ("claude", "codex")
# Field names whose text values are credentials or personal data, whatever they look like.
_SECRET_FIELD = re.compile(
    r"token|secret|passw|api[_-]?key|^key$|_key$|auth|cookie|session|credential|signature|"
    r"email|phone",
    re.IGNORECASE,
)
# Text that looks like a credential: known prefixes, a JWT, or a long opaque run.
_SECRET_TEXT = re.compile(
    r"\b(?:sk|rk|pk)-[A-Za-z0-9_\-]{6,}|\bgh[opusr]_[A-Za-z0-9]{6,}|\bgithub_pat_\w+"
    r"|\beyJ[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-.]+|[A-Za-z0-9_\-+/=]{32,}"
    r"|[\w.+-]+@[\w-]+\.[\w.-]+"
)


@click.command("probe")
@click.argument("provider")
@click.option("--key", help="Use this key or token instead of the ones found on this machine.")
@click.option("--raw", is_flag=True, help="Also print each answer body, secrets redacted.")
@click.option(
    "--config",
    type=click.Path(dir_okay=False, path_type=Path),
    help="OpenCode config whose provider.<id>.options.apiKey may hold the key "
    "(default: opencode.jsonc or opencode.json here, if any).",
)
@click.option(
    "-o",
    "--option",
    "pairs",
    multiple=True,
    metavar="NAME=VALUE",
    help="A provider option, as in provider_config (e.g. region=cn, plan=pro).",
)
def probe(
    provider: str, key: str | None, raw: bool, config: Path | None, pairs: tuple[str, ...]
) -> None:
    """Poll PROVIDER once from here and print the windows as quota-sentinel reads them.

    PROVIDER is a provider name (claude, copilot, zai, minimax, deepseek, alibaba, codex, kimi,
    openrouter) or an OpenCode auth.json key (zai-coding-plan, minimax-cn-coding-plan, …).
    Nothing is stored and OAuth tokens are never refreshed. Exit 0 when the answer was read,
    1 when it was not (the sentence says why).
    """
    name = _provider(provider)
    options = _options(pairs)
    cred, source = _credential(name, provider, key, config)
    settings = load_settings()
    factory = ClientFactory(name, settings)
    recorder = Recorder(factory)
    try:
        result = fetcher_for(name)(
            cred.secret, {**cred.options, **options}, recorder, {}, time.time()
        )
    except ProviderError as exc:
        if raw:
            _print_bodies(recorder.bodies, cred.secret)
        fail(f"probe {name}: {exc.message}")
    finally:
        factory.close()
    click.echo(f"{name} ({PROVIDERS[name].label}), credentials from {source}")
    click.echo(describe(result))
    if raw:
        _print_bodies(recorder.bodies, cred.secret)
    sys.exit(Exit.OK)


class Recorder:
    """An `http` factory for a provider's fetch that keeps every decoded answer body."""

    def __init__(self, factory: ClientFactory) -> None:
        self.factory = factory
        self.bodies: list[tuple[str, str, Any]] = []

    def __call__(self, base_key: str) -> _RecordingClient:
        return _RecordingClient(self.factory(base_key), self.bodies)


class _RecordingClient:
    def __init__(self, client: HttpClient, bodies: list[tuple[str, str, Any]]) -> None:
        self._client = client
        self._bodies = bodies

    def get_json(self, path: str, **kwargs: Any) -> Any:
        body = self._client.get_json(path, **kwargs)
        self._bodies.append(("GET", path, body))
        return body

    def post_json(self, path: str, **kwargs: Any) -> Any:
        body = self._client.post_json(path, **kwargs)
        self._bodies.append(("POST", path, body))
        return body


def describe(result: UsageResult) -> str:
    """The windows of a poll, one per line: name, percent used, reset, metadata."""
    lines = [f"plan: {result.plan}"] if result.plan else []
    if not result.windows:
        lines.append("no windows: nothing is metered on this account")
    width = max((len(name) for name in result.windows), default=0)
    for name, window in result.windows.items():
        reset = f"resets {utc_text(window.resets_at)}" if window.resets_at else "no reset"
        extra = ", ".join(f"{k}={v}" for k, v in window.metadata.items())
        line = f"  {name:<{width}}  {window.utilization:6.1f} %  {reset}"
        lines.append(f"{line}  ({extra})" if extra else line)
    return "\n".join(lines)


def redact(value: Any, secrets: list[str], field: str = "") -> Any:
    """`value` with every secret-looking text replaced by "[redacted]".

    Args:
        value: a decoded JSON answer.
        secrets: the credential's own strings, redacted wherever they appear.
        field: the name of the field holding `value` (a secret-sounding name redacts any text).
    """
    if isinstance(value, Mapping):
        return {k: redact(v, secrets, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(item, secrets, field) for item in value]
    if not isinstance(value, str):
        return value
    if value and _SECRET_FIELD.search(field):
        return REDACTED
    for secret in secrets:
        value = value.replace(secret, REDACTED)
    return _SECRET_TEXT.sub(REDACTED, value)


def _print_bodies(bodies: list[tuple[str, str, Any]], secret: Mapping[str, Any]) -> None:
    secrets = [v for v in secret.values() if isinstance(v, str) and len(v) >= 6]
    if not bodies:
        click.echo("(no answer body was received)")
    for method, path, body in bodies:
        click.echo(f"--- {method} {path}")
        click.echo(json.dumps(redact(body, secrets), indent=2, ensure_ascii=False))


def _provider(given: str) -> str:
    if given.strip().lower() in PROVIDERS:
        return given.strip().lower()
    alias = alias_for(given)
    if alias is None:
        fail(
            f"{given!r} is not a provider quota-sentinel reads; use one of "
            f"{', '.join(sorted(PROVIDERS))} or an OpenCode auth.json key such as zai-coding-plan."
        )
    return alias.provider


def _options(pairs: tuple[str, ...]) -> dict[str, str]:
    options: dict[str, str] = {}
    for pair in pairs:
        name, equals, value = pair.partition("=")
        if not equals or not name.strip():
            raise click.BadParameter(f"{pair!r} is not NAME=VALUE.", param_hint="--option")
        options[name.strip()] = value.strip()
    if "refresh" in options:
        fail("probe never refreshes OAuth tokens (the refresh token rotates); drop -o refresh.")
    return options


def _credential(
    name: str, given: str, key: str | None, config: Path | None
) -> tuple[Credential, str]:
    if key is not None:
        auth, source = _auth_for_key(name, given, key), "--key"
    else:
        found = _found(name, given, config)
        auth, source = found.auth, "; ".join(found.sources)
    credential = next((c for c in parse_auth(auth).credentials if c.provider == name), None)
    if credential is None:
        fail(
            f"no {name} credentials found on this machine (OpenCode's auth.json, the config's "
            "provider apiKey, Claude Code's .credentials.json, GH_TOKEN / gh auth token); pass "
            "one with --key.",
            Exit.ERROR,
        )
    return credential, source


def _auth_for_key(name: str, given: str, key: str) -> dict[str, Any]:
    if name == "copilot":
        return {"github_token": key}
    if name == "claude":
        return {"claude_credentials": {"accessToken": key}}
    entry_name = given if alias_for(given) is not None else name
    entry = {"type": "oauth", "access": key} if name in OAUTH_PROVIDERS else {"key": key}
    return {"opencode_auth": {entry_name: entry}}


def _found(name: str, given: str, config: Path | None) -> credentials.Found:
    env = dict(os.environ)
    cwd = Path.cwd()
    try:
        path = opencode.find_config(config, cwd)
        document = apply.read_document(path, path.read_bytes()).value
        config_dir = path.parent
    except SwitcherError as exc:
        if config is not None:
            fail(exc.message)
        document, config_dir = {}, cwd
    return credentials.gather({name}, [given.strip().lower()], document, config_dir, env)
