"""The one place outbound HTTP happens: a configured session per provider and the error mapping.

Provider modules call `HttpClient.get_json` / `post_json` and get decoded JSON back, or one of
the `ProviderError` subclasses with a sentence a person can act on. Timeouts, connection
errors, HTTP statuses and non-JSON bodies are mapped here and nowhere else (docs/providers.md,
"HTTP and errors").
Messages and log lines never carry a header value, a query string or a response body.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping
from datetime import UTC
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import NewConnectionError
from urllib3.exceptions import TimeoutError as Urllib3TimeoutError
from urllib3.util.retry import Retry

import quota_sentinel
from quota_sentinel.config import Settings
from quota_sentinel.providers.base import (
    AuthFailed,
    BadPayload,
    ProviderError,
    RateLimitedUpstream,
    UpstreamUnavailable,
)

log = logging.getLogger(__name__)

# Connecting should be quick even when the provider is slow to compute an answer.
MAX_CONNECT_TIMEOUT_S = 3.0

# How providers are named in sentences; unknown names are capitalised.
DISPLAY_NAMES: dict[str, str] = {
    "claude": "Claude",
    "claude_oauth": "Claude",
    "copilot": "GitHub Copilot",
    "zai": "Z.ai",
    "minimax": "MiniMax",
    "deepseek": "DeepSeek",
    "alibaba": "Alibaba Cloud",
    "codex": "ChatGPT",
    "kimi": "Kimi",
    "openrouter": "OpenRouter",
}

HttpFactory = Callable[[str], "HttpClient"]
"""What a provider's `fetch` receives as `http`: base key (e.g. "zai_cn") → its HttpClient."""


def _retry_policy() -> Retry:
    # 429 is deliberately not retried here: the poll scheduler honours Retry-After with a
    # backoff of minutes, which is what a rate-limited usage endpoint needs. Only GETs are
    # retried on read errors and 5xx; connect errors are safe to retry for any method.
    return Retry(
        total=2,
        connect=2,
        read=2,
        status=2,
        other=0,
        status_forcelist=(502, 503, 504),
        allowed_methods=frozenset({"GET"}),
        backoff_factor=0.2,
        respect_retry_after_header=False,
        raise_on_status=False,
    )


