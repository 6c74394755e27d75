"""/v1/metrics through two real gunicorn web processes sharing one metrics folder (as gunicorn's
workers do): per-process HTTP counters add up, Redis-backed series agree on every process."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.factories import registration
from tests.waiting import http_ok, wait_until
from workers.ticking import enqueue_due_polls

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_healthy(url: str, process: subprocess.Popen) -> None:
    def running() -> None:
        assert process.poll() is None, "the web process exited"

    wait_until(lambda: http_ok(url + "/v1/health"), what=f"{url} healthy", alive=running)


@pytest.fixture
def two_web_processes(env: dict[str, str], settings, tmp_path: Path) -> Iterator[list[str]]:
    """Two gunicorn servers (one worker each) on the test Redis, one PROMETHEUS_MULTIPROC_DIR."""
    child_env = {k: v for k, v in os.environ.items() if not k.startswith("QUOTA_SENTINEL_")}
    child_env.update(env, PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics"))
    servers = []
    try:
        for _ in range(2):
            port = _free_port()
            argv = [sys.executable, "-m", "gunicorn", "wsgi:app", "--bind", f"127.0.0.1:{port}"]
            process = subprocess.Popen(
                [*argv, "--workers", "1", "--no-control-socket"],
                env=child_env,
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
            )
            servers.append((f"http://127.0.0.1:{port}", process))
        for url, process in servers:
            _wait_healthy(url, process)
        yield [url for url, _ in servers]
    finally:
        for _, process in servers:
            process.terminate()
        for _, process in servers:
            process.wait(timeout=30)


def _scrape(url: str) -> dict[tuple[str, tuple], float]:
    response = requests.get(url + "/v1/metrics", timeout=10)
    assert response.status_code == 200, response.text
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
    }


def _health_count(samples: dict[tuple[str, tuple], float]) -> float:
    return sum(
        v
        for (name, labels), v in samples.items()
        if name == "quota_sentinel_http_requests_total"
        and dict(labels)["route"] == "/v1/health"
        and dict(labels)["status"] == "200"
    )


def test_two_web_processes_add_up_http_counters_and_agree_on_redis_series(
    two_web_processes, zai, ctx, clock, drain, tmp_path: Path
):
    first, second = two_web_processes
    body = requests.post(first + "/v1/instances", json=registration(), timeout=10).json()
    clock.now = time.time()  # the web processes run on the real clock, registered just now
    zai.set_usage(five_hour=44, weekly=12)
    assert enqueue_due_polls() == 1 and drain() == 1
    before = _health_count(_scrape(first))

    for _ in range(5):
        assert requests.get(first + "/v1/health", timeout=10).status_code == 200
    for _ in range(7):
        assert requests.get(second + "/v1/health", timeout=10).status_code == 200
    from_first, from_second = _scrape(first), _scrape(second)

    # Both readings sum the counters of both processes (health checks while starting included).
    assert _health_count(from_first) - before == 12
    assert _health_count(from_second) == _health_count(from_first)
    assert len({p.name.split("_")[-1] for p in (tmp_path / "metrics").glob("counter_*.db")}) == 2
    windows = {k: v for k, v in from_first.items() if k[0].startswith("quota_sentinel_window_")}
    assert windows == {k: v for k, v in from_second.items() if k in windows}
    key = ("quota_sentinel_window_utilization_percent", "5h")
    assert [v for k, v in windows.items() if k[0] == key[0] and ("window", "5h") in k[1]] == [44]
    assert body["api_key"] not in str(from_first)


def test_quota_sentinel_web_gives_its_processes_a_fresh_metrics_folder(env, settings):
    child_env = {k: v for k, v in os.environ.items() if not k.startswith("QUOTA_SENTINEL_")}
    child_env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    child_env.update(env)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [sys.executable, "-m", "quota_sentinel", "web", "--port", str(port)],
        env=child_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_healthy(url, process)
        for _ in range(4):
            assert requests.get(url + "/v1/health", timeout=10).status_code == 200
        samples = _scrape(url)
        folder = Path(psutil.Process(process.pid).environ()["PROMETHEUS_MULTIPROC_DIR"])
    finally:
        process.terminate()
        process.wait(timeout=30)

    assert folder.name.startswith("qs-metrics-") and list(folder.glob("counter_*.db"))
    assert _health_count(samples) >= 5
