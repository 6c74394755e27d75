"""Helpers of the agent tests: a Claude fake whose five-hour use climbs with the wall clock, a
project with Claude Code's credentials in a temp HOME, and the installed hooks run the way Claude
Code runs them (the command through a shell, the event as JSON on stdin)."""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from quota_sentinel.switcher.jsonc import loads
from tests.netguard.sitecustomize import CHILD_ENV
from tests.upstreams.claude import ClaudeFake, iso
from tests.upstreams.server import Reply, Request

FIXTURES = Path(__file__).parent / "fixtures"
HOOK_RUN_TIMEOUT_S = 120


class ClaudeBurn(ClaudeFake):
    """A Claude fake whose `five_hour` utilization can rise steadily with the wall clock.

    `burn(start, rate)` serves `start + rate × hours since the call`; `steady(value)` a fixed one.
    Both reset at a fixed time two hours out, so the window never resets during a test.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.resets_at = time.time() + 2 * 3600
        self._burn: tuple[float, float, float] | None = None

    def steady(self, utilization: float) -> None:
        self.burn(utilization, 0.0)

    def burn(self, start: float, rate_pct_per_h: float) -> None:
        with self._lock:
            self._burn = (start, rate_pct_per_h, time.time())

    def _healthy(self, request: Request) -> Reply:
        with self._lock:
            body = copy.deepcopy(self._body)
            if self._burn is not None:
                start, rate, since = self._burn
                used = start + rate * (time.time() - since) / 3600
                body["five_hour"] = {"utilization": used, "resets_at": iso(self.resets_at)}
                body["limits"] = []
        return Reply(json=body)


@dataclass
class ClaudeProject:
    """A project folder, a temp HOME holding Claude Code's credentials, and the hook's env."""

    dir: Path
    home: Path
    env: dict[str, str]

    @property
    def credentials(self) -> Path:
        return self.home / ".claude" / ".credentials.json"

    @property
    def settings(self) -> Path:
        return self.dir / ".claude" / "settings.json"

    def commands(self) -> dict[str, str]:
        """Event → the command of our hook, as installed in the project's settings."""
        hooks = loads(self.settings.read_text())["hooks"]
        found = {}
        for event, groups in hooks.items():
            for group in groups:
                for hook in group["hooks"]:
                    if "quota_sentinel" in hook["command"]:
                        found[event] = hook["command"]
        return found

    def run(self, event: str, payload: dict[str, Any] | None = None, **env: str) -> Hooked:
        """Runs our hook of `event` as Claude Code does; returns what came out and how long it
        took (seconds, wall clock)."""
        body = {
            "session_id": "test-session",
            "transcript_path": str(self.home / "transcript.jsonl"),
            "cwd": str(self.dir),
            "hook_event_name": event,
            **(payload or {}),
        }
        started = time.monotonic()
        done = subprocess.run(
            self.commands()[event],
            shell=True,
            input=json.dumps(body),
            capture_output=True,
            text=True,
            cwd=self.dir,
            env={**self.env, **env},
            timeout=HOOK_RUN_TIMEOUT_S,
        )
        return Hooked(done.returncode, done.stdout, done.stderr, time.monotonic() - started)


@dataclass
class Hooked:
    code: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def json(self) -> dict[str, Any]:
        return json.loads(self.stdout)

    @property
    def context(self) -> str:
        return self.json["hookSpecificOutput"]["additionalContext"]


def make_claude_project(tmp_path: Path, access_token: str, url: str) -> ClaudeProject:
    """A project with a commented settings.json already holding hooks, and a temp HOME whose
    ~/.claude/.credentials.json holds `access_token`."""
    home = tmp_path / "home"
    (home / ".claude").mkdir(parents=True)
    credentials = {
        "claudeAiOauth": {
            "accessToken": access_token,
            "refreshToken": access_token.replace("oat01", "ort01"),  # its own account
            "expiresAt": int((time.time() + 8 * 3600) * 1000),
        }
    }
    (home / ".claude" / ".credentials.json").write_text(json.dumps(credentials))
    project = tmp_path / f"project-{tmp_path.name}"  # the instance's name on a shared server
    (project / ".claude").mkdir(parents=True)
    shutil.copyfile(FIXTURES / "claude-settings.json", project / ".claude" / "settings.json")
    keep = ("PATH", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT", *CHILD_ENV)
    env = {k: v for k, v in os.environ.items() if k in keep}
    env.update(
        HOME=str(home),
        CLAUDE_PROJECT_DIR=str(project),
        QUOTA_SENTINEL_URL=url,
        QUOTA_SENTINEL_DATA_DIR=str(tmp_path / "data"),
        # A fresh answer on a busy machine may take seconds; the down case sets its own.
        QUOTA_SENTINEL_HOOK_TIMEOUT="30",
    )
    return ClaudeProject(project, home, env)
