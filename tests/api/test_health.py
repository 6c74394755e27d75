"""/v1/health: Redis reachable, workers, version, and the age of the last poll."""

from __future__ import annotations

from click.testing import CliRunner

from quota_sentinel import __version__
from quota_sentinel.cli import main
from quota_sentinel.jobs import TICK_LATE_AFTER_S
from tests.api.helpers import poll_now
from tests.dashboard.live import serving
from tests.factories import register
from workers.ticking import enqueue_due_polls


def test_health_is_ok_when_redis_answers_and_the_scheduler_ticks(client):
    enqueue_due_polls()  # one scheduler tick, as a worker runs it

    response = client.get("/v1/health")

    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["redis"] == "ok"
    assert body["scheduler"] == "ok" and body["last_tick_age_s"] == 0.0
    assert body["version"] == __version__
    assert isinstance(body["workers"], int) and body["workers"] >= 0


def test_health_is_degraded_when_no_scheduler_ticked_lately(client, clock):
    body = client.get("/v1/health").get_json()
    assert body["status"] == "degraded" and body["scheduler"] == "late"
    assert body["last_tick_age_s"] is None  # never ticked

    enqueue_due_polls()
    clock.advance(TICK_LATE_AFTER_S)
    assert client.get("/v1/health").get_json()["status"] == "ok"

    clock.advance(1)
    response = client.get("/v1/health")
    # Degraded, not down: this replica still serves the API, so load balancers keep it.
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "degraded" and body["scheduler"] == "late"
    assert body["last_tick_age_s"] == TICK_LATE_AFTER_S + 1


def test_health_cli_exits_1_and_says_why_when_degraded(app):
    with serving(app) as url:
        result = CliRunner().invoke(main, ["health", "--url", url])

    assert result.exit_code == 1
    assert result.output.startswith("degraded: redis ok")
    assert "scheduler not ticking" in result.output
    assert "quota-sentinel scheduler" in result.output


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
