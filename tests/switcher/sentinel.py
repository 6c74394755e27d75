"""A real `quota-sentinel start` for the switcher's end-to-end tests (the tests/test_cli.py
pattern), with its output in a log file so a long-lived server never blocks on a full pipe."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import requests

from tests.waiting import http_ok, wait_until

START_TIMEOUT_S = 120
ADMIN_TOKEN = "switcher-test-admin-token"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def base_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUOTA_SENTINEL_")}
    env.pop("REDIS_URL", None)
    env["QUOTA_SENTINEL_DATA_DIR"] = str(data_dir)
    return env


class Sentinel:
    """`quota-sentinel start` on a free port, polling the given fake upstreams.

    Args:
        data_dir: the server's data directory (its log goes there too).
        env: extra environment, e.g. QUOTA_SENTINEL_ZAI_BASE_URL.
    """

    def __init__(self, data_dir: Path, env: dict[str, str] | None = None) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = data_dir / "test-server.log"
        self.env = {
            **base_env(data_dir),
            "QUOTA_SENTINEL_MIN_POLL_GAP": "0",
            "QUOTA_SENTINEL_REGISTER_RATE": "100000",
            "QUOTA_SENTINEL_ADMIN_TOKEN": ADMIN_TOKEN,
            "QUOTA_SENTINEL_HTTP_TIMEOUT": "3",
            **(env or {}),
        }
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "quota_sentinel", "start", "--port", str(self.port)],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def wait_healthy(self) -> Sentinel:
        wait_until(
            lambda: http_ok(self.url + "/v1/health"),
            timeout=START_TIMEOUT_S,
            what="a healthy `quota-sentinel start`",
            alive=self._alive,
        )
        return self

    def _alive(self) -> None:
        assert self.process.poll() is None, self.log.read_text()

    def instance_status(self, instance_id: str) -> int:
        """HTTP status of the admin's GET /v1/status/{id} (404 once deregistered)."""
        return requests.get(
            f"{self.url}/v1/status/{instance_id}",
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
            timeout=5,
        ).status_code

    def stop(self) -> int:
        self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=60)
