"""Worker test fixtures beside the shared provider fakes of tests/conftest.py: `dev_fake` (the
README's fake, both providers on one port) and `short_http_timeout`. Both change `env`; the root
`settings` fixture is built after them (ENV_FIXTURES there)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.upstreams.serve import DevServer
from tests.workers.support import SHORT_HTTP_TIMEOUT_S


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
