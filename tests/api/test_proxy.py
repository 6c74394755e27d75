"""QUOTA_SENTINEL_TRUST_PROXY: the client address behind trusted proxies."""

from __future__ import annotations

import pytest

from quota_sentinel.app import create_app
from quota_sentinel.config import Settings
from quota_sentinel.services.context import Context
from tests.factories import registration


@pytest.fixture
def client_for(env: dict[str, str]):
    """`client_for(**env)`: a test client of an app allowing one registration a minute."""
    contexts: list[Context] = []

    def build(**extra: str):
        settings = Settings.from_env({**env, "QUOTA_SENTINEL_REGISTER_RATE": "1", **extra})
        contexts.append(Context.build(settings))
        return create_app(settings, contexts[-1]).test_client()

    yield build
    for context in contexts:
        context.close()


def _register_from(client, address: str) -> int:
    response = client.post(
        "/v1/instances", json=registration(), headers={"X-Forwarded-For": address}
    )
    return response.status_code


@pytest.mark.usefixtures("redis_client")
def test_behind_a_trusted_proxy_each_client_has_its_own_rate_limit(client_for):
    client = client_for(QUOTA_SENTINEL_TRUST_PROXY="1")
    assert _register_from(client, "203.0.113.7") == 201
    assert _register_from(client, "2001:db8::9") == 201
    assert _register_from(client, "203.0.113.7") == 429


@pytest.mark.usefixtures("redis_client")
def test_forwarded_headers_are_ignored_unless_a_proxy_is_trusted(client_for):
    client = client_for()
    assert _register_from(client, "203.0.113.7") == 201
    assert _register_from(client, "198.51.100.2") == 429
