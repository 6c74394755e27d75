"""Patient clients (workers, schedulers) wait out a Redis outage, logging it once each way;
a stop request makes them give up."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

import pytest
import redis
from cryptography.fernet import Fernet

from quota_sentinel.config import Settings
from quota_sentinel.connection import OUTAGE, connect, stop_waiting
from tests.resilience.cluster import RedisServer


def _settings(server: RedisServer, tmp_path: Path) -> Settings:
    return Settings.from_env(
        {
            "REDIS_URL": server.url,
            "QUOTA_SENTINEL_SECRET_KEY": Fernet.generate_key().decode(),
            "QUOTA_SENTINEL_DATA_DIR": str(tmp_path / "data"),
        }
    )


@pytest.fixture
def server(tmp_path: Path):
    server = RedisServer(tmp_path / "redis")  # not started: Redis is down
    yield server
    if server.process is not None:
        server.kill()


def test_a_patient_client_waits_for_redis_and_logs_the_outage_once(server, tmp_path, caplog):
    client = connect(_settings(server, tmp_path), patient=True)
    starter = threading.Timer(4.0, server.start)
    starter.start()
    try:
        with caplog.at_level(logging.WARNING, logger="quota_sentinel.connection"):
            started = time.monotonic()
            assert client.set("k", "v")  # sent while Redis is down; answered once it is up
            waited = time.monotonic() - started
            assert client.get("k") == "v"
    finally:
        starter.join()
        client.close()
    assert waited >= 3.5
    lines = [r.getMessage() for r in caplog.records]
    assert sum("Redis is unreachable" in line for line in lines) == 1, lines
    assert sum("Redis is back after" in line for line in lines) == 1, lines


def test_a_stop_request_makes_a_waiting_client_give_up(server, tmp_path):
    client = connect(_settings(server, tmp_path), patient=True)
    threading.Timer(1.0, stop_waiting).start()
    try:
        with pytest.raises(redis.ConnectionError):
            client.ping()
    finally:
        OUTAGE.stopping.clear()  # this test process goes on
        client.close()
