"""`quota-sentinel start`: embedded Redis + web + worker + scheduler as supervised children."""

from __future__ import annotations

import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field

from quota_sentinel.config import Settings
from quota_sentinel.crypto import resolve_secret_key
from quota_sentinel.embedded import EmbeddedRedis
from quota_sentinel.errors import ConfigError

log = logging.getLogger(__name__)

STOP_TIMEOUT_S = 15.0
# A child that exited this many times within a minute is restarted after a pause, doubling
# from RESTART_BACKOFF_S up to RESTART_BACKOFF_CAP_S.
RESTARTS_BEFORE_BACKOFF = 3
RESTART_BACKOFF_S = 2.0
RESTART_BACKOFF_CAP_S = 30.0


@dataclass
class Child:
    """One supervised process, restarted whenever it dies."""

    name: str
    argv: list[str]
    process: subprocess.Popen | None = None
    restarts: list[float] = field(default_factory=list)
    not_before: float = 0.0  # monotonic time before which it is not restarted

    def note_exit(self) -> float:
        """Counts an exit; returns how long to wait before restarting (0: at once)."""
        now = time.monotonic()
        self.restarts = [t for t in self.restarts if now - t < 60] + [now]
        extra = len(self.restarts) - RESTARTS_BEFORE_BACKOFF
        if extra <= 0:
            return 0.0
        return min(RESTART_BACKOFF_S * 2 ** (extra - 1), RESTART_BACKOFF_CAP_S)

    def spawn(self, env: dict[str, str]) -> None:
        # Own session: a Ctrl-C reaches only the supervisor, which stops children in order.
        self.process = subprocess.Popen(self.argv, env=env, start_new_session=True)
        log.info("started %s (pid %s)", self.name, self.process.pid)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        if not self.alive():
            return
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            log.warning("%s did not stop in %.0f s; killing it", self.name, STOP_TIMEOUT_S)
            self.process.kill()
            self.process.wait()


