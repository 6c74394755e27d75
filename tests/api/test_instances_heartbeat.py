"""PATCH /v1/instances/{id}/heartbeat: state, TTL renewal and fresh credentials."""

from __future__ import annotations

import math

from quota_sentinel.crypto import hash_api_key
from tests.api.helpers import (
    CLAUDE_FLAT,
    account_hashes,
    fingerprints,
    heartbeat,
    stored_secret,
)
from tests.factories import key_header, register


def test_heartbeat_changes_state_seen_in_status(client):
    reg = register(client)

    response = heartbeat(client, reg, state="paused")

    assert response.status_code == 200
    assert response.get_json()["state"] == "paused"
    status = client.get("/v1/status", headers=key_header(reg["api_key"])).get_json()
    assert status["state"] == "paused"


def test_heartbeat_keeps_state_when_none_given(client):
    reg = register(client, state="idle")

    assert heartbeat(client, reg).get_json()["state"] == "idle"


def test_heartbeat_renews_every_ttl(client, ctx, clock, redis_client):
    reg = register(client, poll_interval=60)
    expected = math.ceil(ctx.settings.heartbeat_factor * 60)
    keys = ctx.store.keys
    instance_keys = [keys.instance(reg["instance_id"]), keys.api_key(hash_api_key(reg["api_key"]))]
    fp = fingerprints(client, reg["api_key"])["zai"]
    account_keys = [keys.account(fp), keys.subscribers(fp)]
    for key in instance_keys + account_keys:
        redis_client.expire(key, 5)  # as if most of the TTL had run out
    clock.advance(100)

    response = heartbeat(client, reg)

    assert response.get_json()["expires_in"] == expected
    for key in instance_keys:
        assert expected - 2 <= redis_client.ttl(key) <= expected, key
    for key in account_keys:
        assert expected + 598 <= redis_client.ttl(key) <= expected + 600, key
    assert redis_client.zscore(keys.instances(), reg["instance_id"]) == clock.now + expected
    assert redis_client.zscore(keys.subscribers(fp), reg["instance_id"]) == clock.now + expected
    assert ctx.store.instances.get(reg["instance_id"]).heartbeat_at == clock.now


def test_heartbeat_replaces_credentials_and_keeps_fingerprint(client, ctx, redis_client):
    reg = register(client, auth={"claude_credentials": CLAUDE_FLAT})
    before = fingerprints(client, reg["api_key"])
    fresh = {"accessToken": "at-fresh", "refreshToken": "rt-fresh", "expiresAt": 1_790_009_000_000}

    response = heartbeat(client, reg, auth={"claude_credentials": {"claudeAiOauth": fresh}})

    assert response.status_code == 200
    assert response.get_json()["refreshed"] == ["claude"]
    assert fingerprints(client, reg["api_key"]) == before
    assert stored_secret(ctx, before["claude"]) == {
        "access_token": "at-fresh",
        "refresh_token": "rt-fresh",
        "expires_at_ms": 1_790_009_000_000,
    }
    assert len(account_hashes(ctx, redis_client)) == 1


def test_heartbeat_replaces_opencode_key_of_existing_account(client, ctx):
    reg = register(client)
    fp = fingerprints(client, reg["api_key"])["zai"]

    response = heartbeat(client, reg, auth={"opencode_auth": {"zai": "zai-rotated"}})

    assert response.get_json()["refreshed"] == ["zai"]
    assert stored_secret(ctx, fp) == {"key": "zai-rotated"}


def test_heartbeat_warns_when_auth_is_for_a_provider_the_instance_lacks(client, ctx, redis_client):
    reg = register(client)
    fp = fingerprints(client, reg["api_key"])["zai"]

    response = heartbeat(client, reg, auth={"github_token": "gho_notregisteredhere"})

    body = response.get_json()
    assert response.status_code == 200
    assert body["refreshed"] == []
    assert any("copilot" in w and "register again" in w for w in body["warnings"])
    assert len(account_hashes(ctx, redis_client)) == 1
    assert stored_secret(ctx, fp) == {"key": "zai-test-key"}
