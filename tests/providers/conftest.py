"""Provider test fixtures: started fake upstreams, Settings pointing at them, HTTP factories."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from quota_sentinel.config import Settings
from quota_sentinel.providers.http import ClientFactory
from tests.upstreams.deepseek import DeepSeekFake
from tests.upstreams.server import FakeUpstream
from tests.upstreams.zai import ZaiFake

# Short enough that a failing test does not stall, long enough for a loaded CI machine.
TEST_HTTP_TIMEOUT_S = "2"


@pytest.fixture
def upstream() -> Iterator[FakeUpstream]:
    """A started FakeUpstream with no routes."""
    with FakeUpstream(name="generic") as fake:
        yield fake


@pytest.fixture
def zai_fake() -> Iterator[ZaiFake]:
    """A started Z.ai fake accepting the key "zai-test-key"."""
    with ZaiFake("zai-test-key") as fake:
        yield fake


@pytest.fixture
def deepseek_fake() -> Iterator[DeepSeekFake]:
    """A started DeepSeek fake accepting "sk-deepseek-test-0000abcd", balance 10 USD."""
    with DeepSeekFake("sk-deepseek-test-0000abcd") as fake:
        yield fake


@pytest.fixture
def make_settings() -> Callable[..., Settings]:
    """Build Settings whose base URLs point at fakes: `make_settings(zai=url, zai_cn=url)`."""

    def build(**base_urls: str) -> Settings:
        env = {f"QUOTA_SENTINEL_{name.upper()}_BASE_URL": url for name, url in base_urls.items()}
        env["QUOTA_SENTINEL_HTTP_TIMEOUT"] = TEST_HTTP_TIMEOUT_S
        return Settings.from_env(env)

    return build


@pytest.fixture
def http_for() -> Iterator[Callable[[str, Settings], ClientFactory]]:
    """`http_for(provider, settings)` → the `http` argument of fetch; closed after the test."""
    factories: list[ClientFactory] = []

    def build(provider: str, settings: Settings) -> ClientFactory:
        factory = ClientFactory(provider, settings)
        factories.append(factory)
        return factory

    yield build
    for factory in factories:
        factory.close()
