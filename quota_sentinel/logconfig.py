"""Logging for every process: one line per event on stdout, a context tag, secrets redacted."""

from __future__ import annotations

import contextvars
import logging
import re
import sys

from quota_sentinel.config import Settings

# The request id (web) or job id (worker) of the work in progress, stamped on every line.
log_context: contextvars.ContextVar[str] = contextvars.ContextVar("log_context", default="-")

# Anything shaped like a credential is masked, whatever logged it (our code, a library, a
# traceback): our API keys, provider keys, GitHub and OAuth tokens, bearer headers.
_SECRET_PATTERNS = [
    re.compile(r"qs_[A-Za-z0-9_\-]{16,}"),
    re.compile(r"sk-[A-Za-z0-9_\-]{8,}"),
    re.compile(r"\b(?:gh[opsu]_|github_pat_)[A-Za-z0-9_]{10,}"),
    re.compile(r"(?i)(bearer|token|authorization|api[-_]?key)([\"']?\s*[:=]?\s*)[^\s,;\"']{8,}"),
]
_HANDLER_MARK = "_quota_sentinel_handler"


def redact(text: str) -> str:
    """`text` with every credential-shaped substring replaced by `***`."""
    for pattern in _SECRET_PATTERNS:
        if pattern.groups:
            text = pattern.sub(lambda m: f"{m.group(1)}{m.group(2)}***", text)
        else:
            text = pattern.sub("***", text)
    return text


class _ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.context = log_context.get()
        return True


class RedactingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def configure_logging(settings: Settings, role: str) -> None:
    """Sets up the root logger once per process (idempotent: the app factory runs per test)."""
    root = logging.getLogger()
    if any(getattr(h, _HANDLER_MARK, False) for h in root.handlers):
        root.setLevel(settings.log_level)
        return
    handler = logging.StreamHandler(sys.stdout)
    setattr(handler, _HANDLER_MARK, True)
    handler.addFilter(_ContextFilter())
    handler.setFormatter(
        RedactingFormatter(f"%(asctime)s %(levelname)s {role} [%(context)s] %(name)s: %(message)s")
    )
    root.addHandler(handler)
    root.setLevel(settings.log_level)
    # rq logs every job start/finish at INFO: with a 5 s scheduler tick that drowns our lines.
    for noisy in ("urllib3", "werkzeug", "rq.worker", "rq.cron", "rq.queue"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
