"""The auth matrix of every instance route: own key, another's key, no key, unknown and
deregistered keys; and the admin token on GET /v1/status/{id}."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from tests.api.helpers import assert_envelope
from tests.factories import key_header, register

ADMIN_TOKEN = "admin-token-for-tests-7c1d"


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # "{id}" is replaced by the target instance id
    ok: int
    body: dict[str, Any] | None = None

    @property
    def has_id(self) -> bool:
        return "{id}" in self.path

    def call(self, client, instance_id: str, headers: dict[str, str]):
        return client.open(
            self.path.format(id=instance_id), method=self.method, json=self.body, headers=headers
        )


ROUTES = [
    Route("DELETE", "/v1/instances/{id}", 200),
    Route("PATCH", "/v1/instances/{id}/heartbeat", 200, {"state": "idle"}),
    Route("GET", "/v1/status", 200),
    Route("GET", "/v1/status/{id}", 200),
    Route("GET", "/v1/providers", 200),
    Route("GET", "/v1/providers/zai", 200),
    Route("POST", "/v1/poll", 202),
]
ROUTE_IDS = [f"{r.method} {r.path}" for r in ROUTES]
ID_ROUTES = [r for r in ROUTES if r.has_id]


def _refused(response, status: int, sent_key: str | None = None) -> dict[str, Any]:
    body = assert_envelope(response, status)
    if sent_key:
        assert sent_key not in response.get_data(as_text=True)
    return body


@pytest.mark.parametrize("route", ROUTES, ids=ROUTE_IDS)
def test_route_answers_when_key_is_the_instances_own(client, route):
    reg = register(client)

    response = route.call(client, reg["instance_id"], key_header(reg["api_key"]))

    assert response.status_code == route.ok, response.get_json()


@pytest.mark.parametrize("route", ID_ROUTES, ids=[f"{r.method} {r.path}" for r in ID_ROUTES])
def test_route_forbids_when_key_is_another_instances(client, ctx, route):
    target, other = register(client), register(client)

    response = route.call(client, target["instance_id"], key_header(other["api_key"]))

    assert _refused(response, 403, other["api_key"])["error"] == "forbidden"
    assert ctx.store.instances.get(target["instance_id"]) is not None
    assert ctx.store.instances.get(target["instance_id"]).state == "active"


@pytest.mark.parametrize("route", ROUTES, ids=ROUTE_IDS)
def test_route_refuses_when_no_key_is_sent(client, route):
    reg = register(client)

    response = route.call(client, reg["instance_id"], {})

    assert _refused(response, 401)["error"] == "unauthorized"


@pytest.mark.parametrize("header", ["", "   "], ids=["empty", "blank"])
def test_route_refuses_when_key_header_is_empty(client, header):
    register(client)

    response = client.get("/v1/status", headers={"X-API-Key": header})

    assert _refused(response, 401)["error"] == "unauthorized"


@pytest.mark.parametrize("route", ROUTES, ids=ROUTE_IDS)
def test_route_refuses_when_key_is_unknown(client, route):
    reg = register(client)
    forged = "qs_" + "A" * 43

    response = route.call(client, reg["instance_id"], key_header(forged))

    assert _refused(response, 401, forged)["error"] == "unauthorized"


@pytest.mark.parametrize("route", ROUTES, ids=ROUTE_IDS)
def test_route_refuses_when_key_was_deregistered(client, route):
    reg = register(client)
    headers = key_header(reg["api_key"])
    assert client.delete(f"/v1/instances/{reg['instance_id']}", headers=headers).status_code == 200

    response = route.call(client, reg["instance_id"], headers)

    assert _refused(response, 401, reg["api_key"])["error"] == "unauthorized"


def test_key_of_one_instance_does_not_see_another_instances_data(client):
    mine = register(client, project_name="mine")
    register(client, project_name="theirs", auth={"github_token": "gho_theirsonlytoken"})

    status = client.get("/v1/status", headers=key_header(mine["api_key"])).get_json()
    providers = client.get("/v1/providers", headers=key_header(mine["api_key"])).get_json()

    assert status["instance_id"] == mine["instance_id"]
    assert status["project"] == "mine"
    assert set(providers) == {"zai"}
    assert_envelope(client.get("/v1/providers/copilot", headers=key_header(mine["api_key"])), 404)


# -- admin token on GET /v1/status/{id} --------------------------------------------------------


@pytest.fixture
def admin_client(env, request):
    env["QUOTA_SENTINEL_ADMIN_TOKEN"] = ADMIN_TOKEN
    return request.getfixturevalue("client")


def test_admin_token_reads_any_instances_status(admin_client):
    reg = register(admin_client, project_name="someone-else")

    response = admin_client.get(
        f"/v1/status/{reg['instance_id']}", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
    )

    assert response.status_code == 200
    assert response.get_json()["instance_id"] == reg["instance_id"]
    assert response.get_json()["project"] == "someone-else"


@pytest.mark.parametrize(
    "authorization",
    [None, f"Bearer {ADMIN_TOKEN}x", "Bearer ", ADMIN_TOKEN, f"Basic {ADMIN_TOKEN}"],
    ids=["none", "wrong", "empty", "no-scheme", "basic"],
)
def test_admin_status_falls_back_to_key_auth_when_token_is_not_the_admin_one(
    admin_client, authorization
):
    reg = register(admin_client)
    headers = {"Authorization": authorization} if authorization else {}

    refused = admin_client.get(f"/v1/status/{reg['instance_id']}", headers=headers)
    with_key = admin_client.get(
        f"/v1/status/{reg['instance_id']}", headers={**headers, **key_header(reg["api_key"])}
    )

    body = _refused(refused, 401)
    assert ADMIN_TOKEN not in refused.get_data(as_text=True)
    assert body["error"] == "unauthorized"
    assert with_key.status_code == 200


def test_bearer_token_is_refused_when_no_admin_token_is_configured(client):
    reg = register(client)

    response = client.get(
        f"/v1/status/{reg['instance_id']}", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
    )

    assert _refused(response, 401)["error"] == "unauthorized"


def test_admin_token_does_not_open_other_instance_routes(admin_client):
    reg = register(admin_client)
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}

    assert_envelope(admin_client.get("/v1/status", headers=admin), 401)
    assert_envelope(admin_client.delete(f"/v1/instances/{reg['instance_id']}", headers=admin), 401)
