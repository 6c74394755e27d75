"""POST and DELETE /v1/instances: credentials, warnings, options, keys, accounts, rate limit."""

from __future__ import annotations

import json
import re

import pytest

from quota_sentinel.crypto import hash_api_key
from quota_sentinel.providers.registry import AUTH_ALIASES
from tests.api.helpers import (
    API_KEY_RE,
    CLAUDE_FLAT,
    CLAUDE_SECRET,
    account_hashes,
    assert_envelope,
    fingerprints,
    poll_now,
    redis_dump,
    stored_secret,
)
from tests.factories import key_header, register, registration

# -- the four auth formats ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entry", "secret"),
    [
        ({"key": "zai-k-1"}, {"key": "zai-k-1"}),
        ({"type": "api", "key": "zai-k-2"}, {"key": "zai-k-2"}),
        ("zai-k-3", {"key": "zai-k-3"}),
    ],
    ids=["key-object", "type-api", "bare-string"],
)
def test_register_stores_opencode_api_key_when_entry_has_any_api_shape(client, ctx, entry, secret):
    reg = register(client, auth={"opencode_auth": {"zai-coding-plan": entry}})

    assert reg["providers"] == ["zai"]
    assert reg["warnings"] == []
    assert stored_secret(ctx, fingerprints(client, reg["api_key"])["zai"]) == secret


def test_register_stores_oauth_tokens_when_opencode_entry_is_oauth(client, ctx):
    entry = {"type": "oauth", "access": "at-123", "refresh": "rt-456", "expires": 1_790_000_500_000}

    reg = register(client, auth={"opencode_auth": {"anthropic": entry}})

    assert reg["providers"] == ["claude"]
    assert stored_secret(ctx, fingerprints(client, reg["api_key"])["claude"]) == {
        "access_token": "at-123",
        "refresh_token": "rt-456",
        "expires_at_ms": 1_790_000_500_000,
    }


@pytest.mark.parametrize(
    "credentials", [CLAUDE_FLAT, {"claudeAiOauth": CLAUDE_FLAT}], ids=["flat", "claudeAiOauth"]
)
def test_register_stores_claude_credentials_when_flat_or_wrapped(client, ctx, credentials):
    reg = register(client, framework="claude", auth={"claude_credentials": credentials})

    assert reg["providers"] == ["claude"]
    assert stored_secret(ctx, fingerprints(client, reg["api_key"])["claude"]) == CLAUDE_SECRET


def test_register_stores_github_token_as_copilot(client, ctx):
    reg = register(client, auth={"github_token": "gho_abcdefghijklmnop"})

    assert reg["providers"] == ["copilot"]
    assert stored_secret(ctx, fingerprints(client, reg["api_key"])["copilot"]) == {
        "token": "gho_abcdefghijklmnop"
    }


def test_register_accepts_every_format_at_once(client, ctx):
    auth = {
        "opencode_auth": {
            "zai-coding-plan": {"type": "api", "key": "zai-k"},
            "deepseek": "sk-deepseek-k",
        },
        "claude_credentials": {"claudeAiOauth": CLAUDE_FLAT},
        "github_token": "gho_zyxwvutsrqponm",
    }

    reg = register(client, auth=auth)

    assert reg["providers"] == ["claude", "copilot", "deepseek", "zai"]
    fps = fingerprints(client, reg["api_key"])
    assert len(set(fps.values())) == 4
    assert stored_secret(ctx, fps["deepseek"]) == {"key": "sk-deepseek-k"}
    assert stored_secret(ctx, fps["claude"]) == CLAUDE_SECRET


@pytest.mark.parametrize("alias", sorted(AUTH_ALIASES))
def test_register_maps_auth_alias_to_its_provider(client, ctx, alias):
    expected = AUTH_ALIASES[alias]
    token = f"gho_{alias.replace('-', '')}0123456789"

    reg = register(client, auth={"opencode_auth": {alias: {"type": "api", "key": token}}})

    assert reg["providers"] == [expected.provider]
    account = ctx.store.accounts.get(fingerprints(client, reg["api_key"])[expected.provider])
    assert account.provider == expected.provider
    assert account.options == dict(expected.options)


