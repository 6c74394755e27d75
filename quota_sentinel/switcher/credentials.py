"""Credentials found on this machine, shaped as the registration's `auth` (docs/architecture.md §9).

Sources, for the providers the config's models use: OpenCode's `auth.json`
(`$XDG_DATA_HOME/opencode/auth.json`, default `~/.local/share/opencode/auth.json`), API keys in
the config's `provider.<id>.options.apiKey` (`{env:VAR}` and `{file:path}` resolved as OpenCode
resolves them; they win over auth.json for the same provider), Claude Code's
`.credentials.json` (`$CLAUDE_CONFIG_DIR` or `~/.claude`), and the GitHub token (`GH_TOKEN`,
`GITHUB_TOKEN`, then `gh auth token`). Only what a needed provider uses is sent; nothing here is
ever printed.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from quota_sentinel.providers.registry import alias_for
from quota_sentinel.switcher.opencode import provider_keys
from quota_sentinel.switcher.plan import provider_of

GH_TIMEOUT_S = 5.0
_TEMPLATE = re.compile(r"\{(env|file):([^}]*)\}")


@dataclass(frozen=True)
class Found:
    """The `auth` object to send, where each part came from, and what was skipped."""

    auth: dict[str, Any] = field(default_factory=dict)
    sources: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def providers(self) -> frozenset[str]:
        """The monitored providers these credentials cover."""
        names = {_provider(k) for k in self.auth.get("opencode_auth", {})}
        if "claude_credentials" in self.auth:
            names.add("claude")
        if "github_token" in self.auth:
            names.add("copilot")
        return frozenset(n for n in names if n)


def _provider(key: str) -> str | None:
    alias = alias_for(key)
    return alias.provider if alias else None


def _home(env: Mapping[str, str]) -> Path:
    return Path(env["HOME"]) if env.get("HOME") else Path.home()


def opencode_auth_file(env: Mapping[str, str]) -> Path:
    """OpenCode's auth.json under XDG_DATA_HOME (default ~/.local/share)."""
    base = env.get("XDG_DATA_HOME") or str(_home(env) / ".local" / "share")
    return Path(base) / "opencode" / "auth.json"


def claude_credentials_file(env: Mapping[str, str]) -> Path:
    """Claude Code's .credentials.json in CLAUDE_CONFIG_DIR (default ~/.claude)."""
    base = env.get("CLAUDE_CONFIG_DIR") or str(_home(env) / ".claude")
    return Path(base).expanduser() / ".credentials.json"


def _read_json(path: Path, warnings: list[str]) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        warnings.append(f"{path} could not be read as JSON; skipped.")
        return None


def resolve(value: str, config_dir: Path, env: Mapping[str, str]) -> str:
    """Substitutes OpenCode's `{env:VAR}` (empty when unset) and `{file:path}` (the file's text,
    trimmed; relative to the config's directory, `~/` to the home directory).

    Raises:
        OSError: a `{file:…}` cannot be read.
    """

    def substitute(match: re.Match[str]) -> str:
        kind, name = match.group(1), match.group(2).strip()
        if kind == "env":
            return env.get(name, "")
        path = _home(env) / name[2:] if name.startswith("~/") else Path(name)
        return (path if path.is_absolute() else config_dir / path).read_text().strip()

    return _TEMPLATE.sub(substitute, value).strip()


