"""The security review's findings (docs/security.md), one test each: headers on every response,
HSTS only over https, secrets compared in constant time, POST /v1/poll rate limited, no answer
that tells a non-owner whether an instance exists, and a private data directory."""

from __future__ import annotations

import hmac
import stat
from pathlib import Path

import pytest

from quota_sentinel.app import create_app
from quota_sentinel.config import Settings
from quota_sentinel.crypto import SECRET_KEY_FILE, hash_api_key, resolve_secret_key
from quota_sentinel.embedded import EmbeddedRedis
from quota_sentinel.services.limits import POLL_RATE_PER_MIN
from tests.factories import key_header, register

ADMIN_TOKEN = "security-admin-token-7f3a"
PATHS = [
    "/v1/health",
    "/v1/openapi.json",
    "/v1/docs",
    "/v1/status",  # 401 envelope
    "/v1/no-such-endpoint",  # 404 envelope
    "/",  # the team page (sign-in form)
    "/dashboard/static/dashboard.js",
]


@pytest.fixture
def admin(env: dict[str, str]) -> str:
    env["QUOTA_SENTINEL_ADMIN_TOKEN"] = ADMIN_TOKEN
    return ADMIN_TOKEN


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("path", PATHS)
def test_every_response_carries_the_security_headers(client, admin, path: str):
    response = client.get(path)
    response.close()  # a static file answers with an open file
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "Strict-Transport-Security" not in response.headers  # plain http


def test_hsts_only_over_https_and_a_forwarded_scheme_only_from_a_trusted_proxy(ctx, env):
    client = create_app(ctx.settings, ctx).test_client()
    assert "max-age=" in client.get("/v1/health", base_url="https://localhost").headers.get(
        "Strict-Transport-Security", ""
    )
    claimed = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    untrusted = client.get("/v1/health", headers=claimed)
    assert "Strict-Transport-Security" not in untrusted.headers

    behind_proxy = Settings.from_env({**env, "QUOTA_SENTINEL_TRUST_PROXY": "1"})
    trusted = create_app(behind_proxy, ctx).test_client().get("/v1/health", headers=claimed)
    assert "max-age=" in trusted.headers["Strict-Transport-Security"]


def test_the_admin_token_is_compared_in_constant_time(client, admin, monkeypatch):
    compared: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a, b):
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    assert client.get("/v1/team", headers={"Authorization": "Bearer guess"}).status_code == 401
    assert (b"guess", ADMIN_TOKEN.encode()) in compared
    compared.clear()
    assert client.post("/dashboard/sign-in", data={"token": "guess2"}).status_code == 401
    assert (b"guess2", ADMIN_TOKEN.encode()) in compared
    admin_call = client.get("/v1/team", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    assert admin_call.status_code == 200


def test_an_api_key_is_looked_up_by_its_digest_never_compared(client, ctx, redis_client):
    reg = register(client)
    digest = hash_api_key(reg["api_key"])
    assert redis_client.get(ctx.store.keys.api_key(digest)) == reg["instance_id"]
    dump = {k: redis_client.dump(k) for k in redis_client.scan_iter()}
    assert not any(
        reg["api_key"] in k or reg["api_key"].encode() in (v or b"") for k, v in dump.items()
    )


def test_post_poll_is_rate_limited_per_instance(zai, client, clock):
    first, second = register(client), register(client)
    for _ in range(POLL_RATE_PER_MIN):
        assert client.post("/v1/poll", headers=key_header(first["api_key"])).status_code == 202
    limited = client.post("/v1/poll", headers=key_header(first["api_key"]))
    assert limited.status_code == 429
    body = limited.get_json()
    assert body["error"] == "rate_limited" and "Too many poll requests" in body["message"]
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    assert client.post("/v1/poll", headers=key_header(second["api_key"])).status_code == 202
    clock.advance(60)
    assert client.post("/v1/poll", headers=key_header(first["api_key"])).status_code == 202


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/v1/status/{}", None),
        ("DELETE", "/v1/instances/{}", None),
        ("PATCH", "/v1/instances/{}/heartbeat", {"state": "idle"}),
    ],
)
def test_a_non_owner_cannot_tell_whether_an_instance_exists(client, method, path, body):
    mine, theirs = register(client), register(client)
    missing = "0123456789abcdef0123456789abcdef"
    for headers in (key_header(mine["api_key"]), key_header("qs_wrong"), {}):
        answers = []
        for target in (theirs["instance_id"], missing):
            response = client.open(path.format(target), method=method, headers=headers, json=body)
            answers.append((response.status_code, response.get_json()))
        assert answers[0] == answers[1], (headers, answers)
        assert answers[0][0] in (401, 403)
    own = client.get(f"/v1/status/{theirs['instance_id']}", headers=key_header(theirs["api_key"]))
    assert own.status_code == 200


def test_the_data_dir_is_0700_and_the_generated_key_0600(tmp_path: Path):
    data = tmp_path / "fresh" / "data"
    settings = Settings.from_env({"QUOTA_SENTINEL_DATA_DIR": str(data)})
    key = resolve_secret_key(settings)
    assert _mode(data) == 0o700 and _mode(data / SECRET_KEY_FILE) == 0o600

    # One made by an older version, or by hand, is tightened on the next start.
    (data / SECRET_KEY_FILE).chmod(0o644)
    data.chmod(0o755)
    assert resolve_secret_key(settings) == key
    assert _mode(data) == 0o700 and _mode(data / SECRET_KEY_FILE) == 0o600


def test_the_embedded_redis_keeps_its_files_private(tmp_path: Path):
    server = EmbeddedRedis(tmp_path / "data")
    server.start()
    try:
        assert _mode(tmp_path / "data") == 0o700
        assert _mode(tmp_path / "data" / "redis") == 0o700
    finally:
        server.stop()
