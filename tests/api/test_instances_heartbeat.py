"""PATCH /v1/instances/{id}/heartbeat: state, TTL renewal and fresh credentials."""

from __future__ import annotations

import math

from quota_sentinel.crypto import hash_api_key
from quota_sentinel.engine.allocation import WEIGHT_UNITS
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


def test_heartbeat_sets_the_new_states_weight_in_every_account(client, ctx, redis_client):
    reg = register(client, poll_interval=60)
    other = register(client, poll_interval=60)  # same Z.ai key: one account, two subscribers
    fp = fingerprints(client, reg["api_key"])["zai"]
    weights = ctx.store.keys.weights(fp)
    assert redis_client.hget(weights, "_total") == "20"

    assert heartbeat(client, reg, state="paused").status_code == 200

    assert redis_client.hget(weights, reg["instance_id"]) == str(WEIGHT_UNITS["paused"])
    assert redis_client.hget(weights, "_total") == str(WEIGHT_UNITS["paused"] + 10)
    assert heartbeat(client, reg, state="active").status_code == 200
    assert redis_client.hget(weights, reg["instance_id"]) is None  # active: the default weight
    assert redis_client.hget(weights, "_total") == "20"
    assert other["instance_id"] != reg["instance_id"]


def test_heartbeat_with_another_instances_key_writes_nothing(client, ctx, clock, redis_client):
    reg = register(client, poll_interval=60)
    intruder = register(client, poll_interval=60)
    fp = fingerprints(client, reg["api_key"])["zai"]
    keys = ctx.store.keys
    before = (
        redis_client.hgetall(keys.instance(reg["instance_id"])),
        redis_client.zscore(keys.subscribers(fp), reg["instance_id"]),
        redis_client.hgetall(keys.weights(fp)),
    )
    clock.advance(30)

    response = client.patch(
        f"/v1/instances/{reg['instance_id']}/heartbeat",
        json={"state": "paused"},
        headers=key_header(intruder["api_key"]),
    )

    assert response.status_code == 403
    assert "another instance" in response.get_json()["message"]
    after = (
        redis_client.hgetall(keys.instance(reg["instance_id"])),
        redis_client.zscore(keys.subscribers(fp), reg["instance_id"]),
        redis_client.hgetall(keys.weights(fp)),
    )
    assert after == before


def test_heartbeat_of_an_expired_instance_is_401(client, ctx, redis_client):
    reg = register(client)
    redis_client.delete(ctx.store.keys.instance(reg["instance_id"]))  # its hash gone first

    response = heartbeat(client, reg)

    assert response.status_code == 401
    assert "register again" in response.get_json()["message"]


CONNECTION_SETUP = {"HELLO", "CLIENT", "SELECT", "AUTH"}


def test_heartbeat_without_credentials_is_one_round_trip(client, redis_client):
    reg = register(client, poll_interval=60)
    heartbeat(client, reg)  # loads the script
    db = redis_client.connection_pool.connection_kwargs.get("db", 0)
    marker = f"end-of-heartbeat-{reg['instance_id']}"

    # MONITOR sees every command of the server, each with its database and its sender ("lua"
    # for what a script ran): the commands the app sent on this test's database, up to a marker.
    with redis_client.monitor() as monitor:
        assert heartbeat(client, reg, state="idle").status_code == 200
        redis_client.echo(marker)
        sent = []
        while True:
            command = monitor.next_command()
            if command["db"] != db or command["client_type"] == "lua":
                continue
            if marker in command["command"]:
                break
            name = command["command"].split()[0].upper()
            if name not in CONNECTION_SETUP:  # a new pooled connection's handshake
                sent.append(name)

    assert sent == ["EVALSHA"], sent  # one round trip: no key lookup first, no MULTI/EXEC
