"""A silent instance expires in real Redis time: its key stops working and GC forgets it."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator

import pytest

from quota_sentinel.app import create_app
from quota_sentinel.config import Settings
from quota_sentinel.services.context import Context
from tests.api.helpers import assert_envelope, heartbeat
from tests.factories import key_header, register
from workers import runtime
from workers.maintenance import reap_expired

# 0.05 × a 30 s poll interval = 1.5 s, rounded up to a 2 s TTL (Redis counts whole seconds).
HEARTBEAT_FACTOR = 0.05
POLL_INTERVAL_S = 30
TTL_S = math.ceil(HEARTBEAT_FACTOR * POLL_INTERVAL_S)


@pytest.fixture
def short_ctx(env, redis_client) -> Iterator[Context]:
    """A context on the real clock whose instances expire TTL_S seconds after a heartbeat."""
    settings = Settings.from_env(env).replace(heartbeat_factor=HEARTBEAT_FACTOR)
    context = Context.build(settings)
    runtime.install(context)
    yield context
    runtime.reset()
    context.close()


@pytest.fixture
def short_client(short_ctx):
    return create_app(short_ctx.settings, short_ctx).test_client()


def _wait_past(seconds: float) -> None:
    time.sleep(seconds + 0.5)


def test_silent_instance_key_expires(short_client, short_ctx, redis_client):
    reg = register(short_client, poll_interval=POLL_INTERVAL_S)
    headers = key_header(reg["api_key"])
    assert short_client.get("/v1/status", headers=headers).status_code == 200
    assert 0 < redis_client.ttl(short_ctx.store.keys.instance(reg["instance_id"])) <= TTL_S

    _wait_past(TTL_S)

    assert_envelope(short_client.get("/v1/status", headers=headers), 401, "unauthorized")
    assert_envelope(heartbeat(short_client, reg), 401, "unauthorized")
    assert not redis_client.exists(short_ctx.store.keys.instance(reg["instance_id"]))


def test_heartbeat_keeps_an_instance_alive_past_its_first_ttl(short_client, short_ctx):
    reg = register(short_client, poll_interval=POLL_INTERVAL_S)
    headers = key_header(reg["api_key"])

    for _ in range(2):  # 2 × 0.6 × TTL: longer than one TTL
        time.sleep(TTL_S * 0.6)
        assert heartbeat(short_client, reg).status_code == 200

    assert short_client.get("/v1/status", headers=headers).status_code == 200


def test_reap_expired_forgets_a_silent_instance_and_its_account(
    short_client, short_ctx, redis_client
):
    reg = register(short_client, poll_interval=POLL_INTERVAL_S)
    keys = short_ctx.store.keys
    fp = short_ctx.store.instances.get(reg["instance_id"]).accounts["zai"]
    assert redis_client.zscore(keys.instances(), reg["instance_id"]) is not None
    assert redis_client.zscore(keys.due(), fp) is not None

    _wait_past(TTL_S)
    counts = reap_expired()

    assert counts["instances"] == 1
    assert counts["unsubscribed"] == 1
    assert redis_client.zscore(keys.instances(), reg["instance_id"]) is None
    assert redis_client.zscore(keys.due(), fp) is None
    assert redis_client.zcard(keys.subscribers(fp)) == 0


def test_reap_expired_keeps_a_live_instance(short_client, short_ctx, redis_client):
    silent = register(short_client, poll_interval=POLL_INTERVAL_S)
    alive = register(short_client, poll_interval=POLL_INTERVAL_S)
    keys = short_ctx.store.keys
    fp = short_ctx.store.instances.get(alive["instance_id"]).accounts["zai"]

    time.sleep(TTL_S * 0.6)
    assert heartbeat(short_client, alive).status_code == 200
    time.sleep(TTL_S * 0.6)
    reap_expired()

    assert redis_client.zrange(keys.instances(), 0, -1) == [alive["instance_id"]]
    assert redis_client.zscore(keys.due(), fp) is not None
    assert short_ctx.store.accounts.live_subscribers(fp, time.time()) == [alive["instance_id"]]
    assert silent["instance_id"] not in redis_client.zrange(keys.subscribers(fp), 0, -1)
