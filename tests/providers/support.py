"""What the provider tests share: the failure-mode table, ProviderCase and the failure-mode check.

Each `test_<provider>.py` describes its provider once, as a module-level `CASE = ProviderCase(…)`
with its planted credentials and its extra failure modes. `conftest.py` builds the `fake`, `poll`
and `poll_of` fixtures of that module from it, and `test_every_provider.py` runs every case
through every failure mode of its fake with `check_failure_mode`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest

from quota_sentinel.config import Settings
from quota_sentinel.providers.base import (
    AuthFailed,
    BadPayload,
    Fetcher,
    ProviderError,
    RateLimitedUpstream,
    UpstreamUnavailable,
    UsageResult,
)
from quota_sentinel.providers.http import ClientFactory
from tests.upstreams.provider_fake import FAILURE_MODES, ProviderFake

# 2026-05-14 14:46:40 UTC: the "now" every provider test polls at.
NOW = 1_778_770_000.0

# The error each generic failure mode of tests/upstreams/provider_fake.py must become.
FAILURE_ERRORS: dict[str, type[ProviderError]] = {
    "401": AuthFailed,
    "403": AuthFailed,
    "429": RateLimitedUpstream,
    "429_no_retry_after": RateLimitedUpstream,
    "500": UpstreamUnavailable,
    "502": UpstreamUnavailable,
    "503": UpstreamUnavailable,
    "html": BadPayload,
    "malformed": BadPayload,
    "empty": BadPayload,
    "hang": UpstreamUnavailable,
}

# The failure-mode check: the fake sends this Retry-After with "429" and hangs this long with
# "hang", against a client that gives up after HANG_TIMEOUT_S per attempt.
RETRY_AFTER = "120"
HANG_S = 2.0
HANG_TIMEOUT_S = 0.3
# A GET makes three attempts with a 0.4 s backoff (about 1.3 s); a client that waited out
# the hang would take three times HANG_S.
HANG_GIVES_UP_WITHIN_S = 2.5

# What the message of a generic failure mode says happened, whichever the provider.
SAYS: dict[str, str] = {
    **{mode: f"HTTP {mode[:3]}" for mode in ("429", "429_no_retry_after", "500", "502", "503")},
    "html": "(looks like HTML)",
    "malformed": "(malformed or truncated JSON)",
    "empty": "(an empty body)",
    "hang": f"did not answer within {HANG_TIMEOUT_S:g} s",
}

HttpFor = Callable[[str, Settings], ClientFactory]
Poll = Callable[..., UsageResult]
# The `poller` fixture: `poller(case, started_fake, **settings_changes) -> Poll`.
Poller = Callable[..., Poll]


@dataclass(frozen=True)
class ProviderCase:
    """One provider as the shared tests and fixtures see it.

    Args:
        name: the provider (settings base-URL key, ClientFactory name, test id).
        fetch: its module's `fetch`.
        fake: builds an unstarted fake that accepts `credentials`.
        credentials: the planted credentials fetch gets.
        secrets: the planted values that must never reach a message or a log line.
        window: a window of the fake's healthy answer.
        names: how its messages start (its display names).
        modes: the failure modes of its fake.
        errors: the error of each extra failure mode (and any generic one it maps otherwise).
        retry_after_s: `retry_after_s` expected after "429…" modes with RETRY_AFTER.
        secret_field: the credentials field a bare string given to `poll` fills; None when
            `poll` takes whole credentials only.
        missing: how the error starts when that field is blank; None when not tested here.
        oauth: its token endpoint has a base URL of its own (`<name>_oauth`).
        reads: the fields it reads at the top of an answer; an answer with none of them must
            be a BadPayload naming them (docs/providers.md, "One rule for every provider").
        unreadable: an answer with a known field holding a value that cannot be read, and
            that field's path, which the BadPayload must name.
    """

    name: str
    fetch: Fetcher
    fake: Callable[[], ProviderFake]
    credentials: Mapping[str, Any]
    secrets: tuple[str, ...]
    window: str
    names: tuple[str, ...]
    modes: tuple[str, ...] = FAILURE_MODES
    errors: Mapping[str, type[ProviderError]] = field(default_factory=dict)
    retry_after_s: Mapping[str, float | None] = field(
        default_factory=lambda: {"429": float(RETRY_AFTER), "429_no_retry_after": None}
    )
    secret_field: str | None = "key"
    missing: str | None = None
    oauth: bool = False
    reads: tuple[str, ...] = ()
    unreadable: tuple[Any, str] | None = None

    @classmethod
    def keyed(
        cls,
        fetch: Fetcher,
        fake: Callable[[str], ProviderFake],
        key: str,
        *,
        secret_field: str = "key",
        **fields: Any,
    ) -> ProviderCase:
        """A provider whose credentials are one planted key, `{secret_field: key}`.

        The name is that of `fetch`'s module; `fake(key)` builds its fake; `fields` are the
        other ProviderCase fields.
        """
        return cls(
            name=fetch.__module__.rsplit(".", 1)[-1],
            fetch=fetch,
            fake=lambda: fake(key),
            credentials={secret_field: key},
            secrets=(key,),
            secret_field=secret_field,
            **fields,
        )

    def __str__(self) -> str:
        return self.name

    def expected(self, mode: str) -> type[ProviderError]:
        """The exact error type `mode` must become."""
        return {**FAILURE_ERRORS, **self.errors}[mode]

    def base_urls(self, url: str) -> dict[str, str]:
        """`make_settings` arguments pointing this provider (and its token endpoint) at `url`."""
        keys = (self.name, f"{self.name}_oauth") if self.oauth else (self.name,)
        return dict.fromkeys(keys, url)

    def poller(self, http: ClientFactory) -> Poll:
        """`poll(credential=None, *, now=NOW, state=None, **options)`: one fetch through `http`.

        `credential` is None for the planted credentials, a string for `secret_field` alone
        (e.g. a wrong or blank key), or the whole credentials mapping.
        """

        def poll(
            credential: str | Mapping[str, Any] | None = None,
            *,
            now: float = NOW,
            state: Mapping[str, Any] | None = None,
            **options: Any,
        ) -> UsageResult:
            if credential is None:
                credentials = dict(self.credentials)
            elif isinstance(credential, str):
                assert self.secret_field, f"{self.name} credentials are not a single string"
                credentials = {self.secret_field: credential}
            else:
                credentials = dict(credential)
            return self.fetch(credentials, options, http, state or {}, now)

        return poll


def assert_actionable(message: str, starts: tuple[str, ...]) -> None:
    """`message` is one sentence for a person: it starts with one of `starts` (naming the
    provider) and ends with a period, with no raw body (JSON, HTML) or line break pasted in."""
    assert message.startswith(starts), message
    assert message.endswith("."), message
    assert not any(c in message for c in "\n{}<>"), message
    assert len(message) <= 600, message


def check_failure_mode(
    case: ProviderCase, mode: str, poller: Poller, caplog: pytest.LogCaptureFixture
) -> None:
    """Run `case`'s fetch once while its fake fails with `mode`, then once after `ok()`.

    The failure must be exactly `case.expected(mode)` with an actionable message that says what
    happened (SAYS) and the expected `retry_after_s`; a hang must be given up on in time; no
    planted secret (nor the last four characters some APIs echo) may reach the message, and no
    planted secret a log line at DEBUG; the same client must read the window again after ok().
    """
    caplog.set_level(logging.DEBUG)
    with case.fake() as fake:
        poll = poller(case, fake, http_timeout_s=HANG_TIMEOUT_S)
        fake.fail(mode, retry_after=RETRY_AFTER, hang_s=HANG_S)
        started = time.monotonic()
        with pytest.raises(ProviderError) as err:
            poll()
        elapsed = time.monotonic() - started
        fake.ok()
        assert case.window in poll().windows
    error = err.value
    assert type(error) is case.expected(mode), f"{type(error).__name__}: {error.message}"
    assert_actionable(error.message, case.names)
    if mode in SAYS:
        assert SAYS[mode] in error.message
    if mode == "hang":
        assert elapsed < HANG_GIVES_UP_WITHIN_S
    if mode in case.retry_after_s:
        assert isinstance(error, RateLimitedUpstream)
        assert error.retry_after_s == case.retry_after_s[mode]
    for secret in case.secrets:
        assert secret not in error.message and secret[-4:] not in error.message
        assert secret not in str(error) and secret not in caplog.text
