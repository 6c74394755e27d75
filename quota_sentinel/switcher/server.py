"""Reaching the quota-sentinel server, and starting one when the URL is loopback and silent.

An auto-started server is `quota-sentinel start` in its own session, detached from the switcher:
it keeps serving (other switchers, `quota-sentinel status`) after the switcher exits. Its pid
file and log live in the data directory (QUOTA_SENTINEL_DATA_DIR, else the platform's user
data directory, as for `start` itself).
"""

from __future__ import annotations

import ipaddress
import os
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import platformdirs

from quota_sentinel.client import Client, Unreachable
from quota_sentinel.switcher.errors import SwitcherError

START_WAIT_S = 60.0
PID_FILE = "server.pid"
LOG_FILE = "server.log"


@dataclass(frozen=True)
class Started:
    """A server the switcher started: its pid, its log file and its URL."""

    pid: int
    log: Path
    url: str
    process: subprocess.Popen[bytes] | None = field(default=None, compare=False, repr=False)


def data_dir(env: Mapping[str, str]) -> Path:
    """The server's data directory, as `quota-sentinel start` resolves it."""
    configured = env.get("QUOTA_SENTINEL_DATA_DIR", "").strip()
    if configured:
        return Path(configured).expanduser()
    return Path(platformdirs.user_data_dir("quota-sentinel"))


def is_loopback(url: str) -> bool:
    """True for http URLs on this machine only (127.0.0.0/8, ::1, localhost)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme != "http" or not host:
        return False
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def ensure_running(
    client: Client, autostart: bool, env: Mapping[str, str] | None = None
) -> Started | None:
    """Makes sure something answers at the client's URL.

    Returns:
        the server started here, or None when one was already answering.

    Raises:
        Unreachable: nothing answers and no server could (or may) be started.
    """
    try:
        client.health()
        return None
    except Unreachable:
        if not autostart:
            raise Unreachable(
                f"nothing answers at {client.url}; start the server with `quota-sentinel "
                "start`, or leave out --no-autostart to let the switcher start it."
            ) from None
        if not is_loopback(client.url):
            raise Unreachable(
                f"nothing answers at {client.url}, and only a server on this machine "
                "(an http://127.0.0.1 or localhost URL) can be started automatically."
            ) from None
    return start_server(client, dict(os.environ if env is None else env))


def _last_line(path: Path) -> str:
    try:
        lines = [ln for ln in path.read_text(errors="replace").splitlines() if ln.strip()]
    except OSError:
        return ""
    return lines[-1].strip() if lines else ""


def launch(url: str, env: Mapping[str, str]) -> Started:
    """Starts `quota-sentinel start` detached on the URL's host and port, and returns at once.

    Its output goes to the log file and its pid to the pid file, both in the data directory.
    """
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    directory = data_dir(env)
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)  # the server keeps it private
    log_path = directory / LOG_FILE
    argv = [sys.executable, "-m", "quota_sentinel", "start", "--host", host, "--port", str(port)]
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=dict(env),
            start_new_session=True,
            close_fds=True,
        )
    (directory / PID_FILE).write_text(f"{process.pid}\n")
    return Started(process.pid, log_path, url, process)


def start_server(client: Client, env: dict[str, str]) -> Started:
    """Starts `quota-sentinel start` detached on the URL's host and port; waits for health.

    Raises:
        SwitcherError: the server exited or did not become healthy in time.
    """
    started = launch(client.url, env)
    process, log_path = started.process, started.log
    assert process is not None
    deadline = time.monotonic() + START_WAIT_S
    exited_at: float | None = None
    while time.monotonic() < deadline:
        try:
            if client.health()[0] == 200:
                return started
        except Unreachable:
            pass
        if process.poll() is not None:
            # Another switcher may have started one at the same moment; give it a little time.
            exited_at = exited_at or time.monotonic()
            if time.monotonic() - exited_at > 3:
                raise SwitcherError(
                    f"`quota-sentinel start` exited (code {process.returncode}): "
                    f"{_last_line(log_path) or 'no output'}; see {log_path}."
                )
        time.sleep(0.2)
    raise SwitcherError(
        f"started quota-sentinel (pid {process.pid}) but it was not healthy after "
        f"{START_WAIT_S:.0f} s; see {log_path}."
    )
