"""Dashboard fixtures: the provider fakes (a second Z.ai on the China host), the admin token,
and the app served over real HTTP on loopback for a real browser."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.dashboard.live import serving
from tests.dashboard.scenario import ADMIN_TOKEN, ZAI_CN_KEY
from tests.upstreams.zai import ZaiFake, zai_upstream


@pytest.fixture
def zai_cn_fake(env: dict[str, str]) -> Iterator[ZaiFake]:
    """A Z.ai fake for the China host (`zhipu-coding-plan` keys); request it before `client`."""
    fake = zai_upstream(ZAI_CN_KEY, level="lite")
    env["QUOTA_SENTINEL_ZAI_CN_BASE_URL"] = fake.url
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def admin(env: dict[str, str]) -> str:
    """Configures the admin token (request it before `client`)."""
    env["QUOTA_SENTINEL_ADMIN_TOKEN"] = ADMIN_TOKEN
    return ADMIN_TOKEN


@pytest.fixture
def live_url(app) -> Iterator[str]:
    """The app served over real HTTP on 127.0.0.1, in a thread, for the browser."""
    with serving(app) as url:
        yield url
