"""Per-process worker state: settings, services context, provider HTTP clients; built lazily."""

from __future__ import annotations

from quota_sentinel.config import Settings
from quota_sentinel.providers.http import ClientFactory
from quota_sentinel.services.context import Context

_context: Context | None = None
_http: dict[str, ClientFactory] = {}


def context() -> Context:
    """The process's services context, built from the environment on first use; its Redis
    clients wait out an outage (a worker or scheduler pauses, then resumes)."""
    global _context
    if _context is None:
        _context = Context.build(Settings.from_env(), patient=True)
    return _context


def http_for(provider: str) -> ClientFactory:
    """One ClientFactory (pooled sessions) per provider per process."""
    ctx = context()
    if provider not in _http:
        _http[provider] = ClientFactory(provider, ctx.settings)
    return _http[provider]


def install(ctx: Context) -> None:
    """Uses `ctx` instead of one built from the environment (tests, and `start`)."""
    reset()
    global _context
    _context = ctx


def reset() -> None:
    """Forgets everything built so far (tests call it between cases)."""
    global _context
    for factory in _http.values():
        factory.close()
    _http.clear()
    _context = None
