"""Load benchmark of GET /v1/status: requests/s and latency percentiles with N connections.

Starts `quota-sentinel start` (embedded Redis, gunicorn with --web-workers) on a free port with a
temporary data dir and a fake Z.ai upstream, registers one instance, waits for its first poll,
then drives GET /v1/status from N client threads (one keep-alive session each) for a fixed time.

    .venv/bin/python bench/status_load.py [--connections 16] [--seconds 20] [--web-workers 2]

The client runs on the same machine as the server, so on a small machine both compete for the
CPU: read the numbers as a baseline to compare changes against, not as capacity.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.upstreams.zai import ZaiFake  # noqa: E402


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait(url: str, timeout_s: float = 40) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if requests.get(url + "/v1/health", timeout=1).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    raise SystemExit("server did not start")


def _drive(url: str, key: str, stop_at: float, latencies: list[float], errors: list[int]) -> None:
    session = requests.Session()
    session.headers["X-API-Key"] = key
    while time.monotonic() < stop_at:
        start = time.perf_counter()
        response = session.get(url + "/v1/status", timeout=10)
        latencies.append(time.perf_counter() - start)
        if response.status_code != 200:
            errors.append(response.status_code)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--web-workers", type=int, default=2)
    args = parser.parse_args()

    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="qs-bench-") as data, ZaiFake("bench-key") as fake:
        env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
        env.update(
            QUOTA_SENTINEL_DATA_DIR=data,
            QUOTA_SENTINEL_ZAI_BASE_URL=fake.url,
            QUOTA_SENTINEL_LOG_LEVEL="WARNING",
        )
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "quota_sentinel",
                "start",
                "--port",
                str(port),
                "--web-workers",
                str(args.web_workers),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            _wait(url)
            body = {
                "project_name": "bench",
                "auth": {"opencode_auth": {"zai": {"key": "bench-key"}}},
            }
            key = requests.post(url + "/v1/instances", json=body, timeout=5).json()["api_key"]
            requests.post(url + "/v1/poll", headers={"X-API-Key": key}, timeout=5)
            for _ in range(50):
                status = requests.get(url + "/v1/status", headers={"X-API-Key": key}).json()
                if status["overall_status"] != "UNKNOWN":
                    break
                time.sleep(0.2)
            latencies: list[float] = []
            errors: list[int] = []
            stop_at = time.monotonic() + args.seconds
            threads = [
                threading.Thread(target=_drive, args=(url, key, stop_at, latencies, errors))
                for _ in range(args.connections)
            ]
            began = time.monotonic()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            elapsed = time.monotonic() - began
        finally:
            server.send_signal(signal.SIGINT)
            server.wait(timeout=60)
    ms = sorted(x * 1000 for x in latencies)
    p = lambda q: ms[min(len(ms) - 1, int(q * len(ms)))]  # noqa: E731
    print(
        f"GET /v1/status, {args.connections} connections, {args.web_workers} web workers, "
        f"{elapsed:.1f} s: {len(ms)} requests, {len(ms) / elapsed:.0f} req/s, "
        f"p50 {p(0.50):.1f} ms, p90 {p(0.90):.1f} ms, p99 {p(0.99):.1f} ms, "
        f"mean {statistics.fmean(ms):.1f} ms, errors {len(errors)}"
    )


if __name__ == "__main__":
    main()
