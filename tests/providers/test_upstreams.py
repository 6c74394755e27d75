"""The fakes themselves, which other tests rely on (failure modes: test_every_provider.py)."""

from __future__ import annotations

import pytest
import requests

from tests.upstreams.server import FakeUpstream, Reply
from tests.upstreams.zai import QUOTA_PATH, ZaiFake


def test_unknown_failure_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown failure mode"):
        ZaiFake().fail("teapot")


def test_zai_fake_accepts_raw_and_bearer_keys() -> None:
    with ZaiFake("zai-test-key") as zai_fake:
        for header in ("zai-test-key", "Bearer zai-test-key", ""):
            answer = requests.get(
                zai_fake.url + QUOTA_PATH, headers={"Authorization": header}, timeout=2
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
