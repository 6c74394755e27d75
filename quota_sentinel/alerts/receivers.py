"""Webhook receivers: each QUOTA_SENTINEL_WEBHOOKS entry parsed into a format, a URL, filters.

An entry is an http(s) URL, optionally prefixed `slack+`, `discord+` or `ntfy+` for that
service's format (any other URL gets the generic signed JSON). Filters ride in the URL's
fragment, which HTTP clients never send: `#min=warning&providers=zai+claude`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit, urlunsplit

KINDS = ("slack", "discord", "ntfy")
GENERIC = "generic"
# Alert severities, least to most urgent; a receiver's `min` drops everything below it.
SEVERITIES = ("info", "warning", "critical")


@dataclass(frozen=True)
class Receiver:
    """One webhook. The URL is kept out of repr and logs: Slack and Discord put a secret in it.

    Args:
        kind: "generic", "slack", "discord" or "ntfy".
        url: where alerts are POSTed (no fragment).
        min_severity: the least severity delivered ("info" delivers everything).
        providers: only alerts of these providers are delivered; empty: every provider.
    """

    kind: str
    url: str = field(repr=False)
    min_severity: str = "info"
    providers: frozenset[str] = frozenset()

    @property
    def id(self) -> str:
        """A stable id that does not reveal the URL (Redis keys, job ids, health)."""
        return hashlib.sha256(f"{self.kind}+{self.url}".encode()).hexdigest()[:12]

    @property
    def label(self) -> str:
        """Format and host only, e.g. `slack hooks.slack.com`: safe to show and log."""
        return f"{self.kind} {urlsplit(self.url).hostname}"

    def wants(self, severity: str, provider: str) -> bool:
        """True when an alert of this severity about this provider passes the filters."""
        if SEVERITIES.index(severity) < SEVERITIES.index(self.min_severity):
            return False
        return not self.providers or provider in self.providers


def parse_receiver(entry: str) -> Receiver:
    """Parses one QUOTA_SENTINEL_WEBHOOKS entry.

    Raises:
        ValueError: with a sentence that never repeats the URL (it may hold a secret).
    """
    kind, url = GENERIC, entry.strip()
    prefix, plus, rest = url.partition("+")
    if plus and prefix.lower() in KINDS:
        kind, url = prefix.lower(), rest
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(
            "must be an http:// or https:// URL, optionally prefixed slack+, discord+ or ntfy+"
        )
    min_severity, providers = "info", frozenset()
    for key, value in parse_qsl(parts.fragment, keep_blank_values=True):
        if key == "min" and value in SEVERITIES:
            min_severity = value
        elif key == "providers" and value:
            providers = frozenset(p.strip() for p in value.replace(" ", "+").split("+") if p)
        else:
            raise ValueError(
                "has an unknown filter in its #fragment; use min=info|warning|critical and "
                "providers=name+name"
            )
    plain = urlunsplit((parts.scheme, parts.netloc, parts.path, parts.query, ""))
    return Receiver(kind, plain, min_severity, providers)


def parse_receivers(text: str) -> tuple[Receiver, ...]:
    """Parses the comma-separated list; ValueError names the entry by position (1-based)."""
    found = []
    for number, entry in enumerate((e for e in text.split(",") if e.strip()), start=1):
        try:
            found.append(parse_receiver(entry))
        except ValueError as exc:
            raise ValueError(f"entry {number} {exc}") from None
    return tuple(found)
