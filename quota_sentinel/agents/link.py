"""One agent's link to the sentinel: an instance kept registered for the project, fresh tokens
sent when the agent refreshed them, and the last answer cached so that a slow or absent sentinel
costs a hook no more than its time budget.

The state of a project lives in one file (mode 0600: it holds the instance's API key) under the
data directory's `agents/` folder, named by framework and a hash of the project's path. Two hooks
of one project running at once take turns through a lock on that file; one that cannot get the
lock within its budget answers from the cache.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from quota_sentinel.client import ApiError, Client, Expired, Unreachable
from quota_sentinel.datadir import private_dir
from quota_sentinel.switcher.credentials import claude_code, claude_credentials_file
from quota_sentinel.switcher.server import data_dir, is_loopback, launch

# Seconds between two heartbeats when nothing changed; a hook fires far more often than that.
HEARTBEAT_EVERY_S = 60.0
# Seconds between two attempts to start a local server that does not answer.
AUTOSTART_EVERY_S = 120.0
# The instance's poll interval, seconds: the server's own default.
POLL_INTERVAL_S = 300
# Seconds to connect, at most: enough for any server on this machine or the LAN.
CONNECT_S = 0.25
T = TypeVar("T")


@dataclass(frozen=True)
class Answer:
    """What the sentinel said, or what it last said.

    Args:
        status: the instance's TOKEN_STATUS (`GET /v1/status`), None when never known.
        fresh: True when the sentinel answered during this call.
        age_s: seconds since `status` was fetched.
        problem: why the answer is not fresh, in one sentence.
        note: something to tell the user besides (a server started, no credentials found).
    """

    status: dict[str, Any] | None
    fresh: bool
    age_s: float | None = None
    problem: str | None = None
    note: str | None = None

    @property
    def recommendation(self) -> str | None:
        return (self.status or {}).get("recommendation")


def state_path(env: Mapping[str, str], framework: str, project: Path) -> Path:
    """The state file of one project's instance."""
    digest = hashlib.sha256(str(project).encode()).hexdigest()[:16]
    return data_dir(env) / "agents" / f"{framework}-{digest}.json"


def _fingerprint(auth: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(auth, sort_keys=True).encode()).hexdigest()


