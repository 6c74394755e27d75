"""/v1/status and /v1/providers at the API level: before any poll, and after one real poll."""

from __future__ import annotations

import pytest

from tests.api.helpers import poll_now
from tests.factories import key_header, register

NO_DATA = {"status": "UNKNOWN", "error": "no data", "error_code": "never_polled"}
TWO_PROVIDERS = {
    "opencode_auth": {"zai-coding-plan": {"key": "zai-test-key"}, "deepseek": "sk-ds-status"}
}


def _get(client, path: str, reg):
    response = client.get(path, headers=key_header(reg["api_key"]))
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_status_is_unknown_and_proceed_before_any_poll(client):
    reg = register(client, auth=TWO_PROVIDERS)

    status = _get(client, "/v1/status", reg)

    assert status["instance_id"] == reg["instance_id"]
    assert status["overall_status"] == "UNKNOWN"
    assert status["recommendation"] == "PROCEED"
    assert status["message"]
    assert status["all_exhausted"] is False
    assert set(status["providers"]) == {"zai", "deepseek"}
    for provider in status["providers"].values():
        assert NO_DATA.items() <= provider.items()
        assert provider.get("windows", {}) == {}


def test_status_by_id_matches_status_of_the_caller(client):
    reg = register(client, auth=TWO_PROVIDERS)

    by_id = _get(client, f"/v1/status/{reg['instance_id']}", reg)
    own = _get(client, "/v1/status", reg)

    assert by_id == own


def test_providers_are_unknown_with_no_data_before_any_poll(client):
    reg = register(client, auth=TWO_PROVIDERS)

    providers = _get(client, "/v1/providers", reg)

    assert set(providers) == {"zai", "deepseek"}
    for provider in providers.values():
        assert NO_DATA.items() <= provider.items()
        assert provider.get("windows", {}) == {}


def test_provider_detail_is_no_data_before_any_poll(client):
    reg = register(client)

    assert _get(client, "/v1/providers/zai", reg) == {"name": "zai", **NO_DATA}


def test_providers_is_empty_when_no_credential_was_recognised(client):
    reg = register(client, auth={})

    assert _get(client, "/v1/providers", reg) == {}
    assert _get(client, "/v1/status", reg)["overall_status"] == "UNKNOWN"


def test_provider_detail_shows_windows_after_a_real_poll(zai, client, drain):
    zai.set_usage(five_hour=37, weekly=12)
    reg = register(client)
    other = register(client)

    queued = poll_now(client, reg["api_key"], drain)

    assert queued["queued"] == ["zai"]
    assert zai.upstream.count() == 1
    detail = _get(client, "/v1/providers/zai", reg)
    assert detail["name"] == "zai"
    assert detail["status"] == "GREEN"
    assert (
        detail["fingerprint"] == _get(client, "/v1/status", reg)["allocation"]["zai"]["fingerprint"]
    )
    assert sorted(detail["subscribers"]) == sorted([reg["instance_id"], other["instance_id"]])
    assert detail["windows"]["5h"]["utilization"] == pytest.approx(37.0)
    assert detail["windows"]["weekly"]["utilization"] == pytest.approx(12.0)
    for window in ("5h", "weekly"):
        assert detail["windows"][window]["status"] == "GREEN"
        assert detail["windows"][window]["resets_at"]
    assert detail["stale"] is False
    assert detail["plan"] == "pro"


def test_status_is_green_after_a_real_poll(zai, client, drain):
    reg = register(client)

    poll_now(client, reg["api_key"], drain)

    status = _get(client, "/v1/status", reg)
    assert status["overall_status"] == "GREEN"
    assert status["recommendation"] == "PROCEED"
    assert status["providers"]["zai"]["status"] == "GREEN"
    assert status["providers"]["zai"]["error"] is None
    providers = _get(client, "/v1/providers", reg)
    assert providers["zai"]["windows"]["5h"]["utilization"] == pytest.approx(41.0)


def test_status_is_red_and_claude_framework_stops_when_usage_is_over_the_cap(zai, client, drain):
    zai.set_usage(five_hour=92)
    reg = register(client, framework="claude")

    poll_now(client, reg["api_key"], drain)

    status = _get(client, "/v1/status", reg)
    assert status["providers"]["zai"]["windows"]["5h"]["status"] == "RED"
    assert status["overall_status"] == "RED"
    assert status["recommendation"] == "STOP"


def test_poll_is_debounced_by_the_min_poll_gap(zai, client, clock, drain):
    reg = register(client)
    poll_now(client, reg["api_key"], drain)
    clock.advance(5)

    again = poll_now(client, reg["api_key"], drain)

    assert again["queued"] == []
    assert 0 < again["scheduled_in_s"]["zai"] <= 10
    assert zai.upstream.count() == 1
