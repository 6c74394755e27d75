"""/v1/metrics: who may scrape it, and what prometheus_client's own parser reads from it after
real registrations and polls."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.api.helpers import assert_envelope, poll_now
from tests.factories import ZAI_TEST_KEY, register

TOKEN = "metrics-admin-token-0123456789"


@pytest.fixture
def admin(env: dict[str, str]) -> str:
    env["QUOTA_SENTINEL_ADMIN_TOKEN"] = TOKEN
    return TOKEN


def scrape(client, **kwargs) -> dict[str, list]:
    """Metric family name → its samples, parsed by prometheus_client."""
    response = client.get("/v1/metrics", **kwargs)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.content_type.startswith("text/plain; version=")
    text = response.get_data(as_text=True)
    return {f.name: f.samples for f in text_string_to_metric_families(text)}


def value(families: dict[str, list], name: str, **labels: str) -> float:
    """The one sample of `name` whose labels include `labels`."""
    found = [
        s.value
        for s in families[name.removesuffix("_total")]
        if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
    ]
    assert len(found) == 1, (name, labels, families.get(name))
    return found[0]


def test_metrics_need_the_admin_token_when_one_is_configured(admin, client):
    assert_envelope(client.get("/v1/metrics"), 401, "unauthorized")

    families = scrape(client, headers={"Authorization": f"Bearer {TOKEN}"})

    assert value(families, "quota_sentinel_workers") == 0


def test_without_a_token_metrics_are_served_to_loopback_only(client):
    remote = client.get("/v1/metrics", environ_base={"REMOTE_ADDR": "10.1.2.3"})
    forwarded = client.get("/v1/metrics", headers={"X-Forwarded-For": "10.1.2.3"})

    assert_envelope(remote, 403, "forbidden")
    assert_envelope(forwarded, 403, "forbidden")
    assert "quota_sentinel_instances" in scrape(client)


def test_accounts_windows_polls_and_instances_come_from_redis(zai, client, ctx, drain):
    zai.set_usage(five_hour=72, weekly=30)
    reg = register(client, project_name="metrics")
    register(client, project_name="second", framework="claude")
    poll_now(client, reg["api_key"], drain)

    families = scrape(client)

    fp = ctx.store.instances.get(reg["instance_id"]).accounts["zai"]
    ids = {"provider": "zai", "account": fp[:6]}
    assert value(families, "quota_sentinel_window_utilization_percent", window="5h", **ids) == 72
    assert (
        value(families, "quota_sentinel_window_utilization_percent", window="weekly", **ids) == 30
    )
    assert value(families, "quota_sentinel_window_status", window="5h", status="GREEN", **ids) == 1
    assert value(families, "quota_sentinel_window_status", window="5h", status="RED", **ids) == 0
    assert value(families, "quota_sentinel_account_subscribers", state="active", **ids) == 2
    assert value(families, "quota_sentinel_account_last_poll_age_seconds", **ids) == 0
    assert value(families, "quota_sentinel_polls_total", provider="zai", outcome="ok") == 1
    assert value(families, "quota_sentinel_instances", framework="opencode", state="active") == 1
    assert value(families, "quota_sentinel_instances", framework="claude", state="active") == 1
    assert value(families, "quota_sentinel_queue_depth", queue="poll") == 0
    text = client.get("/v1/metrics").get_data(as_text=True)
    assert ZAI_TEST_KEY not in text and fp not in text and reg["api_key"] not in text


def test_failed_polls_are_counted_by_error_code(zai, client, drain):
    reg = register(client)
    zai.fail("401")
    poll_now(client, reg["api_key"], drain)

    families = scrape(client)

    assert value(families, "quota_sentinel_polls_total", provider="zai", outcome="auth_failed") == 1


def test_http_requests_are_counted_by_route_and_status(client):
    def served(families, status: str) -> float:
        route = "/v1/instances/<string:instance_id>"
        samples = families["quota_sentinel_http_requests"]
        return sum(
            s.value
            for s in samples
            if s.name.endswith("_total")
            and s.labels["route"] == route
            and s.labels["status"] == status
        )

    before = scrape(client)
    for _ in range(3):
        client.delete("/v1/instances/nope", headers={"X-API-Key": "qs_wrong"})
    after = scrape(client)

    assert served(after, "401") - served(before, "401") == 3
    latency = [
        s
        for s in after["quota_sentinel_http_request_duration_seconds"]
        if s.name.endswith("_count") and s.labels["route"] == "/v1/instances/<string:instance_id>"
    ]
    assert latency and latency[0].value >= 3
