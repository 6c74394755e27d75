"""How long a Claude Code hook makes Claude Code wait: fresh, from the cache with the sentinel
down (connection refused), and with a sentinel that accepts and never answers (slow).

Starts `quota-sentinel start` on a free port with a temporary data dir and a Claude fake, installs
the hooks in a temporary project (temp HOME), fills the cache with one session start, then runs
the installed UserPromptSubmit command N times in each situation, the way Claude Code runs it
(a shell, the event as JSON on stdin). `python -c pass` is measured alongside as the floor.

    .venv/bin/python bench/hook_latency.py [--runs 10]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.agents.support import make_claude_project  # noqa: E402
from tests.upstreams.claude import ClaudeFake  # noqa: E402
from tests.waiting import http_ok, wait_until  # noqa: E402


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _timed(command: str, env: dict[str, str], payload: str, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run(
            command, shell=True, input=payload, env=env, capture_output=True, text=True
        )
        times.append(time.perf_counter() - start)
        assert done.returncode == 0, done.stderr
    return times


def _line(name: str, times: list[float], floor: float) -> str:
    median = statistics.median(times)
    return (
        f"{name:<34} median {median * 1000:6.0f} ms  max {max(times) * 1000:6.0f} ms  "
        f"({median / floor:.1f}× python -c pass)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    runs = parser.parse_args().runs
    work = Path(tempfile.mkdtemp(prefix="qs-bench-"))
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    with ClaudeFake() as fake:
        env = {
            **os.environ,
            "QUOTA_SENTINEL_DATA_DIR": str(work / "server"),
            "QUOTA_SENTINEL_CLAUDE_BASE_URL": fake.url,
            "QUOTA_SENTINEL_CLAUDE_OAUTH_BASE_URL": fake.url,
        }
        server = subprocess.Popen(
            [sys.executable, "-m", "quota_sentinel", "start", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_until(lambda: http_ok(url + "/v1/health"), timeout=60, what="the server")
            project = make_claude_project(work, fake.access_token, url)
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "quota_sentinel",
                    "install",
                    "claude-code",
                    "--project",
                    str(project.dir),
                    "--no-autostart",
                ],
                env={**os.environ, **project.env},
                check=True,
                capture_output=True,
            )
            hook_env = {**project.env, "QUOTA_SENTINEL_HOOK_TIMEOUT": "0.5"}
            command = project.commands()["UserPromptSubmit"]
            payload = json.dumps({"cwd": str(project.dir), "prompt": "hi"})
            project.run("SessionStart", {"source": "startup"})  # fills the cache
            floor = statistics.median(_timed(f"{sys.executable} -c pass", hook_env, "", runs))
            fresh = _timed(command, hook_env, payload, runs)
        finally:
            server.send_signal(signal.SIGINT)
            server.wait(timeout=60)
        down = _timed(command, hook_env, payload, runs)
        with socket.socket() as silent:
            silent.bind(("127.0.0.1", 0))
            silent.listen(64)
            slow_env = {
                **hook_env,
                "QUOTA_SENTINEL_URL": f"http://127.0.0.1:{silent.getsockname()[1]}",
            }
            slow = _timed(command, slow_env, payload, runs)
    print(f"python -c pass: median {floor * 1000:.0f} ms ({runs} runs each)")
    print(_line("UserPromptSubmit, sentinel up", fresh, floor))
    print(_line("UserPromptSubmit, sentinel down", down, floor))
    print(_line("UserPromptSubmit, sentinel silent", slow, floor))
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
