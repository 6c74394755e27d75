"""Turns a registration's `auth` object (the original's four formats) into provider credentials."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from quota_sentinel import errors
from quota_sentinel.providers.registry import AUTH_ALIASES, alias_for

# Entry fields that are settings, not secrets: they go to the account's options in clear.
OPTION_FIELDS = ("group_id", "region", "enterpriseUrl", "plan", "github_username", "currency")


@dataclass(frozen=True)
class Credential:
    """One provider credential found in `auth`.

    Args:
        provider: the monitored provider name.
        secret: what is stored encrypted (shape per provider).
        identity: the stable part the fingerprint is computed from.
        options: non-secret options implied by the entry (region, group id, …).
        source: where it came from, for messages (never the secret itself).
    """

    provider: str
    secret: dict[str, Any]
    identity: str
    options: dict[str, Any] = field(default_factory=dict)
    source: str = ""


@dataclass
class ParsedAuth:
    credentials: list[Credential] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def add(self, cred: Credential) -> None:
        if any(c.provider == cred.provider for c in self.credentials):
            self.warnings.append(
                f"{cred.source}: a {cred.provider} credential was already given; "
                "one account per provider per instance, so this one was skipped."
            )
            return
        self.credentials.append(cred)


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _oauth(access: Any, refresh: Any, expires: Any) -> dict[str, Any] | None:
    access, refresh = _text(access), _text(refresh)
    if not access and not refresh:
        return None
    secret: dict[str, Any] = {"access_token": access, "refresh_token": refresh}
    if isinstance(expires, int | float) and not isinstance(expires, bool):
        secret["expires_at_ms"] = int(expires)
    return secret


def _github_token(entry: Mapping[str, Any]) -> str | None:
    # Older opencode Copilot auth kept the GitHub token in `refresh` and a short-lived Copilot
    # token in `access`; usage endpoints need the GitHub one (gho_/ghu_ prefix).
    candidates = [_text(entry.get("access")), _text(entry.get("refresh")), _text(entry.get("key"))]
    for token in candidates:
        if token and token.startswith(("gho_", "ghu_", "ghp_", "github_pat_")):
            return token
    return next((t for t in candidates if t), None)


def _from_opencode_entry(name: str, provider: str, entry: Any) -> Credential | None:
    source = f"opencode_auth.{name}"
    if isinstance(entry, str):
        entry = {"key": entry}
    if not isinstance(entry, Mapping):
        return None
    options = {k: entry[k] for k in OPTION_FIELDS if isinstance(entry.get(k), str | int | float)}
    if provider == "copilot":
        token = _github_token(entry)
        return Credential(provider, {"token": token}, token, options, source) if token else None
    if entry.get("type") == "oauth" or "access" in entry or "refresh" in entry:
        secret = _oauth(entry.get("access"), entry.get("refresh"), entry.get("expires"))
        if secret is None:
            return None
        if _text(entry.get("accountId")):
            secret["account_id"] = entry["accountId"].strip()
        identity = secret["refresh_token"] or secret["access_token"]
        return Credential(provider, secret, identity, options, source)
    key = _text(entry.get("key"))
    return Credential(provider, {"key": key}, key, options, source) if key else None


def _claude(creds: Any) -> Credential | None:
    if isinstance(creds, Mapping) and isinstance(creds.get("claudeAiOauth"), Mapping):
        creds = creds["claudeAiOauth"]  # the whole ~/.claude/.credentials.json was sent
    if not isinstance(creds, Mapping):
        return None
    secret = _oauth(creds.get("accessToken"), creds.get("refreshToken"), creds.get("expiresAt"))
    if secret is None:
        return None
    identity = secret["refresh_token"] or secret["access_token"]
    return Credential("claude", secret, identity, {}, "claude_credentials")


def parse_auth(auth: Mapping[str, Any] | None) -> ParsedAuth:
    """Every credential in `auth`, plus a warning for each entry that was skipped and why."""
    parsed = ParsedAuth()
    if not auth:
        return parsed
    for name, entry in (auth.get("opencode_auth") or {}).items():
        alias = alias_for(name)
        if alias is None:
            parsed.warnings.append(
                f"opencode_auth.{name}: not a provider quota-sentinel monitors; skipped."
            )
            continue
        cred = _from_opencode_entry(name, alias.provider, entry)
        if cred is None:
            parsed.warnings.append(f"opencode_auth.{name}: no key or token found; skipped.")
            continue
        parsed.add(
            Credential(
                cred.provider,
                cred.secret,
                cred.identity,
                {**alias.options, **cred.options},
                cred.source,
            )
        )
    if auth.get("claude_credentials") is not None:
        cred = _claude(auth["claude_credentials"])
        if cred is None:
            parsed.warnings.append("claude_credentials: no accessToken or refreshToken; skipped.")
        else:
            parsed.add(cred)
    token = _text(auth.get("github_token"))
    if token:
        parsed.add(Credential("copilot", {"token": token}, token, {}, "github_token"))
    elif auth.get("github_token") is not None:
        parsed.warnings.append("github_token: empty; skipped.")
    return parsed


def given_entries(auth: Mapping[str, Any] | None) -> int:
    """How many credential entries `auth` holds (usable or not)."""
    if not auth:
        return 0
    opencode = auth.get("opencode_auth") or {}
    others = [auth.get(key) for key in ("claude_credentials", "github_token")]
    return len(opencode) + sum(value is not None for value in others)


def nothing_to_monitor(warnings: list[str]) -> errors.ValidationFailed:
    """The 422 for a registration whose every credential entry was skipped (a typo, usually):
    it names each skipped entry and the keys that are accepted."""
    accepted = sorted(AUTH_ALIASES)
    return errors.ValidationFailed(
        "Nothing to monitor: every credential entry was skipped ("
        + " ".join(warnings)
        + ") Accepted opencode_auth keys: "
        + ", ".join(accepted)
        + "; or send claude_credentials or github_token.",
        {
            "skipped": list(warnings),
            "accepted_opencode_auth_keys": accepted,
            "accepted_auth_fields": ["opencode_auth", "claude_credentials", "github_token"],
        },
    )
