"""The embedded Redis keeps everything across a restart (append-only file in the data dir)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from quota_sentinel.app import create_app
from quota_sentinel.config import Settings
from quota_sentinel.embedded import EmbeddedRedis
from quota_sentinel.services.context import Context
from tests.factories import key_header, register


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "persisted"


@pytest.fixture
def servers(data_dir: Path) -> Iterator[list[EmbeddedRedis]]:
    """Embedded servers started by the test; all stopped afterwards."""
    started: list[EmbeddedRedis] = []
    yield started
    for server in started:
        server.stop()


def _start(data_dir: Path, servers: list[EmbeddedRedis]) -> EmbeddedRedis:
    server = EmbeddedRedis(data_dir)
    server.start()
    servers.append(server)
    return server


def _app(server: EmbeddedRedis, data_dir: Path, secret_key: str):
    env = {
        "REDIS_URL": server.url,
        "QUOTA_SENTINEL_SECRET_KEY": secret_key,
        "QUOTA_SENTINEL_DATA_DIR": str(data_dir),
    }
    settings = Settings.from_env(env)
    context = Context.build(settings)
    return create_app(settings, context), context


def test_registration_survives_an_embedded_redis_restart(data_dir, servers):
    secret_key = Fernet.generate_key().decode()
    first = _start(data_dir, servers)
    app, context = _app(first, data_dir, secret_key)
    reg = register(app.test_client(), auth={"opencode_auth": {"zai": {"key": "zai-persist"}}})
    fp = context.store.instances.get(reg["instance_id"]).accounts["zai"]
    context.close()

    first.stop()
    assert (data_dir / "redis" / "appendonly.aof").is_file()
    assert (data_dir / "redis" / "appendonly.aof").stat().st_size > 0
    second = _start(data_dir, servers)
    app, context = _app(second, data_dir, secret_key)
    client = app.test_client()

    headers = key_header(reg["api_key"])
    status = client.get("/v1/status", headers=headers)
    assert status.status_code == 200
    assert status.get_json()["instance_id"] == reg["instance_id"]
    providers = client.get("/v1/providers", headers=headers).get_json()
    assert set(providers) == {"zai"}
    assert providers["zai"]["status"] == "UNKNOWN"
    assert context.vault.decrypt(context.store.accounts.get(fp).credentials) == {
        "key": "zai-persist"
    }
    assert context.store.due.due_at(fp) is not None
    context.close()
