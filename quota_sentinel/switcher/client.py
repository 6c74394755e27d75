"""The quota-sentinel API over HTTP (requests, a timeout on every call): the switcher's only
link to the server."""

from __future__ import annotations

from typing import Any

import requests

from quota_sentinel.switcher.errors import ApiError, Unreachable

# (connect, read) seconds: a local server answers at once; a remote one may be slow to read.
TIMEOUT_S = (3.05, 15.0)


class Expired(ApiError):
    """The instance's key is unknown (expired or deregistered): register again."""


class Client:
    """Calls to one quota-sentinel server.

    Args:
        url: the server's base URL, e.g. http://127.0.0.1:7878.
        timeout: requests' (connect, read) timeout, seconds.
    """

    def __init__(self, url: str, timeout: tuple[float, float] = TIMEOUT_S) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.http = requests.Session()
        self.http.headers["User-Agent"] = "quota-sentinel-switch"

    def close(self) -> None:
        self.http.close()

    def _call(
        self, method: str, path: str, key: str | None = None, body: Any = None
    ) -> tuple[int, Any]:
        headers = {"X-API-Key": key} if key else {}
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
        status, answer = self._call(method, path, key, body)
        if status < 400:
            return answer
        message = answer.get("message") if isinstance(answer, dict) else None
        message = message or f"{method} {path} answered HTTP {status}."
        if status == 401:
            raise Expired(message, status)
        raise ApiError(message, status)

    def health(self) -> tuple[int, Any]:
        """(HTTP status, body) of GET /v1/health; Unreachable when nothing answers."""
        return self._call("GET", "/v1/health")

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