class HttpClient:
    """A requests session bound to one provider's base URL, with retries and a timeout.

    Args:
        provider: provider name used in messages and logs (e.g. "zai").
        base_url: scheme and host (and optional path prefix) that request paths are appended to.
        timeout_s: read timeout per attempt, seconds; the connect timeout is min(3, timeout_s).
            With retries a hanging upstream can hold a GET for about 3 × timeout_s.
        user_agent: User-Agent header; default `quota-sentinel/<version>`.
    """

    def __init__(
        self,
        provider: str,
        base_url: str,
        timeout_s: float,
        user_agent: str | None = None,
    ) -> None:
        self.provider = provider
        self.display_name = DISPLAY_NAMES.get(provider, provider.capitalize())
        self.base_url = base_url.rstrip("/")
        self.timeout_s = float(timeout_s)
        self.timeout = (min(MAX_CONNECT_TIMEOUT_S, self.timeout_s), self.timeout_s)
        self._host_port = _host_port(self.base_url)
        self.session = requests.Session()
        adapter = HTTPAdapter(max_retries=_retry_policy())
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers["User-Agent"] = (
            user_agent or f"quota-sentinel/{quota_sentinel.__version__}"
        )

    def get_json(
        self,
        path: str,
        *,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> Any:
        """GET `path` and decode the JSON answer.

        Args:
            path: absolute path on the provider host, e.g. "/user/balance".
            headers: extra request headers (credentials go here; they are never logged).
            params: query parameters (never logged or put in a message).

        Returns:
            The decoded JSON value of a 2xx answer.

        Raises:
            ProviderError: a subclass saying what went wrong (see module docstring).
        """
        return self._request("GET", path, headers=headers, params=params)

    def post_json(
        self,
        path: str,
        *,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> Any:
        """POST a JSON body to `path` and decode the JSON answer (not retried after sending).

        Args:
            path: absolute path on the provider host.
            json: the value to send as the JSON body, or None for no body.
            headers: extra request headers (never logged).
            params: query parameters (never logged or put in a message).

        Returns:
            The decoded JSON value of a 2xx answer.

        Raises:
            ProviderError: a subclass saying what went wrong.
        """
        return self._request("POST", path, headers=headers, params=params, json_body=json)

    def close(self) -> None:
        """Close the pooled connections; the client must not be used afterwards."""
        self.session.close()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _request(
        self,
        method: str,
        path: str,
        *,
        headers: Mapping[str, str] | None,
        params: Mapping[str, Any] | None,
        json_body: Any = None,
    ) -> Any:
        url = self.base_url + "/" + path.lstrip("/")
        started = time.monotonic()
        try:
            response = self.session.request(
                method,
                url,
                headers=dict(headers or {}),
                params=params,
                json=json_body,
                timeout=self.timeout,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            log.debug(
                "%s %s %s failed after %.0f ms: %s",
                self.provider,
                method,
                path,
                (time.monotonic() - started) * 1000,
                type(exc).__name__,
            )
            raise self._transport_error(exc) from None
        log.debug(
            "%s %s %s -> %s in %.0f ms",
            self.provider,
            method,
            path,
            response.status_code,
            (time.monotonic() - started) * 1000,
        )
        return self._decode(response)

    def _transport_error(self, exc: requests.RequestException) -> ProviderError:
        # The exception text holds the full URL (path and query), so it is never quoted.
        if _is_timeout(exc):
            return UpstreamUnavailable(
                f"{self.display_name} did not answer within {self.timeout_s:g} s."
            )
        if isinstance(exc, requests.ConnectionError):
            return UpstreamUnavailable(
                f"{self.display_name} could not be reached at {self._host_port} "
                "(connection failed); check the network or the base URL setting."
            )
        return UpstreamUnavailable(
            f"The connection to {self.display_name} at {self._host_port} broke "
            f"({type(exc).__name__}); will try again later."
        )

    def _decode(self, response: requests.Response) -> Any:
        status = response.status_code
        error = self._status_error(response)
        if error is not None:
            error.status = status
            raise error
        try:
            return json.loads(response.content)
        except ValueError:
            raise BadPayload(
                f"{self.display_name} answered with something that is not JSON "
                f"({_describe(response.content)}); the endpoint may have moved or a proxy may be "
                "in the way."
            ) from None

    def _status_error(self, response: requests.Response) -> ProviderError | None:
        status = response.status_code
        name = self.display_name
        if status in (401, 403):
            return AuthFailed(
                f"{name} rejected the credential (HTTP {status}); check the key or replace it."
            )
        if status == 429:
            retry_after_s = parse_retry_after(response.headers.get("Retry-After"))
            hint = (
                f"retry after {retry_after_s:g} s" if retry_after_s is not None else "retry later"
            )
            return RateLimitedUpstream(
                f"{name} is rate limiting requests (HTTP 429); {hint}.", retry_after_s
            )
        if 300 <= status < 400:
            # Redirects are not followed: a usage API that redirects is sending us to a login
            # page (an expired console session), and following it would end in "not JSON".
            return AuthFailed(
                f"{name} redirected the request (HTTP {status}), usually to a login page: the "
                "credential or session is not accepted; check it and the base URL."
            )
        if status >= 500:
            return UpstreamUnavailable(f"{name} answered HTTP {status} (server error); will retry.")
        if not 200 <= status < 300:
            return ProviderError(f"{name} refused the request with HTTP {status}.")
        return None


def _is_timeout(exc: requests.RequestException) -> bool:
    if isinstance(exc, requests.Timeout):
        return True
    # After urllib3 spends its read retries on timeouts, requests reports a ConnectionError
    # wrapping MaxRetryError(reason=ReadTimeoutError); it is still a timeout to the user.
    # NewConnectionError (refused, unreachable) subclasses urllib3's timeout error; it is not one.
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, Urllib3TimeoutError) and not isinstance(reason, NewConnectionError)


def _describe(body: bytes) -> str:
    text = body.strip()
    if not text:
        return "an empty body"
    if text[:1] == b"<":
        return "looks like HTML"
    return "malformed or truncated JSON"


def _host_port(url: str) -> str:
    # hostname/port only: a base URL may carry user:password@ that must not reach a message.
    parts = urlsplit(url)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return parts.hostname or "the configured host"
    return f"{parts.hostname}:{port}"


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Read a Retry-After header.

    Args:
        value: the header text: delta seconds ("30") or an HTTP-date.
        now: current time, epoch seconds (default: the wall clock), for HTTP-dates.

    Returns:
        Seconds to wait, >= 0 (0 is a legitimate answer); None when absent or unreadable.
    """
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    current = time.time() if now is None else now
    return max(0.0, moment.timestamp() - current)


def client_for(provider: str, settings: Settings, *, base_key: str | None = None) -> HttpClient:
    """Build the HttpClient for `provider` from the settings.

    Args:
        provider: provider name, used for messages and logs (e.g. "zai").
        settings: the process settings (base URLs, `http_timeout_s` in seconds).
        base_key: which base URL to use when a provider has several hosts (e.g. "zai_cn");
            default `provider`.

    Returns:
        A new client; the caller closes it.
    """
    return HttpClient(provider, settings.base_url(base_key or provider), settings.http_timeout_s)


class ClientFactory:
    """The `http` argument of a provider's `fetch`: call it with a base key, get its client.

    Each base key's HttpClient is built once and reused, so a worker keeps one pooled
    session per provider host.

    Args:
        provider: provider name (e.g. "zai").
        settings: the process settings (base URLs, timeout).
    """

    def __init__(self, provider: str, settings: Settings) -> None:
        self.provider = provider
        self.settings = settings
        self._clients: dict[str, HttpClient] = {}

    def __call__(self, base_key: str) -> HttpClient:
        """Return the client for `base_key` (a name in `settings.base_urls`, e.g. "zai_cn")."""
        if base_key not in self._clients:
            self._clients[base_key] = client_for(self.provider, self.settings, base_key=base_key)
        return self._clients[base_key]

    def close(self) -> None:
        """Close every client built so far."""
        for client in self._clients.values():
            client.close()
        self._clients.clear()
