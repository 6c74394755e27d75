"""Worker test fixtures: provider fakes on loopback wired into the settings, whatever the order.

`zai`, `deepseek` and `dev_fake` (both providers on one port) start a fake and point
QUOTA_SENTINEL_<PROVIDER>_BASE_URL at it; `short_http_timeout` lowers
QUOTA_SENTINEL_HTTP_TIMEOUT. They all mutate `env`, so they must run before `settings` reads
it: the `settings` override below instantiates every such fixture the test uses first, so a
test may list its fixtures in any order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import redis

from quota_sentinel.config import Settings
from tests.upstreams.claude import ClaudeFake
from tests.upstreams.deepseek import DeepSeekFake
from tests.upstreams.serve import DevServer
from tests.upstreams.zai import ZaiFake
from tests.workers.support import DEEPSEEK_KEY, SHORT_HTTP_TIMEOUT_S, ZAI_KEY

# Fixtures that change `env`; `settings` is built after them.
ENV_FIXTURES = ("zai", "deepseek", "claude", "dev_fake", "short_http_timeout")


@pytest.fixture
def zai(env: dict[str, str]) -> Iterator[ZaiFake]:
    """A started Z.ai fake accepting ZAI_KEY, reached through QUOTA_SENTINEL_ZAI_BASE_URL."""
    with ZaiFake(ZAI_KEY) as fake:
        env["QUOTA_SENTINEL_ZAI_BASE_URL"] = fake.url
        yield fake


@pytest.fixture
def claude(env: dict[str, str]) -> Iterator[ClaudeFake]:
    """A started Claude fake serving both the usage and the token endpoint."""
    with ClaudeFake() as fake:
        env["QUOTA_SENTINEL_CLAUDE_BASE_URL"] = fake.url
        env["QUOTA_SENTINEL_CLAUDE_OAUTH_BASE_URL"] = fake.url
        yield fake


@pytest.fixture
def deepseek(env: dict[str, str]) -> Iterator[DeepSeekFake]:
    """A started DeepSeek fake (balance 10 USD) accepting DEEPSEEK_KEY."""
    with DeepSeekFake(DEEPSEEK_KEY) as fake:
        env["QUOTA_SENTINEL_DEEPSEEK_BASE_URL"] = fake.url
        yield fake


@pytest.fixture
def dev_fake(env: dict[str, str], clock: Callable[[], float]) -> Iterator[DevServer]:
    """The README's dev fake (both providers on one port) on a free port, on the test clock."""
    with DevServer(port=0, clock=clock) as server:
        env["QUOTA_SENTINEL_ZAI_BASE_URL"] = server.url
        env["QUOTA_SENTINEL_DEEPSEEK_BASE_URL"] = server.url
        yield server


@pytest.fixture
def short_http_timeout(env: dict[str, str]) -> float:
    """Provider calls time out after SHORT_HTTP_TIMEOUT_S (for the hang tests)."""
    env["QUOTA_SENTINEL_HTTP_TIMEOUT"] = str(SHORT_HTTP_TIMEOUT_S)
    return SHORT_HTTP_TIMEOUT_S


@pytest.fixture
def settings(
    env: dict[str, str], redis_client: redis.Redis, request: pytest.FixtureRequest
) -> Settings:
    """The conftest `settings`, built only after the env-changing fixtures of the test."""
    for name in ENV_FIXTURES:
        if name in request.fixturenames:
            request.getfixturevalue(name)
    return Settings.from_env(env)
