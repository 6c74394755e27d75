"""The quota-sentinel API over HTTP: the one client of our own API that the CLI, the switcher and
the agent hooks share (requests, a timeout on every call, no server-side import)."""

from __future__ import annotations

from typing import Any

import requests

from quota_sentinel.exits import Exit, UserError

DEFAULT_URL = "http://127.0.0.1:7878"

# (connect, read) seconds: a local server answers at once; a remote one may be slow to read.
TIMEOUT_S = (3.05, 15.0)


class Unreachable(UserError):
    """Nothing (or not quota-sentinel) answers at the sentinel URL."""

    exit_code = Exit.UNREACHABLE


class ApiError(UserError):
    """The API answered with an error; `status` is the HTTP status."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class Expired(ApiError):
    """The instance's key is unknown (expired or deregistered): register again."""


class Client:
    """Calls to one quota-sentinel server.

    Args:
        url: the server's base URL, e.g. http://127.0.0.1:7878.
        timeout: requests' (connect, read) timeout, seconds.
        agent: the User-Agent, naming the command that calls.
    """

    def __init__(
        self,
        url: str = DEFAULT_URL,
        timeout: tuple[float, float] = TIMEOUT_S,
        agent: str = "quota-sentinel",
    ) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.http = requests.Session()
        self.http.headers["User-Agent"] = agent

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request(
        self,
        method: str,
        path: str,
        key: str | None = None,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, Any]:
        """(HTTP status, parsed JSON body) of one call, whatever the status.

        Raises:
            Unreachable: nothing answers in time, or the answer is not JSON.
        """
        headers = {**(headers or {}), **({"X-API-Key": key} if key else {})}
        try:
            response = self.http.request(
                method, self.url + path, headers=headers, json=body, timeout=self.timeout
            )
        except requests.Timeout:
            raise Unreachable(f"{self.url} did not answer in time.") from None
        except requests.RequestException:
            raise Unreachable(f"nothing answers at {self.url}.") from None
        try:
            return response.status_code, response.json()
        except ValueError:
            raise Unreachable(
                f"{self.url} answered, but not with quota-sentinel's JSON; is the URL right?"
            ) from None

    def _ok(self, method: str, path: str, key: str | None = None, body: Any = None) -> Any:
        status, answer = self.request(method, path, key, body)
        if status < 400:
            return answer
        message = answer.get("message") if isinstance(answer, dict) else None
        message = message or f"{method} {path} answered HTTP {status}."
        if status == 401:
            raise Expired(message, status)
        raise ApiError(message, status)

    def health(self) -> tuple[int, Any]:
        """(HTTP status, body) of GET /v1/health; Unreachable when nothing answers."""
        return self.request("GET", "/v1/health")

    def register(self, body: dict[str, Any]) -> dict[str, Any]:
        """POST /v1/instances: {instance_id, api_key, providers, poll_interval, warnings}."""
        return self._ok("POST", "/v1/instances", body=body)

    def heartbeat(
        self, instance_id: str, key: str, auth: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """PATCH /v1/instances/{id}/heartbeat, with fresh credentials when given."""
        body: dict[str, Any] = {"state": "active"}
        if auth:
            body["auth"] = auth
        return self._ok("PATCH", f"/v1/instances/{instance_id}/heartbeat", key, body)

    def status(self, key: str) -> dict[str, Any]:
        """GET /v1/status: the instance's TOKEN_STATUS (recommendation, message, providers…)."""
        return self._ok("GET", "/v1/status", key)

    def providers(self, key: str) -> dict[str, Any]:
        """GET /v1/providers: provider → {status, polled_at, windows, …}."""
        return self._ok("GET", "/v1/providers", key)

    def poll(self, key: str) -> dict[str, Any]:
        """POST /v1/poll: {queued: [...], in_progress: [...], scheduled_in_s: {...}}."""
        return self._ok("POST", "/v1/poll", key)

    def deregister(self, instance_id: str, key: str) -> None:
        """DELETE /v1/instances/{id}; an instance already gone is fine."""
        try:
            self._ok("DELETE", f"/v1/instances/{instance_id}", key)
        except Expired:
            pass