@pytest.mark.parametrize("alias", ["zhipu-coding-plan", "zhipuai-coding-plan"])
def test_register_sets_region_cn_when_alias_is_zhipu(client, ctx, alias):
    reg = register(client, auth={"opencode_auth": {alias: {"key": "zhipu-k"}}})

    detail = client.get("/v1/providers/zai", headers=key_header(reg["api_key"]))
    fp = fingerprints(client, reg["api_key"])["zai"]
    assert detail.status_code == 200
    assert ctx.store.accounts.get(fp).options == {"region": "cn"}


def test_register_matches_alias_case_insensitively(client):
    reg = register(client, auth={"opencode_auth": {"ZAI-Coding-Plan": {"key": "zai-k"}}})

    assert reg["providers"] == ["zai"]


# -- warnings ----------------------------------------------------------------------------------


def test_register_warns_and_skips_when_alias_is_unknown(client, redis_client, ctx):
    reg = register(
        client, auth={"opencode_auth": {"crofai": {"key": "c-k"}, "zai": {"key": "zai-k"}}}
    )

    assert reg["providers"] == ["zai"]
    assert any(w.startswith("opencode_auth.crofai:") and "skipped" in w for w in reg["warnings"])
    assert len(account_hashes(ctx, redis_client)) == 1


@pytest.mark.parametrize(
    "auth",
    [
        {"opencode_auth": {"zai": {"key": ""}}},
        {"opencode_auth": {"zai": {"key": "   "}}},
        {"opencode_auth": {"zai": ""}},
        {"github_token": ""},
        {"claude_credentials": {"accessToken": "", "refreshToken": ""}},
    ],
    ids=["empty-key", "blank-key", "empty-string", "empty-github-token", "empty-claude"],
)
def test_register_with_only_empty_keys_is_422_naming_them(client, redis_client, ctx, auth):
    response = client.post("/v1/instances", json=registration(auth=auth))

    body = assert_envelope(response, 422, "validation_error")
    skipped = body["details"]["skipped"]
    assert skipped and all("skipped" in w for w in skipped)
    assert all(w in body["message"] for w in skipped)
    assert account_hashes(ctx, redis_client) == []


def test_register_with_nothing_to_monitor_is_422_naming_each_entry_and_the_accepted_keys(
    client, redis_client, ctx
):
    auth = {"opencode_auth": {"nope": {"key": "k"}, "zai-codingplan": {"key": "secret-zai-k"}}}

    response = client.post("/v1/instances", json=registration(auth=auth))

    body = assert_envelope(response, 422, "validation_error")
    assert body["message"].startswith("Nothing to monitor: every credential entry was skipped")
    for name in ("opencode_auth.nope:", "opencode_auth.zai-codingplan:"):
        assert name in body["message"]
        assert any(w.startswith(name) for w in body["details"]["skipped"])
    assert body["details"]["accepted_opencode_auth_keys"] == sorted(AUTH_ALIASES)
    assert "zai-coding-plan" in body["message"] and "github_token" in body["message"]
    assert "secret-zai-k" not in response.get_data(as_text=True)
    assert account_hashes(ctx, redis_client) == []
    assert redis_client.keys("*inst*") == []


def test_register_with_one_usable_entry_stays_201_with_warnings(client, redis_client, ctx):
    auth = {"opencode_auth": {"nope": {"key": "k"}, "deepseek": {"key": "sk-ds"}}}

    response = client.post("/v1/instances", json=registration(auth=auth))

    assert response.status_code == 201
    reg = response.get_json()
    assert reg["providers"] == ["deepseek"]
    assert any(w.startswith("opencode_auth.nope:") for w in reg["warnings"])


