"""Per-process worker state: settings, services context, provider HTTP clients; built lazily."""

from __future__ import annotations

import threading

from quota_sentinel.config import Settings
from quota_sentinel.providers.http import ClientFactory
from quota_sentinel.services.context import Context

_context: Context | None = None
# Per thread and provider: the worker's threads poll at once and keep their own sessions.
_http: dict[tuple[int, str], ClientFactory] = {}
_lock = threading.Lock()


def context() -> Context:
    """The process's services context, built from the environment on first use; its Redis
    clients wait out an outage (a worker or scheduler pauses, then resumes)."""
    global _context
    if _context is None:
        _context = Context.build(Settings.from_env(), patient=True)
    return _context


def http_for(provider: str) -> ClientFactory:
    """One ClientFactory (pooled sessions) per provider per thread of the process."""
    ctx = context()
    key = (threading.get_ident(), provider)
    with _lock:
        if key not in _http:
            _http[key] = ClientFactory(provider, ctx.settings)
        return _http[key]


def install(ctx: Context) -> None:
    """Uses `ctx` instead of one built from the environment (tests, and `start`)."""
    reset()
    global _context
    _context = ctx


def reset() -> None:
    """Forgets everything built so far (tests call it between cases)."""
    global _context
    with _lock:
        for factory in _http.values():
            factory.close()
        _http.clear()
    _context = None
