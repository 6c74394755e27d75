"""The provider fakes' failure modes as provider modules see them (other tests rely on them)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import requests

from quota_sentinel.config import Settings
from quota_sentinel.providers import deepseek, zai
from quota_sentinel.providers.base import (
    AuthFailed,
    BadPayload,
    ProviderError,
    RateLimitedUpstream,
    UpstreamUnavailable,
)
from tests.upstreams.deepseek import DEEPSEEK_FAILURE_MODES, DeepSeekFake
from tests.upstreams.provider_fake import FAILURE_MODES
from tests.upstreams.server import FakeUpstream, Reply
from tests.upstreams.zai import ZAI_FAILURE_MODES, ZaiFake

EXPECTED: dict[str, type[ProviderError]] = {
    "401": AuthFailed,
    "403": AuthFailed,
    "429": RateLimitedUpstream,
    "429_no_retry_after": RateLimitedUpstream,
    "500": UpstreamUnavailable,
    "502": UpstreamUnavailable,
    "503": UpstreamUnavailable,
    "html": BadPayload,
    "malformed": BadPayload,
    "empty": BadPayload,
    "hang": UpstreamUnavailable,
    "auth_envelope": AuthFailed,
    "error_envelope": ProviderError,
}


def test_every_mode_has_an_expectation() -> None:
    assert set(FAILURE_MODES) | set(ZAI_FAILURE_MODES) | set(DEEPSEEK_FAILURE_MODES) <= set(
        EXPECTED
    )


@pytest.mark.parametrize("mode", ZAI_FAILURE_MODES)
def test_zai_fake_failure_modes(
    mode: str, make_settings: Callable[..., Settings], http_for
) -> None:
    with ZaiFake("k") as fake:
        settings = make_settings(zai=fake.url).replace(http_timeout_s=0.3)
        fake.fail(mode, hang_s=3.0)
        with pytest.raises(EXPECTED[mode]):
            zai.fetch({"key": "k"}, {}, http_for("zai", settings), {}, 0.0)
        fake.ok()
        assert "5h" in zai.fetch({"key": "k"}, {}, http_for("zai", settings), {}, 0.0).windows


@pytest.mark.parametrize("mode", DEEPSEEK_FAILURE_MODES)
def test_deepseek_fake_failure_modes(
    mode: str, make_settings: Callable[..., Settings], http_for
) -> None:
    with DeepSeekFake("k") as fake:
        settings = make_settings(deepseek=fake.url).replace(http_timeout_s=0.3)
        fake.fail(mode, hang_s=3.0)
        with pytest.raises(EXPECTED[mode]):
            deepseek.fetch({"key": "k"}, {}, http_for("deepseek", settings), {}, 0.0)


def test_unknown_failure_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown failure mode"):
        ZaiFake().fail("teapot")


def test_zai_fake_accepts_raw_and_bearer_keys(zai_fake: ZaiFake) -> None:
    for header in ("zai-test-key", "Bearer zai-test-key", ""):
        answer = requests.get(
            zai_fake.url + "/api/monitor/usage/quota/limit",
            headers={"Authorization": header},
            timeout=2,
        )
        assert answer.status_code == 200
        assert answer.json()["success"] is bool(header)


def test_scripted_replies_queue_up_and_reset(upstream: FakeUpstream) -> None:
    upstream.route("GET", "/x", lambda request: Reply(json="handler"))
    upstream.script("/x", json="always")
    upstream.script("/x", json="first", times=1)
    upstream.script("/x", json="second", times=1)
    with requests.Session() as session:
        seen = [session.get(upstream.url + "/x", timeout=2).json() for _ in range(4)]
        upstream.reset("/x")
        seen.append(session.get(upstream.url + "/x", timeout=2).json())
    assert seen == ["first", "second", "always", "always", "handler"]
    assert upstream.count("/x") == 5 and upstream.count("/y") == 0