def test_register_keeps_first_and_warns_when_provider_is_duplicated(client, ctx):
    auth = {"opencode_auth": {"zai-coding-plan": {"key": "first"}, "zai": {"key": "second"}}}
    # Sent as text: the test client's JSON encoder would sort the keys.
    response = client.post(
        "/v1/instances", data=json.dumps(registration(auth=auth)), content_type="application/json"
    )

    reg = response.get_json()
    assert response.status_code == 201
    assert reg["providers"] == ["zai"]
    assert any("zai" in w and "already given" in w for w in reg["warnings"])
    assert stored_secret(ctx, fingerprints(client, reg["api_key"])["zai"]) == {"key": "first"}


# -- options, interval, caps -------------------------------------------------------------------


@pytest.mark.parametrize(("asked", "granted"), [(10, 30), (29, 30), (30, 30), (45, 45)])
def test_register_raises_poll_interval_to_the_floor(client, ctx, asked, granted):
    reg = register(client, poll_interval=asked)

    assert reg["poll_interval"] == granted
    assert ctx.store.instances.get(reg["instance_id"]).poll_interval_s == granted


@pytest.fixture
def lowered_floor(env: dict[str, str]) -> None:
    """The tests-and-benchmarks knob lowers the floor to 10 s (list it before `ctx`)."""
    env["QUOTA_SENTINEL_MIN_POLL_INTERVAL"] = "10"


@pytest.mark.parametrize(("asked", "granted"), [(5, 10), (10, 10), (29, 29)])
def test_the_test_knob_lowers_the_floor_and_still_raises_to_it(
    lowered_floor, client, ctx, asked, granted
):
    assert ctx.settings.min_poll_interval_s == 10
    reg = register(client, poll_interval=asked)

    assert reg["poll_interval"] == granted
    assert ctx.store.instances.get(reg["instance_id"]).poll_interval_s == granted


def test_register_uses_settings_poll_interval_when_none_given(client, ctx):
    reg = register(client)

    assert reg["poll_interval"] == ctx.settings.poll_interval_s == 300


def test_register_stores_provider_config_as_account_options(client, ctx):
    reg = register(
        client,
        auth={"opencode_auth": {"minimax-coding-plan": {"key": "mm-k", "group_id": "g-1"}}},
        provider_config={"minimax": {"plan": "max"}, "copilot": {"plan": "pro"}},
    )

    fp = fingerprints(client, reg["api_key"])["minimax"]
    assert ctx.store.accounts.get(fp).options == {"group_id": "g-1", "plan": "max"}


def test_register_stores_hard_caps_that_grade_windows_after_a_poll(zai, client, ctx, drain):
    caps = {"zai_5h": 40.0, "zai_default": 70.0}
    reg = register(client, hard_caps=caps)
    assert ctx.store.instances.get(reg["instance_id"]).hard_caps == caps

    poll_now(client, reg["api_key"], drain)

    windows = client.get("/v1/status", headers=key_header(reg["api_key"])).get_json()
    windows = windows["providers"]["zai"]["windows"]
    assert windows["5h"]["cap"] == 40.0
    assert windows["5h"]["status"] == "RED"  # the fake reports 41 %
    assert windows["weekly"]["cap"] == 70.0


def test_register_hard_caps_apply_to_that_instance_only(zai, client, drain):
    strict = register(client, hard_caps={"zai_5h": 40.0})
    plain = register(client)

    poll_now(client, strict["api_key"], drain)

    def five_hour(reg):
        body = client.get("/v1/status", headers=key_header(reg["api_key"])).get_json()
        return body["providers"]["zai"]["windows"]["5h"]

    assert five_hour(strict)["cap"] == 40.0
    assert five_hour(plain)["cap"] == 80.0
    assert five_hour(plain)["status"] == "GREEN"