def check_port_free(host: str, port: int) -> None:
    """Fails fast, with a sentence, when something already listens on host:port."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            raise ConfigError(
                f"{host}:{port} is already in use; stop what runs there or pass --port "
                "(QUOTA_SENTINEL_PORT)."
            ) from None


# gunicorn's sync worker closes the connection after every request; the threaded worker keeps
# keep-alive connections open (idle ones wait in its poller, not in a thread) and overlaps the
# Redis round trips of WEB_THREADS requests per process. One definition for `start`, `web`, the
# Dockerfile (which runs `start`) and fly.toml (which runs `web`).
WEB_WORKERS = 2
WEB_THREADS = 8
KEEP_ALIVE_S = 5


def gunicorn_argv(
    host: str, port: int, web_workers: int = WEB_WORKERS, access_log: bool = False
) -> list[str]:
    """The gunicorn command line serving the API on host:port.

    No access log unless asked (QUOTA_SENTINEL_ACCESS_LOG): gunicorn formats and writes a line
    per request under the worker's lock, which halves what a worker answers per second. No
    `--max-requests` either: recycling a worker every 10,000 requests re-imported the app every
    few seconds under load, each time stalling the requests queued on it.
    """
    bind = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    access = ["--access-logfile", "-"] if access_log else []
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "quota_sentinel.app:create_app()",
        "--bind",
        bind,
        "--workers",
        str(web_workers),
        "--worker-class",
        "gthread",
        "--threads",
        str(WEB_THREADS),
        "--keep-alive",
        str(KEEP_ALIVE_S),
        *access,
        "--error-logfile",
        "-",
        "--graceful-timeout",
        "10",
        *_no_control_socket(),
    ]


def _no_control_socket() -> list[str]:
    """gunicorn >= 25.1 opens a control socket at ~/.gunicorn/gunicorn.ctl by default: a file in
    the user's home, and one path that every server started from that home fights over. We never
    use it; older gunicorn has no such socket and no flag."""
    from gunicorn.config import KNOWN_SETTINGS

    if any(setting.name == "control_socket_disable" for setting in KNOWN_SETTINGS):
        return ["--no-control-socket"]
    return []


def children(settings: Settings, web_workers: int) -> list[Child]:
    py = sys.executable
    web = gunicorn_argv(settings.host, settings.port, web_workers, settings.access_log)
    return [
        Child("web", web),
        Child("worker", [py, "-m", "quota_sentinel", "worker"]),
        Child("scheduler", [py, "-m", "quota_sentinel", "scheduler"]),
    ]


class Supervisor:
    def __init__(self, settings: Settings, web_workers: int = WEB_WORKERS) -> None:
        self.settings = settings
        self.web_workers = web_workers
        self.redis: EmbeddedRedis | None = None
        self.children: list[Child] = []
        self.metrics_dir: str | None = None
        self._stopping = False
        self._redis_not_before = 0.0

    def _request_stop(self, signum: int, frame: object) -> None:
        self._stopping = True

    def _child_env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["QUOTA_SENTINEL_SECRET_KEY"] = resolve_secret_key(self.settings)
        if self.redis is not None:
            env["REDIS_URL"] = self.redis.url
        if self.metrics_dir is not None:
            # gunicorn's web processes add up their HTTP metrics here; a fresh folder per run,
            # so counters start from zero like the processes do.
            env["PROMETHEUS_MULTIPROC_DIR"] = self.metrics_dir
        env.setdefault("PYTHONUNBUFFERED", "1")
        return env

    def run(self) -> int:
        """Starts everything, watches the children, stops all on SIGINT/SIGTERM.

        Returns:
            the exit code: 0 after a requested stop.
        """
        check_port_free(self.settings.host, self.settings.port)
        resolve_secret_key(self.settings)  # refuses early: REDIS_URL without a secret key
        signal.signal(signal.SIGINT, self._request_stop)
        signal.signal(signal.SIGTERM, self._request_stop)
        code = 0
        try:
            if self.settings.embedded:
                self.redis = EmbeddedRedis(self.settings.data_dir)
                self.redis.start()
            self.metrics_dir = tempfile.mkdtemp(prefix="qs-metrics-")
            env = self._child_env()
            self.children = children(self.settings, self.web_workers)
            for child in self.children:
                child.spawn(env)
            log.info(
                "quota-sentinel serving on http://%s:%s (Ctrl-C stops everything)",
                self.settings.host,
                self.settings.port,
            )
            code = self._watch(env)
        finally:
            self._shutdown()
        return code

    def _watch(self, env: dict[str, str]) -> int:
        """Restarts whatever dies — the embedded Redis first, then any child — and says so.

        A child that keeps dying is restarted less and less often (RESTART_BACKOFF_S, doubling
        up to RESTART_BACKOFF_CAP_S), never given up on: the worker and scheduler wait out a
        Redis outage themselves, and the web answers 503 meanwhile.
        """
        while not self._stopping:
            time.sleep(0.2)
            if self.redis is not None and not self._stopping:
                self._keep_redis()
            for child in self.children:
                if self._stopping or child.alive():
                    continue
                if child.not_before:  # a restart is pending
                    if time.monotonic() >= child.not_before:
                        child.not_before = 0.0
                        child.spawn(env)
                    continue
                rc = child.process.returncode if child.process else None
                delay = child.note_exit()
                log.warning(
                    "%s exited (code %s); restarting it%s",
                    child.name,
                    rc,
                    f" in {delay:.0f} s" if delay else "",
                )
                if delay:
                    child.not_before = time.monotonic() + delay
                else:
                    child.spawn(env)
        return 0

    def _keep_redis(self) -> None:
        """Starts the embedded Redis again (same data dir and socket) if it died."""
        assert self.redis is not None
        process = self.redis.process
        if process is not None and process.poll() is None:
            return
        if time.monotonic() < self._redis_not_before:
            return
        rc = process.returncode if process is not None else None
        log.error("the embedded Redis exited (code %s); restarting it", rc)
        try:
            self.redis.start()
        except ConfigError as exc:
            self._redis_not_before = time.monotonic() + RESTART_BACKOFF_CAP_S
            log.error("%s Trying again in %.0f s.", exc.message, RESTART_BACKOFF_CAP_S)
            return
        log.warning("the embedded Redis is back; the web, worker and scheduler reconnect")

    def _shutdown(self) -> None:
        # Web first (no new requests), then the scheduler, then the worker finishes its job;
        # Redis last, so everything above it can still write on the way out.
        for name in ("web", "scheduler", "worker"):
            for child in self.children:
                if child.name == name:
                    child.stop()
        if self.redis is not None:
            self.redis.stop()
        if self.metrics_dir is not None:
            shutil.rmtree(self.metrics_dir, ignore_errors=True)
        log.info("stopped")