class Link:
    """The sentinel as one project's hooks see it.

    Args:
        project: the project directory (its name is the instance's project name).
        framework: the instance's framework (`claude`).
        url: the sentinel's base URL.
        env: the environment (HOME, CLAUDE_CONFIG_DIR, QUOTA_SENTINEL_DATA_DIR…).
        budget_s: the most time, in seconds, to spend talking to the sentinel.
        autostart: start a local server when nothing answers at a loopback URL.
        clock: wall-clock seconds (for tests of the cache's age).
    """

    def __init__(
        self,
        project: Path,
        framework: str,
        url: str,
        env: Mapping[str, str],
        budget_s: float,
        autostart: bool = True,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.project = project
        self.framework = framework
        self.url = url.rstrip("/")
        self.env = env
        self.budget_s = budget_s
        self.autostart = autostart
        self.clock = clock
        self.path = state_path(env, framework, project)
        self.deadline = time.monotonic() + budget_s

    # -- the state file ------------------------------------------------------------------------

    def _load(self) -> dict[str, Any]:
        try:
            state = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}
        return state if isinstance(state, dict) else {}

    def _save(self, state: dict[str, Any]) -> None:
        self._private()
        tmp = self.path.with_suffix(f".{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(state, handle)
        os.replace(tmp, self.path)

    def _private(self) -> None:
        """The data directory and its agents/ folder, both 0700 (the state holds an API key)."""
        private_dir(self.path.parent.parent)
        private_dir(self.path.parent)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[bool]:
        """Holds the project's lock; yields False when it could not be had within the budget."""
        self._private()
        fd = os.open(self.path.with_suffix(".lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= self.deadline:
                        yield False
                        return
                    time.sleep(0.02)
            yield True
        finally:
            os.close(fd)  # closing releases the lock

    # -- talking to the sentinel ---------------------------------------------------------------

    def _timed(self, client: Client, call: Callable[[], T]) -> T:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise Unreachable(f"{self.url} did not answer within {self.budget_s:g} s.")
        # Connecting on loopback is instant unless the server is wedged; the rest is for reading,
        # so one call never outlasts what is left of the budget.
        connect = min(left / 2, CONNECT_S)
        client.timeout = (connect, left - connect)
        return call()

    def _auth(self) -> tuple[dict[str, Any], str | None]:
        warnings: list[str] = []
        creds = claude_code(self.env, warnings) if self.framework == "claude" else None
        if creds:
            return {"claude_credentials": creds}, None
        where = claude_credentials_file(self.env)
        return {}, (warnings[0] if warnings else f"no Claude Code credentials in {where}")

    def _register(self, client: Client, state: dict[str, Any], auth: dict[str, Any]) -> None:
        body = {
            "project_name": self.project.name or str(self.project),
            "framework": self.framework,
            "poll_interval": POLL_INTERVAL_S,
            "auth": auth,
        }
        answer = self._timed(client, lambda: client.register(body))
        state.update(
            url=self.url,
            instance_id=answer["instance_id"],
            api_key=answer["api_key"],
            sent=_fingerprint(auth),
            covered=bool(auth),
            heartbeat_at=self.clock(),
        )

    def _keep_alive(self, client: Client, state: dict[str, Any], auth: dict[str, Any]) -> bool:
        """Registers or heartbeats as needed; True when the instance is new (poll it now)."""
        # A server that never had this instance, or credentials that turned up only now (a
        # heartbeat can refresh an account's token but not add the account): register.
        fresh_account = bool(auth) and not state.get("covered")
        if state.get("url") != self.url or not state.get("api_key") or fresh_account:
            self._register(client, state, auth)
            return True
        changed = state.get("sent") != _fingerprint(auth)
        if not changed and self.clock() - state.get("heartbeat_at", 0) < HEARTBEAT_EVERY_S:
            return False
        instance, key = state["instance_id"], state["api_key"]
        try:
            self._timed(client, lambda: client.heartbeat(instance, key, auth if changed else None))
        except Expired:
            self._register(client, state, auth)
            return True
        state.update(sent=_fingerprint(auth), heartbeat_at=self.clock())
        return changed  # a fresh token: poll with it now rather than at the next tick

    def _ask(self, client: Client, state: dict[str, Any], poll: bool) -> dict[str, Any]:
        auth, _ = self._auth()
        if self._keep_alive(client, state, auth) or poll:
            key = state["api_key"]
            with contextlib.suppress(ApiError):  # 429 inside the minimum poll gap: fine
                self._timed(client, lambda: client.poll(key))
        try:
            return self._timed(client, lambda: client.status(state["api_key"]))
        except Expired:
            self._register(client, state, auth)
            return self._timed(client, lambda: client.status(state["api_key"]))

    def _start_server(self, state: dict[str, Any]) -> str | None:
        if not (self.autostart and is_loopback(self.url)):
            return None
        if self.clock() - state.get("autostart_at", 0) < AUTOSTART_EVERY_S:
            return "a local quota-sentinel is starting"
        started = launch(self.url, self.env)
        state["autostart_at"] = self.clock()
        return (
            f"started a local quota-sentinel at {self.url} (pid {started.pid}, log {started.log})"
        )

    def answer(self, poll: bool = False) -> Answer:
        """The instance's status: asked now, or from the cache when the sentinel does not answer
        within the budget (the answer then says why and how old it is).

        Args:
            poll: ask the server to poll the instance's accounts now (a session starts).
        """
        with self._locked() as held:
            state = self._load()
            if not held:
                return self._cached(state, "another hook of this project holds the sentinel link")
            _, missing = self._auth()
            with Client(self.url, agent=f"quota-sentinel-{self.framework}-hook") as client:
                try:
                    status = self._ask(client, state, poll)
                except (Unreachable, ApiError) as exc:
                    note = self._start_server(state) if isinstance(exc, Unreachable) else None
                    self._save(state)
                    return self._cached(state, exc.message, note)
            state.update(status=status, status_at=self.clock())
            self._save(state)
            return Answer(status, True, 0.0, None, missing)

    def _cached(self, state: dict[str, Any], problem: str, note: str | None = None) -> Answer:
        status = state.get("status")  # what the accounts looked like, whichever server said it
        age = self.clock() - state["status_at"] if status and "status_at" in state else None
        return Answer(status, False, age, problem, note)
