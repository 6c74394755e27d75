"""Provider test fixtures: fake upstreams, Settings pointing at them, HTTP factories.

`fake`, `poll` and `poll_of` serve the test module's provider, described by its module-level
`CASE` (a support.ProviderCase).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from quota_sentinel.config import Settings
from quota_sentinel.providers.http import ClientFactory
from tests.providers.support import Poll, Poller, ProviderCase
from tests.upstreams.provider_fake import ProviderFake
from tests.upstreams.server import FakeUpstream

# Short enough that a failing test does not stall, long enough for a loaded CI machine.
TEST_HTTP_TIMEOUT_S = "2"


@pytest.fixture
def upstream() -> Iterator[FakeUpstream]:
    """A started FakeUpstream with no routes."""
    with FakeUpstream(name="generic") as fake:
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


@pytest.fixture
def case(request: pytest.FixtureRequest) -> ProviderCase:
    """The test module's provider: its module-level `CASE`."""
    return request.module.CASE


@pytest.fixture
def fake(case: ProviderCase) -> Iterator[ProviderFake]:
    """A started fake of the module's provider, accepting its planted credentials."""
    with case.fake() as started:
        yield started


@pytest.fixture
def poller(
    make_settings: Callable[..., Settings], http_for: Callable[[str, Settings], ClientFactory]
) -> Poller:
    """`poller(case, started_fake, **changes)`: a `poll` of `case`'s provider against the fake,
    through Settings pointing at it with `.replace(**changes)` (e.g. http_timeout_s)."""

    def build(case: ProviderCase, fake: ProviderFake, **changes: object) -> Poll:
        settings = make_settings(**case.base_urls(fake.url)).replace(**changes)
        return case.poller(http_for(case.name, settings))

    return build


@pytest.fixture
def poll_of(case: ProviderCase, poller: Poller) -> Callable[[ProviderFake], Poll]:
    """`poll_of(started_fake)`: a `poll` of the module's provider against that fake."""
    return lambda fake: poller(case, fake)


@pytest.fixture
def poll(fake: ProviderFake, poll_of: Callable[[ProviderFake], Poll]) -> Poll:
    """`poll(credential=None, *, now=NOW, state=None, **options)`: one fetch against `fake`."""
    return poll_of(fake)
