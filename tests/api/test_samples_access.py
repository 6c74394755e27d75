"""GET /v1/samples: an instance key reads its own accounts, the admin token every account, and a
bearer token that is not the admin one is refused as such (what `export-samples --admin-token`
sends), not with "send your instance's API key"."""

from __future__ import annotations

import pytest

from tests.api.helpers import assert_envelope
from tests.factories import key_header, register

ADMIN_TOKEN = "admin-token-for-samples-3b9e"


@pytest.fixture
def admin_client(env, request):
    env["QUOTA_SENTINEL_ADMIN_TOKEN"] = ADMIN_TOKEN
    return request.getfixturevalue("client")


def test_the_admin_token_and_an_instance_key_read_samples(admin_client):
    reg = register(admin_client)

    for headers in ({"Authorization": f"Bearer {ADMIN_TOKEN}"}, key_header(reg["api_key"])):
        response = admin_client.get("/v1/samples", headers=headers)
        assert response.status_code == 200, response.get_json()
        assert response.get_json() == {"samples": []}


def test_a_wrong_admin_token_is_refused_naming_the_admin_token(admin_client):
    response = admin_client.get("/v1/samples", headers={"Authorization": f"Bearer {ADMIN_TOKEN}x"})

    body = assert_envelope(response, 401, "unauthorized")
    assert "admin token" in body["message"]
    assert ADMIN_TOKEN not in response.get_data(as_text=True)


def test_an_admin_token_on_a_server_without_one_says_none_is_configured(client):
    response = client.get("/v1/samples", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})

    body = assert_envelope(response, 403, "forbidden")
    assert "QUOTA_SENTINEL_ADMIN_TOKEN" in body["message"]


def test_an_instance_key_still_wins_beside_a_wrong_token(admin_client):
    reg = register(admin_client)
    headers = {"Authorization": "Bearer nope", **key_header(reg["api_key"])}

    assert admin_client.get("/v1/samples", headers=headers).status_code == 200