def github_token(env: Mapping[str, str]) -> tuple[str | None, str]:
    """The GitHub token and where it came from: GH_TOKEN, GITHUB_TOKEN, then `gh auth token`."""
    for name in ("GH_TOKEN", "GITHUB_TOKEN"):
        if env.get(name, "").strip():
            return env[name].strip(), name
    gh = shutil.which("gh", path=env.get("PATH"))
    if gh is None:
        return None, ""
    try:
        done = subprocess.run(
            [gh, "auth", "token"],
            capture_output=True,
            text=True,
            timeout=GH_TIMEOUT_S,
            env=dict(env),
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None, ""
    token = done.stdout.strip()
    return (token, "gh auth token") if done.returncode == 0 and token else (None, "")


def _from_config(
    config: Any, needed: set[str], config_dir: Path, env: Mapping[str, str], warnings: list[str]
) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for pid, settings in provider_keys(config).items():
        if _provider(pid) not in needed or not isinstance(settings, dict):
            continue
        options = settings.get("options")
        api_key = options.get("apiKey") if isinstance(options, dict) else None
        if not isinstance(api_key, str):
            continue
        try:
            key = resolve(api_key, config_dir, env)
        except OSError as exc:
            problem = f"{exc.filename}: {exc.strerror}" if exc.filename else str(exc)
            warnings.append(f"provider.{pid}.options.apiKey: {problem}; skipped.")
            continue
        if not key:
            warnings.append(f"provider.{pid}.options.apiKey is empty (variable unset?); skipped.")
            continue
        found[pid] = {"type": "api", "key": key}
    return found


def _from_auth_json(
    path: Path, needed: set[str], prefixes: list[str], warnings: list[str]
) -> dict[str, tuple[str, Any]]:
    stored = _read_json(path, warnings)
    chosen: dict[str, tuple[str, Any]] = {}
    # The entry named like the model prefix is the one OpenCode itself uses for those models.
    for key, entry in sorted(
        (stored if isinstance(stored, dict) else {}).items(),
        key=lambda item: item[0].lower() not in prefixes,
    ):
        provider = _provider(key)
        if provider in needed and provider not in chosen:
            chosen[provider] = (key, entry)
    return chosen


def claude_code(env: Mapping[str, str], warnings: list[str]) -> dict[str, Any] | None:
    """Claude Code's own OAuth tokens ({accessToken, refreshToken, expiresAt}), or None."""
    data = _read_json(claude_credentials_file(env), warnings)
    oauth = data.get("claudeAiOauth") if isinstance(data, dict) else None
    if not isinstance(oauth, dict):
        return None
    return {k: oauth[k] for k in ("accessToken", "refreshToken", "expiresAt") if k in oauth}


def collect(models: Iterable[str], config: Any, config_dir: Path, env: Mapping[str, str]) -> Found:
    """The credentials for the providers of `models`, from every local source.

    Args:
        models: every model id the config uses (originals and fallbacks).
        config: the parsed config (its `provider` section may hold API keys).
        config_dir: the config's directory (for relative `{file:…}` paths).
        env: the environment (HOME, XDG_DATA_HOME, CLAUDE_CONFIG_DIR, GH_TOKEN, PATH, …).
    """
    models = list(models)
    needed = {p for p in map(provider_of, models) if p}
    prefixes = [m.partition("/")[0].lower() for m in models]
    return gather(needed, prefixes, config, config_dir, env)


def gather(
    needed: set[str], prefixes: list[str], config: Any, config_dir: Path, env: Mapping[str, str]
) -> Found:
    """The credentials of the `needed` providers, from every local source (as `collect`).

    Args:
        needed: monitored provider names (e.g. {"zai"}).
        prefixes: auth.json keys to prefer, lower-case (the model prefixes OpenCode uses).
        config: the parsed OpenCode config, or {}.
        config_dir: the config's directory (for relative `{file:…}` paths).
        env: the environment.
    """
    warnings: list[str] = []
    auth_json = opencode_auth_file(env)
    chosen = _from_auth_json(auth_json, needed, prefixes, warnings)
    origin = {provider: f"{auth_json} ({key})" for provider, (key, _) in chosen.items()}
    for key, entry in _from_config(config, needed, config_dir, env, warnings).items():
        chosen[_provider(key) or key] = (key, entry)
        origin[_provider(key) or key] = f"the config's provider.{key}"
    sources = list(origin.values())
    auth: dict[str, Any] = {}
    if chosen:
        auth["opencode_auth"] = {key: entry for key, entry in chosen.values()}
    if "claude" in needed and "claude" not in chosen:
        claude = claude_code(env, warnings)
        if claude:
            auth["claude_credentials"] = claude
            sources.append(str(claude_credentials_file(env)))
    if "copilot" in needed and "copilot" not in chosen:
        token, source = github_token(env)
        if token:
            auth["github_token"] = token
            sources.append(source)
    found = Found(auth, tuple(sources))
    warnings += [
        f"{p}: no credentials found on this machine, so it is not monitored (counts as GREEN)."
        for p in sorted(needed - found.providers)
    ]
    return Found(auth, tuple(sources), tuple(warnings))
