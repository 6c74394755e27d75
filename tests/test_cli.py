"""The `quota-sentinel` command: `start` as a real subprocess tree, and the HTTP client commands."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
import requests
from click.testing import CliRunner

from quota_sentinel.cli import main
from quota_sentinel.embedded import socket_path_for
from quota_sentinel.jobs import POLL_THREADS
from quota_sentinel.supervisor import gunicorn_argv
from tests.upstreams.deepseek import DeepSeekFake
from tests.upstreams.zai import ZaiFake
from tests.waiting import http_ok, wait_until

START_TIMEOUT_S = 120


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _base_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUOTA_SENTINEL_")}
    env.pop("REDIS_URL", None)
    env["QUOTA_SENTINEL_DATA_DIR"] = str(data_dir)
    return env


class Server:
    """`quota-sentinel start` in a subprocess, with its URL and its process tree."""

    def __init__(self, data_dir: Path, env: dict[str, str] | None = None) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**_base_env(data_dir), **(env or {})}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "quota_sentinel", "start", "--port", str(self.port)],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )

    def wait_healthy(self) -> None:
        wait_until(
            lambda: http_ok(self.url + "/v1/health"),
            timeout=START_TIMEOUT_S,
            what="a healthy `quota-sentinel start`",
            alive=self._alive,
        )

    def _alive(self) -> None:
        assert self.process.poll() is None, self.process.stdout.read().decode()

    def tree(self) -> list[psutil.Process]:
        return psutil.Process(self.process.pid).children(recursive=True)

    def interrupt(self) -> tuple[int, str]:
        self.process.send_signal(signal.SIGINT)
        out, _ = self.process.communicate(timeout=120)
        return self.process.returncode, out.decode()


def _running(processes: list[psutil.Process]) -> list[int]:
    """Pids of `processes` still running (zombies and vanished ones count as gone)."""
    alive = []
    for process in processes:
        try:
            if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
                alive.append(process.pid)
        except psutil.NoSuchProcess:
            pass
    return alive


@pytest.fixture
def zai_fake() -> Iterator[ZaiFake]:
    with ZaiFake("zai-cli-key") as fake:
        yield fake


def _assert_keeps_connections_open(port: int) -> None:
    """Several requests travel over one TCP connection (gunicorn's sync worker closes it)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.connect()
        first = conn.sock
        for _ in range(3):
            conn.request("GET", "/v1/health")
            response = conn.getresponse()
            response.read()
            assert response.status == 200
            assert response.getheader("Connection", "").lower() != "close"
            assert conn.sock is first
    finally:
        conn.close()


def test_start_serves_polls_and_one_sigint_stops_every_child(tmp_path: Path, zai_fake: ZaiFake):
    home = tmp_path / "home"  # where gunicorn >= 25.1 would put its control socket
    home.mkdir()
    env = {"QUOTA_SENTINEL_ZAI_BASE_URL": zai_fake.url, "HOME": str(home)}
    server = Server(tmp_path / "data", {**env, "XDG_RUNTIME_DIR": str(home)})
    try:
        server.wait_healthy()
        children = server.tree()
        names = " ".join(" ".join(p.cmdline()) for p in children)
        assert "redis-server" in names and "gunicorn" in names
        assert "worker" in names and "scheduler" in names
        _assert_keeps_connections_open(server.port)

        zai_fake.set_usage(five_hour=37, weekly=12)
        body = {
            "project_name": "cli",
            "auth": {"opencode_auth": {"zai-coding-plan": {"key": "zai-cli-key"}}},
        }
        reg = requests.post(server.url + "/v1/instances", json=body, timeout=5).json()
        headers = {"X-API-Key": reg["api_key"]}
        assert requests.post(server.url + "/v1/poll", headers=headers, timeout=5).status_code == 202

        def polled() -> dict | None:
            body = requests.get(server.url + "/v1/providers", headers=headers, timeout=10).json()
            return body if body["zai"]["status"] != "UNKNOWN" else None

        provider = wait_until(polled, timeout=60, what="a first Z.ai poll")
        assert provider["zai"]["status"] == "GREEN"
        assert provider["zai"]["windows"]["5h"]["utilization"] == 37
        assert not list(home.rglob("*")), "start writes in the user's home (gunicorn.ctl?)"

        runner = CliRunner()
        result = runner.invoke(main, ["health", "--url", server.url])
        assert result.exit_code == 0 and result.output.startswith(
            f"ok: redis ok, workers {POLL_THREADS}"
        )
        result = runner.invoke(main, ["status", "--url", server.url, "--api-key", reg["api_key"]])
        assert result.exit_code == 0, result.output
        assert "cli (opencode): PROCEED" in result.output
        assert "5h" in result.output and "GREEN" in result.output
        result = runner.invoke(
            main, ["status", "--url", server.url, "--api-key", reg["api_key"], "--json"]
        )
        assert '"recommendation": "PROCEED"' in result.output
    finally:
        code, output = server.interrupt()
    assert code == 0, output
    wait_until(lambda: not _running(children), timeout=30, what="every child gone")
    assert not socket_path_for(tmp_path / "data").parent.exists()  # socket and its folder gone
    assert "zai-cli-key" not in output and reg["api_key"] not in output


def _gunicorn_config(argv: list[str]):
    from gunicorn.config import Config

    assert argv[1:3] == ["-m", "gunicorn"]
    config = Config()
    parsed = config.parser().parse_args(argv[3:])  # exits on a flag this gunicorn lacks
    for name, value in vars(parsed).items():
        if value is not None and name in config.settings:
            config.set(name, value)
    return config


def test_gunicorn_accepts_our_command_line_and_opens_no_control_socket():
    config = _gunicorn_config(gunicorn_argv("127.0.0.1", 7878))
    assert config.worker_class_str == "gthread" and config.threads == 8
    if "control_socket_disable" in config.settings:
        assert config.settings["control_socket_disable"].get() is True


def test_gunicorn_writes_no_access_log_and_recycles_no_worker_unless_asked():
    quiet = _gunicorn_config(gunicorn_argv("127.0.0.1", 7878))
    assert quiet.accesslog is None
    assert quiet.max_requests == 0  # a worker is never restarted for its request count
    logged = _gunicorn_config(gunicorn_argv("127.0.0.1", 7878, access_log=True))
    assert logged.accesslog == "-"


def test_restart_keeps_registrations(tmp_path: Path):
    with DeepSeekFake("sk-keep") as deepseek:
        _restart_keeps_registrations(tmp_path, {"QUOTA_SENTINEL_DEEPSEEK_BASE_URL": deepseek.url})


def _restart_keeps_registrations(tmp_path: Path, env: dict[str, str]) -> None:
    first = Server(tmp_path / "data", env)
    try:
        first.wait_healthy()
        body = {"project_name": "keep", "auth": {"opencode_auth": {"deepseek": {"key": "sk-keep"}}}}
        reg = requests.post(first.url + "/v1/instances", json=body, timeout=5).json()
    finally:
        assert first.interrupt()[0] == 0
    assert (tmp_path / "data" / "redis" / "appendonly.aof").exists()
    second = Server(tmp_path / "data", env)
    try:
        second.wait_healthy()
        response = requests.get(
            second.url + "/v1/providers", headers={"X-API-Key": reg["api_key"]}, timeout=5
        )
        assert response.status_code == 200 and "deepseek" in response.json()
    finally:
        assert second.interrupt()[0] == 0


def test_start_refuses_redis_url_without_secret_key(tmp_path: Path):
    env = {**_base_env(tmp_path), "REDIS_URL": "redis://127.0.0.1:1/0"}
    result = subprocess.run(
        [sys.executable, "-m", "quota_sentinel", "start", "--port", str(_free_port())],
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert result.returncode == 1
    assert "QUOTA_SENTINEL_SECRET_KEY must be set" in result.stderr


def test_start_refuses_a_bad_setting_naming_it(tmp_path: Path):
    env = {**_base_env(tmp_path), "QUOTA_SENTINEL_POLL_INTERVAL": "5"}
    result = subprocess.run(
        [sys.executable, "-m", "quota_sentinel", "start"],
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert result.returncode == 1
    assert "QUOTA_SENTINEL_POLL_INTERVAL must be between 30" in result.stderr


def test_start_refuses_a_port_in_use(tmp_path: Path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "quota_sentinel", "start", "--port", str(port)],
            env=_base_env(tmp_path),
            capture_output=True,
            text=True,
            timeout=90,
        )
    assert result.returncode == 1
    assert f"127.0.0.1:{port} is already in use" in result.stderr


def test_client_commands_exit_2_when_nothing_answers():
    url = f"http://127.0.0.1:{_free_port()}"
    runner = CliRunner()
    for args in (["health", "--url", url], ["status", "--url", url, "--api-key", "qs_x"]):
        result = runner.invoke(main, args)
        assert result.exit_code == 2
        assert "nothing answers at" in result.output
