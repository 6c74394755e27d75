"""Auto-start: a silent loopback URL gets a detached `quota-sentinel start` that outlives the
switcher, with its pid file and log in the data directory."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import requests

from tests.switcher.sentinel import base_env, free_port
from tests.switcher.support import copy_fixture, fixture_bytes


def _stop(pid: int) -> None:
    """Stops the server the switcher started (by its pid only) and waits until it is gone."""
    try:
        server = psutil.Process(pid)
        server.send_signal(signal.SIGTERM)
    except psutil.NoSuchProcess:
        return
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if server.status() == psutil.STATUS_ZOMBIE:
                return
        except psutil.NoSuchProcess:
            return
        time.sleep(0.1)
    server.kill()


def test_a_silent_loopback_url_gets_a_detached_server(tmp_path: Path):
    data = Path(tempfile.mkdtemp(prefix="qs-auto-"))  # short: the redis socket path is short
    project = tmp_path / "project"
    project.mkdir()
    config = copy_fixture("top-level-only.json", project, "opencode.json")
    url = f"http://127.0.0.1:{free_port()}"
    env = {**base_env(data), "HOME": str(tmp_path), "PATH": os.defpath}
    try:
        done = subprocess.run(
            [sys.executable, "-m", "quota_sentinel.switcher", str(config), "--once", "--json"]
            + ["--sentinel-url", url],
            env=env,
            capture_output=True,
            text=True,
            timeout=90,
        )
        assert done.returncode == 0, done.stderr
        started = json.loads(done.stdout)["server_started"]
        pid = int((data / "server.pid").read_text())
        assert started == {"pid": pid, "log": str(data / "server.log"), "url": url}
        assert requests.get(url + "/v1/health", timeout=5).status_code == 200  # still serving
        assert os.getsid(pid) == pid  # its own session: a Ctrl-C at the switcher spares it
        assert "quota-sentinel serving on" in (data / "server.log").read_text()
        assert config.read_bytes() == fixture_bytes("top-level-only.json")
    finally:
        if (data / "server.pid").exists():
            _stop(int((data / "server.pid").read_text()))
        shutil.rmtree(data, ignore_errors=True)
