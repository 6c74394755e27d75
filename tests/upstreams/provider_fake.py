"""ProviderFake: the shared life cycle and failure switch of the provider fakes.

A provider fake owns one FakeUpstream, a healthy answer that tests can change (usage, balance),
and a failure mode set with `fail(mode)` and cleared with `ok()`. Failure modes are the names in
FAILURE_MODES plus any the provider fake adds (e.g. Z.ai's HTTP-200 error envelopes).
"""

from __future__ import annotations

import threading
from dataclasses import replace
from typing import Self

from tests.upstreams.server import FakeUpstream, Reply, Request

FAILURE_MODES = (
    "401",
    "403",
    "429",
    "429_no_retry_after",
    "500",
    "502",
    "503",
    "html",
    "malformed",
    "empty",
    "hang",
)

# Milliseconds in an hour, for the fakes' reset times.
HOUR_MS = 3_600_000

_HTML = (
    "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head>"
    "<body><h1>Bad Gateway</h1><p>cloudflare</p></body></html>"
)


class ProviderFake:
    """Base of ZaiFake and DeepSeekFake: one route, a healthy answer and a failure switch.

    Subclasses set `path` and `name` and implement `_healthy(request) -> Reply`; they may
    override `_unauthorized(request)` and `_extra_failure(mode)`.
    """

    path = "/"
    method = "GET"
    name = "fake"

    def __init__(self) -> None:
        self.upstream = FakeUpstream({("GET", self.path): self._serve}, name=self.name)
        self._lock = threading.RLock()
        self._mode: str | None = None
        self._retry_after = "30"
        self._hang_s = 30.0

    # -- life cycle ----------------------------------------------------------------------------

    def start(self) -> Self:
        """Start serving; returns self."""
        self.upstream.start()
        return self

    def stop(self) -> None:
        """Stop serving and free the port."""
        self.upstream.stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """Base URL to put in QUOTA_SENTINEL_<PROVIDER>_BASE_URL."""
        return self.upstream.url

    @property
    def calls(self) -> int:
        """Requests received on the provider's usage path (failed ones included)."""
        return self.upstream.count(self.path)

    @property
    def requests(self) -> list[Request]:
        """Every request received, oldest first (headers have lower-case names)."""
        return self.upstream.requests

    # -- failure switch ------------------------------------------------------------------------

    def fail(self, mode: str, *, retry_after: str = "30", hang_s: float = 30.0) -> None:
        """Answer every following request with a failure until `ok()`.

        Args:
            mode: one of FAILURE_MODES, or a provider-specific mode of the subclass.
            retry_after: Retry-After header value for "429" (seconds or an HTTP-date).
            hang_s: for "hang", seconds to wait before answering normally.
        """
        if mode not in FAILURE_MODES and self._extra_failure(mode) is None:
            raise ValueError(f"unknown failure mode {mode!r} for the {self.name} fake")
        with self._lock:
            self._mode, self._retry_after, self._hang_s = mode, retry_after, hang_s

    def ok(self) -> None:
        """Answer normally again."""
        with self._lock:
            self._mode = None

    def serve_body(self, body: object) -> None:
        """Answer the usage path with this raw JSON body (HTTP 200) until `upstream.reset()`:
        a shape the fake does not model, e.g. one with unknown fields."""
        self.upstream.script(self.path, method=self.method, json=body)

    # -- for subclasses ------------------------------------------------------------------------

    def _healthy(self, request: Request) -> Reply:
        raise NotImplementedError

    def _authorized(self, request: Request) -> bool:
        return True

    def _unauthorized(self, request: Request) -> Reply:
        return Reply(status=401, json={"error": "unauthorized"})

    def _extra_failure(self, mode: str) -> Reply | None:
        return None

    def _serve(self, request: Request) -> Reply:
        with self._lock:
            mode, retry_after, hang_s = self._mode, self._retry_after, self._hang_s
        if mode is None:
            return (
                self._healthy(request) if self._authorized(request) else self._unauthorized(request)
            )
        extra = self._extra_failure(mode)
        if extra is not None:
            return extra
        if mode == "401":
            return self._unauthorized(request)
        if mode == "hang":
            return replace(self._healthy(request), delay_s=hang_s)
        if mode == "malformed":
            text = self._healthy(request).payload()
            return Reply(status=200, body=text[: max(1, len(text) // 2)])
        return failure_reply(mode, retry_after=retry_after)


def failure_reply(mode: str, *, retry_after: str = "30") -> Reply:
    """The generic reply for a stateless failure mode (403, 429, 5xx, html, empty).

    Args:
        mode: a name from FAILURE_MODES other than "401", "hang" and "malformed".
        retry_after: Retry-After header value for "429".

    Returns:
        The Reply to send.
    """
    if mode == "403":
        return Reply(status=403, json={"error": "forbidden"})
    if mode == "429":
        return Reply(
            status=429, json={"error": "rate limited"}, headers={"Retry-After": retry_after}
        )
    if mode == "429_no_retry_after":
        return Reply(status=429, json={"error": "rate limited"})
    if mode in ("500", "502", "503"):
        return Reply(status=int(mode), json={"error": "server error"})
    if mode == "html":
        return Reply(status=200, body=_HTML, content_type="text/html; charset=utf-8")
    if mode == "empty":
        return Reply(status=200, body=b"")
    raise ValueError(f"unknown failure mode {mode!r}; expected one of {FAILURE_MODES}")
