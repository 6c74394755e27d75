"""The switcher's instance on the server: register, heartbeat with fresh tokens, read health,
deregister."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from quota_sentinel.client import Client, Expired
from quota_sentinel.switcher import health
from quota_sentinel.switcher.credentials import Found

FIRST_DATA_WAIT_S = 30.0
MIN_SERVER_POLL_S = 30


def _waiting(body: dict[str, Any], before: dict[str, str | None], queued: set[str]) -> list[str]:
    """Providers still to wait for: never polled, or asked for a poll that has not landed."""
    return [
        name
        for name, provider in body.items()
        if health.monitored(provider)
        and (
            not health.has_data(provider)
            or (name in queued and provider.get("polled_at") == before.get(name))
        )
    ]


class Session:
    """One registered instance, re-registered when it expired or new credentials appear.

    Args:
        client: the API client.
        project: the project name shown by the server (the config's directory name).
        poll_interval_s: how often the switcher looks; the server polls at least every 30 s.
        gather: reads the local credentials afresh (called at registration and every heartbeat).
    """

    def __init__(
        self, client: Client, project: str, poll_interval_s: int, gather: Callable[[], Found]
    ) -> None:
        self.client = client
        self.project = project
        self.poll_interval_s = max(poll_interval_s, MIN_SERVER_POLL_S)
        self.gather = gather
        self.instance_id: str | None = None
        self.key: str | None = None
        self.providers: list[str] = []
        self.warnings: list[str] = []
        self.sources: tuple[str, ...] = ()
        self._sent: dict[str, Any] = {}
        self._covered: frozenset[str] = frozenset()

    def register(self, found: Found | None = None) -> None:
        """Registers with the credentials found now; `warnings` collects what was skipped."""
        found = found or self.gather()
        answer = self.client.register(
            {
                "project_name": self.project,
                "framework": "opencode",
                "poll_interval": self.poll_interval_s,
                "auth": found.auth,
            }
        )
        self.instance_id, self.key = answer["instance_id"], answer["api_key"]
        self.providers = list(answer.get("providers", []))
        self.warnings = [*found.warnings, *answer.get("warnings", [])]
        self._sent, self._covered = found.auth, found.providers
        self.sources = found.sources

    def heartbeat(self) -> None:
        """Keeps the instance alive and sends the credentials again when they changed.

        Registers again when the server forgot the instance (expired) or when credentials of a
        provider the instance does not have yet turned up.
        """
        found = self.gather()
        if self.key is None or not found.providers <= self._covered:
            self.close()
            self.register(found)
            return
        fresh = found.auth if found.auth != self._sent else None
        try:
            answer = self.client.heartbeat(self.instance_id or "", self.key, fresh)
        except Expired:
            self.register(found)
            return
        self._sent = found.auth
        self.warnings = list(answer.get("warnings", []))
        if answer.get("refreshed"):
            self.client.poll(self.key)  # new tokens: no need to wait for the next schedule

    def statuses(
        self, wait_s: float = 0.0, fresh: bool = False
    ) -> tuple[dict[str, Any], list[str]]:
        """The instance's `GET /v1/providers`, waiting up to `wait_s` for data.

        Args:
            wait_s: how long to wait for accounts that have never been polled (and, with
                `fresh`, for the poll asked for here).
            fresh: ask the server to poll now first (POST /v1/poll).

        Returns:
            the body, and the providers still without (fresh) data when the wait ended.
        """
        assert self.key is not None
        body = self.client.providers(self.key)
        before = {name: p.get("polled_at") for name, p in body.items()}
        answer = self.client.poll(self.key) if fresh else {}
        # A poll already in progress brings fresh data as surely as one queued now.
        queued = set(answer.get("queued", [])) | set(answer.get("in_progress", []))
        deadline = time.monotonic() + wait_s
        while True:
            waiting = _waiting(body, before, queued)
            if not waiting or time.monotonic() >= deadline:
                return body, sorted(waiting)
            time.sleep(0.25)
            body = self.client.providers(self.key)

    def advice(self) -> dict[str, Any]:
        """What the server tells this (opencode) instance: {recommendation, message}."""
        assert self.key is not None
        body = self.client.status(self.key)
        return {"recommendation": body.get("recommendation"), "message": body.get("message")}

    def close(self) -> None:
        """Deregisters (an instance the server already forgot is fine)."""
        if self.key is not None and self.instance_id is not None:
            self.client.deregister(self.instance_id, self.key)
        self.instance_id = self.key = None
