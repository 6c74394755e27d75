"""`quota-sentinel start` restarts whatever dies: its embedded Redis (data kept), and any
child, saying so in its log; the worker and scheduler ride out the gap without a restart."""

from __future__ import annotations

from pathlib import Path

import psutil
import requests

from tests.resilience.cluster import wait_for
from tests.switcher.sentinel import Sentinel
from tests.upstreams.zai import ZaiFake

KEY = "zai-supervisor-key"


def _children(server: Sentinel) -> dict[str, psutil.Process]:
    found = {}
    for proc in psutil.Process(server.process.pid).children():
        line = " ".join(proc.cmdline())
        for name in ("redis-server", "gunicorn", "worker", "scheduler"):
            if name in line:
                found[name] = proc
    return found


def _health(server: Sentinel) -> dict:
    response = requests.get(server.url + "/v1/health", timeout=5)
    return response.json() if response.status_code == 200 else {}


def test_start_restarts_a_dead_embedded_redis_and_a_dead_child(tmp_path: Path):
    with ZaiFake(KEY) as zai:
        server = Sentinel(tmp_path / "data", {"QUOTA_SENTINEL_ZAI_BASE_URL": zai.url})
        try:
            wait_for("start to answer", lambda: _health(server), 60)
            body = {
                "project_name": "sup",
                "auth": {"opencode_auth": {"zai-coding-plan": {"key": KEY}}},
            }
            reg = requests.post(server.url + "/v1/instances", json=body, timeout=10).json()
            wait_for("a first poll", lambda: zai.calls, 60)
            before = _children(server)
            assert set(before) == {"redis-server", "gunicorn", "worker", "scheduler"}

            before["redis-server"].kill()  # SIGKILL: no shutdown save
            wait_for(
                "the supervisor to restart Redis",
                lambda: "embedded Redis is back" in server.log.read_text(),
                60,
            )
            log = server.log.read_text()
            assert "the embedded Redis exited (code -9); restarting it" in log
            after = _children(server)
            assert after["redis-server"].pid != before["redis-server"].pid
            # The others waited for it; none was restarted.
            for name in ("gunicorn", "worker", "scheduler"):
                assert after[name].pid == before[name].pid, name
            # Nothing was lost, and polls go on.
            response = requests.get(
                server.url + "/v1/providers", headers={"X-API-Key": reg["api_key"]}, timeout=10
            )
            assert response.status_code == 200 and "zai" in response.json()
            calls = zai.calls
            requests.post(
                server.url + "/v1/poll", headers={"X-API-Key": reg["api_key"]}, timeout=10
            )
            wait_for("a poll after the restart", lambda: zai.calls > calls, 60)
            wait_for("the scheduler ticking again", lambda: _health(server).get("status") == "ok")

            after["scheduler"].kill()
            wait_for(
                "the supervisor to restart the scheduler",
                lambda: "scheduler exited (code -9); restarting it" in server.log.read_text(),
                60,
            )
            wait_for("a new scheduler", lambda: _children(server).get("scheduler") is not None, 30)
            assert _children(server)["scheduler"].pid != after["scheduler"].pid
        finally:
            code = server.stop()
        assert code == 0, server.log.read_text()[-3000:]