# -- the answer and the stored key -------------------------------------------------------------


def test_register_answers_hex_id_and_url_safe_key(client, ctx):
    response = client.post("/v1/instances", json=registration())

    assert response.status_code == 201
    body = response.get_json()
    assert set(body) == {"instance_id", "api_key", "providers", "poll_interval", "warnings"}
    assert API_KEY_RE.fullmatch(body["api_key"])
    assert re.fullmatch(r"[0-9a-f]{16,}", body["instance_id"])
    assert ctx.store.instances.get(body["instance_id"]).project == "demo"


def test_register_gives_every_instance_its_own_key(client):
    first, second = register(client), register(client)

    assert first["api_key"] != second["api_key"]
    assert first["instance_id"] != second["instance_id"]


def test_register_stores_api_key_only_as_sha256(client, ctx, redis_client):
    reg = register(client)

    dump = redis_dump(redis_client)
    assert reg["api_key"] not in dump
    assert reg["api_key"][3:] not in dump
    key_hash = hash_api_key(reg["api_key"])
    assert redis_client.get(ctx.store.keys.api_key(key_hash)) == reg["instance_id"]


# -- deregister --------------------------------------------------------------------------------


def test_deregister_answers_ok_then_the_key_is_refused(client, ctx):
    reg = register(client)
    headers = key_header(reg["api_key"])

    response = client.delete(f"/v1/instances/{reg['instance_id']}", headers=headers)

    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}
    assert_envelope(client.get("/v1/status", headers=headers), 401, "unauthorized")
    assert ctx.store.instances.get(reg["instance_id"]) is None


def test_deregister_removes_only_that_subscriber_of_a_shared_account(client, ctx, clock):
    leaving, staying = register(client), register(client)
    fp = fingerprints(client, staying["api_key"])["zai"]

    client.delete(f"/v1/instances/{leaving['instance_id']}", headers=key_header(leaving["api_key"]))

    assert ctx.store.accounts.live_subscribers(fp, clock.now) == [staying["instance_id"]]


# -- accounts: one per credential --------------------------------------------------------------


def test_two_instances_with_one_key_share_one_account(client, ctx, redis_client):
    first, second = register(client), register(client)

    fp = fingerprints(client, first["api_key"])["zai"]
    assert fingerprints(client, second["api_key"])["zai"] == fp
    assert len(account_hashes(ctx, redis_client)) == 1
    status = client.get("/v1/status", headers=key_header(first["api_key"])).get_json()
    assert status["allocation"]["zai"]["subscribers"] == 2


def test_two_keys_of_one_provider_are_two_accounts(client, ctx, redis_client):
    first = register(client, auth={"opencode_auth": {"zai": {"key": "zai-key-a"}}})
    second = register(client, auth={"opencode_auth": {"zai": {"key": "zai-key-b"}}})

    fp_a = fingerprints(client, first["api_key"])["zai"]
    fp_b = fingerprints(client, second["api_key"])["zai"]
    assert fp_a != fp_b
    assert len(account_hashes(ctx, redis_client)) == 2
    assert stored_secret(ctx, fp_a) == {"key": "zai-key-a"}
    assert stored_secret(ctx, fp_b) == {"key": "zai-key-b"}


# -- registration rate limit -------------------------------------------------------------------


def test_register_is_rate_limited_per_client(env, request):
    env["QUOTA_SENTINEL_REGISTER_RATE"] = "2"
    client = request.getfixturevalue("client")
    clock = request.getfixturevalue("clock")
    register(client)
    register(client)

    refused = client.post("/v1/instances", json=registration())

    body = assert_envelope(refused, 429, "rate_limited")
    retry_after = int(refused.headers["Retry-After"])
    assert 1 <= retry_after <= 60
    assert body["details"] == {"retry_after_s": retry_after}
    clock.advance(retry_after)
    assert client.post("/v1/instances", json=registration()).status_code == 201
