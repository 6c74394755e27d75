"""The one error envelope `{error, message, details?}` for every failure status, and its spec."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from quota_sentinel.app import create_app
from quota_sentinel.config import Settings
from tests.api.helpers import assert_absent, assert_envelope
from tests.factories import key_header, register, registration

ADMIN_TOKEN = "admin-token-errors-5d2e"
PLANTED_ZAI = "zai-PLANTED-errors-8e41c0b9d2"
PLANTED_GITHUB = "gho_PLANTEDerrorsToken5566778899"


@dataclass
class World:
    """What a case needs: a client, one registered instance with planted credentials, and more."""

    client: Any
    env: dict[str, str]
    reg: dict[str, Any]
    redis_client: Any
    ctx: Any

    @property
    def headers(self) -> dict[str, str]:
        return key_header(self.reg["api_key"])


@dataclass(frozen=True)
class Case:
    status: int
    code: str
    call: Callable[[World], Any]
    field: str | None = None  # for 422: the field details.fields must name


def _malformed_registration(w: World):
    body = '{"project_name": "demo", "auth": {"github_token": "' + PLANTED_GITHUB + '"'
    return w.client.post("/v1/instances", data=body, content_type="application/json")


def _malformed_heartbeat(w: World):
    return w.client.patch(
        f"/v1/instances/{w.reg['instance_id']}/heartbeat",
        data="{state: idle}",
        content_type="application/json",
        headers=w.headers,
    )


def _another_instances_key(w: World):
    other = register(w.client, auth={"opencode_auth": {"zai": PLANTED_ZAI}})
    return w.client.delete(
        f"/v1/instances/{w.reg['instance_id']}", headers=key_header(other["api_key"])
    )


def _unknown_instance_as_admin(w: World):
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    return w.client.get(f"/v1/status/{uuid.uuid4().hex}", headers=admin)


def _too_large(w: World):
    body = json.dumps(registration(project_name="x" * (1024 * 1024)))
    return w.client.post("/v1/instances", data=body, content_type="application/json")


def _invalid(**fields: Any) -> Callable[[World], Any]:
    def call(w: World):
        body = registration(auth={"opencode_auth": {"zai": PLANTED_ZAI}})
        body.update(fields)
        body = {k: v for k, v in body.items() if v is not None}
        return w.client.post("/v1/instances", json=body)

    return call


def _rate_limited(w: World):
    # The limit is 2 a minute per address; another address has its own count.
    other_client = {"REMOTE_ADDR": "192.0.2.7"}
    for _ in range(2):
        allowed = w.client.post("/v1/instances", json=registration(), environ_base=other_client)
        assert allowed.status_code == 201
    return w.client.post("/v1/instances", json=registration(), environ_base=other_client)


def _corrupt_instance(w: World):
    key = w.ctx.store.keys.instance(w.reg["instance_id"])
    w.redis_client.hset(key, "hard_caps", "{not json")
    return w.client.get("/v1/status", headers=w.headers)


def _redis_down(w: World):
    dead = Settings.from_env(
        {**w.env, "REDIS_URL": f"unix:///tmp/qs-absent-{uuid.uuid4().hex[:8]}"}
    )
    app = create_app(dead)
    try:
        return app.test_client().get("/v1/status", headers=w.headers)
    finally:
        app.extensions["quota_sentinel"].close()


CASES: dict[str, Case] = {
    "400-malformed-registration": Case(400, "malformed_json", _malformed_registration),
    "400-malformed-heartbeat": Case(400, "malformed_json", _malformed_heartbeat),
    "401-no-key": Case(401, "unauthorized", lambda w: w.client.get("/v1/providers")),
    "401-unknown-key": Case(
        401,
        "unauthorized",
        lambda w: w.client.get("/v1/providers", headers=key_header("qs_" + "Z" * 43)),
    ),
    "403-another-instances-key": Case(403, "forbidden", _another_instances_key),
    "404-unknown-route": Case(404, "not_found", lambda w: w.client.get("/v1/nowhere")),
    "404-unknown-instance-as-admin": Case(404, "not_found", _unknown_instance_as_admin),
    "404-provider-instance-lacks": Case(
        404, "not_found", lambda w: w.client.get("/v1/providers/deepseek", headers=w.headers)
    ),
    "405-method": Case(
        405, "method_not_allowed", lambda w: w.client.put("/v1/status", headers=w.headers)
    ),
    "413-body-over-1mib": Case(413, "payload_too_large", _too_large),
    "422-missing-project-name": Case(
        422, "validation_error", _invalid(project_name=None), "project_name"
    ),
    "422-bad-framework": Case(422, "validation_error", _invalid(framework="vscode"), "framework"),
    "422-hard-cap-over-100": Case(
        422, "validation_error", _invalid(hard_caps={"zai_default": 200}), "hard_caps"
    ),
    "422-unknown-field": Case(422, "validation_error", _invalid(colour="blue"), "colour"),
    "422-planted-secret-in-bad-auth": Case(
        422, "validation_error", _invalid(auth={"github_token": PLANTED_GITHUB * 20}), "auth"
    ),
    "429-registration-rate": Case(429, "rate_limited", _rate_limited),
    "500-unexpected": Case(500, "internal_error", _corrupt_instance),
    "503-redis-down": Case(503, "redis_unavailable", _redis_down),
}


@pytest.fixture
def world(env, request) -> World:
    env["QUOTA_SENTINEL_ADMIN_TOKEN"] = ADMIN_TOKEN
    env["QUOTA_SENTINEL_REGISTER_RATE"] = "2"
    client = request.getfixturevalue("client")
    reg = register(
        client, auth={"opencode_auth": {"zai": PLANTED_ZAI}, "github_token": PLANTED_GITHUB}
    )
    return World(
        client,
        env,
        reg,
        request.getfixturevalue("redis_client"),
        request.getfixturevalue("ctx"),
    )


@pytest.mark.parametrize("case", list(CASES.values()), ids=list(CASES))
def test_failure_answers_the_envelope(world, case):
    response = case.call(world)

    body = assert_envelope(response, case.status, case.code)
    if case.status == 422:
        assert body["details"]["location"] == "json"
        messages = body["details"]["fields"][case.field]
        assert messages, body
    if case.status in (429, 503):
        assert int(response.headers["Retry-After"]) >= 1
    assert_absent(
        [PLANTED_ZAI, PLANTED_GITHUB, world.reg["api_key"], ADMIN_TOKEN],
        response.get_data(as_text=True),
        str(response.headers),
    )


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"project_name": None}, "project_name", "Missing data"),
        ({"framework": "vscode"}, "framework", "opencode, claude"),
        ({"hard_caps": {"zai_default": 200}}, "hard_caps", "less than or equal to 100"),
        ({"colour": "blue"}, "colour", "Unknown field"),
        ({"poll_interval": "often"}, "poll_interval", "Not a valid integer"),
    ],
)
def test_validation_names_each_field_with_a_message(client, fields, field, words):
    body = {k: v for k, v in {**registration(), **fields}.items() if v is not None}

    envelope = assert_envelope(client.post("/v1/instances", json=body), 422, "validation_error")

    assert field in envelope["details"]["fields"]
    assert words in json.dumps(envelope["details"]["fields"][field])


def test_validation_reports_every_bad_field_at_once(client):
    body = {"framework": "vscode", "hard_caps": {"zai_default": 200}, "colour": "blue"}

    envelope = assert_envelope(client.post("/v1/instances", json=body), 422)

    assert set(envelope["details"]["fields"]) == {
        "project_name",
        "framework",
        "hard_caps",
        "colour",
    }


def test_unexpected_failure_is_logged_once_with_traceback(client, ctx, redis_client, caplog):
    reg = register(client)
    redis_client.hset(ctx.store.keys.instance(reg["instance_id"]), "hard_caps", "{not json")
    caplog.set_level(logging.DEBUG)

    response = client.get("/v1/status", headers=key_header(reg["api_key"]))

    assert_envelope(response, 500, "internal_error")
    assert "JSONDecodeError" not in response.get_data(as_text=True)
    with_traceback = [r for r in caplog.records if r.exc_info]
    assert len(with_traceback) == 1, [r.getMessage() for r in with_traceback]
    assert with_traceback[0].exc_info[0] is json.JSONDecodeError
    assert with_traceback[0].levelno == logging.ERROR
    assert reg["api_key"] not in caplog.text


@pytest.fixture
def dead_client(env, redis_client):
    """A client of an app whose REDIS_URL is a unix socket that does not exist."""
    dead = Settings.from_env(
        {**env, "REDIS_URL": f"unix:///tmp/qs-absent-{uuid.uuid4().hex[:8]}/redis.sock"}
    )
    app = create_app(dead)
    yield app.test_client()
    app.extensions["quota_sentinel"].close()


def test_health_is_unavailable_when_redis_is_down(dead_client):
    response = dead_client.get("/v1/health")

    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "unavailable"
    assert body["redis"] == "unreachable"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/v1/status", None),
        ("GET", "/v1/providers", None),
        ("POST", "/v1/poll", None),
        ("POST", "/v1/instances", registration()),
    ],
)
def test_routes_answer_503_when_redis_is_down(dead_client, method, path, body):
    response = dead_client.open(
        path, method=method, json=body, headers=key_header("qs_" + "k" * 43)
    )

    assert_envelope(response, 503, "redis_unavailable")
    assert response.headers["Retry-After"] == "5"


def test_spec_default_error_is_the_envelope(client):
    spec = client.get("/v1/openapi.json").get_json()

    ref = spec["components"]["responses"]["DEFAULT_ERROR"]["content"]["application/json"]
    name = ref["schema"]["$ref"].rsplit("/", 1)[-1]
    schema = spec["components"]["schemas"][name]
    assert set(schema["properties"]) == {"error", "message", "details"}
    assert sorted(schema["required"]) == ["error", "message"]
    assert schema["properties"]["details"]["type"] == "object"
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if method != "parameters":
                assert "default" in operation["responses"], (method, path)
