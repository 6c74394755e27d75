"""The suite's own guards. The network guard (tests/netguard/): reaching beyond loopback is
refused here and in Python children, the test that did it fails by name, and loopback and Unix
sockets still work. The summary names skipped browser tests with the command that installs
Chromium."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import redis
import requests

from tests.dashboard.test_browser import BROWSER_SKIP
from tests.netguard.sitecustomize import ENV, NetworkGuardError, is_loopback
from tests.upstreams.server import FakeUpstream, Reply

ROOT = Path(__file__).resolve().parents[1]
# Addresses reserved for documentation (RFC 5737, RFC 3849) and a name that is not ours.
OUTSIDE = ("192.0.2.1", "2001:db8::1", "example.com")


@pytest.fixture
def report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """This test's refusals go to its own report, so the guard does not fail this test."""
    path = tmp_path / "guard.log"
    monkeypatch.setenv(ENV, str(path))
    return path


def test_loopback_names_and_addresses():
    for host in (
        "127.0.0.1",
        "127.1.2.3",
        "::1",
        "[::1]",
        "::ffff:127.0.0.1",
        "0.0.0.0",
        "localhost",
        None,
    ):
        assert is_loopback(host), host
    for host in OUTSIDE + ("10.0.0.1", "api.anthropic.com"):
        assert not is_loopback(host), host


def test_connections_and_lookups_beyond_loopback_are_refused_and_reported(report: Path):
    with socket.socket() as ipv4, pytest.raises(NetworkGuardError):
        ipv4.connect(("192.0.2.1", 443))
    with socket.socket(socket.AF_INET6) as ipv6, pytest.raises(NetworkGuardError):
        ipv6.connect_ex(("2001:db8::1", 443))
    with pytest.raises(NetworkGuardError):
        socket.create_connection(("192.0.2.1", 80), timeout=1)
    with pytest.raises(NetworkGuardError):
        socket.getaddrinfo("example.com", 443)
    with pytest.raises(requests.ConnectionError, match="network guard"):
        requests.get("https://api.anthropic.com/api/oauth/usage", timeout=1)
    lines = report.read_text().splitlines()
    assert [line.split(": ", 1)[1] for line in lines] == [
        "connect 192.0.2.1:443",
        "connect 2001:db8::1:443",
        "lookup 192.0.2.1",
        "lookup example.com",
        "lookup api.anthropic.com",
    ]


def test_loopback_and_unix_sockets_still_work(report: Path, redis_client: redis.Redis):
    with FakeUpstream() as upstream:
        upstream.route("GET", "/ping", lambda request: Reply(json={"ok": True}))
        assert requests.get(upstream.url + "/ping", timeout=10).json() == {"ok": True}
    assert redis_client.ping()  # the embedded Redis listens on a Unix socket
    left, right = socket.socketpair(socket.AF_UNIX)
    with left, right:
        left.sendall(b"x")
        assert right.recv(1) == b"x"
    assert not report.exists()


def test_a_python_child_is_guarded_too(report: Path):
    child = "import urllib.request; urllib.request.urlopen('http://example.com/', timeout=5)"
    done = subprocess.run(
        [sys.executable, "-c", child], env=os.environ, capture_output=True, text=True, timeout=90
    )
    assert done.returncode != 0
    assert "network guard" in done.stderr
    (line,) = report.read_text().splitlines()
    assert line.startswith("pid ") and line.endswith("lookup example.com")


INNER = textwrap.dedent(
    """
    import socket
    import threading


    def test_reaches_out_from_a_thread():
        refused = []

        def lookup():
            try:
                socket.getaddrinfo("example.com", 443)
            except OSError as exc:  # swallowed in the thread: the guard must still fail the test
                refused.append(exc)

        thread = threading.Thread(target=lookup)
        thread.start()
        thread.join()
        assert len(refused) == 1


    def test_stays_home():
        with socket.create_server(("127.0.0.1", 0)) as server:
            socket.create_connection(server.getsockname(), timeout=5).close()
    """
)


def _inner_pytest(tmp_path: Path, source: str, plugin: str) -> subprocess.CompletedProcess:
    """Runs `source` as a test file in its own pytest, with only `plugin` of ours loaded."""
    (tmp_path / "test_inner.py").write_text(source)
    env = {k: v for k, v in os.environ.items() if k != ENV}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", plugin, "-p", "no:cacheprovider"]
        + ["--rootdir", str(tmp_path), str(tmp_path / "test_inner.py")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_the_test_that_reached_out_fails_by_name(tmp_path: Path):
    done = _inner_pytest(tmp_path, INNER, "tests.netguard.plugin")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "test_inner.py::test_reaches_out_from_a_thread reached beyond loopback" in done.stdout
    assert "lookup example.com" in done.stdout
    assert "1 failed, 1 passed" in done.stdout


def test_skipped_browser_tests_are_named_in_the_summary_with_the_install_command(tmp_path):
    source = "import pytest\n\n\ndef test_page():\n    pytest.skip(tests_conftest_skip)\n"
    source = source.replace("tests_conftest_skip", repr(BROWSER_SKIP))
    done = _inner_pytest(tmp_path, source, "tests.conftest")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "browser tests skipped" in done.stdout
    assert "`sudo apt-get install chromium`" in done.stdout


def test_the_files_xdist_starts_first_exist():
    from tests.conftest import LONGEST_FIRST

    missing = [name for name in LONGEST_FIRST if not (ROOT / name).is_file()]
    assert not missing, f"tests/conftest.py LONGEST_FIRST names files that are gone: {missing}"


def test_each_xdist_worker_gets_a_db_of_its_own_on_a_given_redis_url():
    from tests.conftest import _worker_db_url

    assert _worker_db_url("redis://127.0.0.1:6379", 0) == "redis://127.0.0.1:6379/0"
    assert _worker_db_url("redis://127.0.0.1:6379/2", 3) == "redis://127.0.0.1:6379/5"
    assert _worker_db_url("rediss://:pw@127.0.0.1:6380/1", 1) == "rediss://:pw@127.0.0.1:6380/2"
    assert _worker_db_url("unix:///tmp/r.sock", 2) == "unix:///tmp/r.sock?db=2"
    assert _worker_db_url("unix:///tmp/r.sock?db=1", 2) == "unix:///tmp/r.sock?db=3"
