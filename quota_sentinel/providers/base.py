"""What every provider module returns (UsageResult / WindowUsage) and the ProviderError family."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class WindowUsage:
    """One rate-limit window as read from the provider.

    Args:
        utilization: percent of the window used, 0–100 (clamped by the provider module).
        resets_at: when the window resets, epoch seconds UTC, or None (no reset, e.g. a balance).
        metadata: small JSON-safe facts worth showing (plan, currency, counts); never a secret.
    """

    utilization: float
    resets_at: float | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class UsageResult:
    """The outcome of one successful poll.

    Args:
        windows: window name (stable, lower-case, see docs/providers.md) → usage.
        plan: the plan label the provider reports, if any.
        state: provider state to persist on the account for the next poll (e.g. DeepSeek's
            reference balance), stored in clear: never a secret. None leaves it as it is.
        credentials: rotated credentials (e.g. after an OAuth refresh) to store, encrypted,
            in place of the account's; None leaves them as they are.
    """

    windows: Mapping[str, WindowUsage]
    plan: str | None = None
    state: Mapping[str, Any] | None = None
    credentials: Mapping[str, Any] | None = None


class ProviderError(Exception):
    """Expected upstream trouble: recorded in the snapshot with a backoff, never raised by a job.

    The message is a sentence a person can act on and never contains a credential. A provider
    that rotated the credentials before failing (an OAuth refresh succeeded, the usage call did
    not) passes the new ones as `credentials`, so they are stored all the same: the old refresh
    token is already spent.
    """

    code = "provider_error"
    # The HTTP status of the answer that caused the error, when there was one (set by
    # providers.http); providers read it to try another path on 404/405.
    status: int | None = None

    def __init__(
        self,
        message: str,
        retry_after_s: float | None = None,
        credentials: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after_s = retry_after_s
        self.credentials = credentials


class AuthFailed(ProviderError):
    code = "auth_failed"


class CredentialsExpired(ProviderError):
    code = "credentials_expired"


class RateLimitedUpstream(ProviderError):
    code = "rate_limited"


class UpstreamUnavailable(ProviderError):
    code = "unavailable"


class BadPayload(ProviderError):
    code = "bad_payload"


class NotSupported(ProviderError):
    code = "not_supported"


class Fetcher(Protocol):
    """A provider module's `fetch` function.

    Args:
        credentials: the decrypted credential dict of the account (shape per provider).
        options: non-secret per-account options (provider_config + entry extras).
        http: a factory `http(base_key) -> HttpClient` (providers.http.ClientFactory): base
            URL from QUOTA_SENTINEL_<BASE_KEY>_BASE_URL, timeouts and error mapping built in.
        state: what the last UsageResult.state stored, or {}.
        now: the current time, epoch seconds.
    """

    def __call__(
        self,
        credentials: Mapping[str, Any],
        options: Mapping[str, Any],
        http: Any,
        state: Mapping[str, Any],
        now: float,
    ) -> UsageResult: ...
