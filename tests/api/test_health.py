"""/v1/health: Redis reachable, workers, version, and the age of the last poll."""

from __future__ import annotations

from quota_sentinel import __version__
from tests.api.helpers import poll_now
from tests.factories import register


def test_health_is_ok_when_redis_answers(client):
    response = client.get("/v1/health")

    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["redis"] == "ok"
    assert body["version"] == __version__
    assert isinstance(body["workers"], int) and body["workers"] >= 0


def test_health_needs_no_key(client):
    assert client.get("/v1/health", headers={"X-API-Key": "qs_" + "x" * 43}).status_code == 200


def test_last_poll_age_is_none_before_any_poll(client):
    register(client)

    assert client.get("/v1/health").get_json()["last_poll_age_s"] is None


def test_last_poll_age_counts_from_the_drained_poll(zai, client, clock, drain):
    reg = register(client)
    poll_now(client, reg["api_key"], drain)
    clock.advance(42)

    body = client.get("/v1/health").get_json()

    assert body["last_poll_age_s"] == 42.0
    assert body["status"] == "ok"
