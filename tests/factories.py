"""Builders of valid registration payloads, with overrides."""

from __future__ import annotations

from typing import Any

# The keys the provider fakes of tests/conftest.py accept.
ZAI_TEST_KEY = "zai-test-key"
DEEPSEEK_TEST_KEY = "sk-deepseek-test-0000abcd"


def registration(**overrides: Any) -> dict[str, Any]:
    """A valid POST /v1/instances body (Z.ai key by default)."""
    body: dict[str, Any] = {
        "project_name": "demo",
        "framework": "opencode",
        "auth": {"opencode_auth": {"zai-coding-plan": {"key": ZAI_TEST_KEY}}},
    }
    body.update(overrides)
    return body


def register(client, **overrides: Any) -> dict[str, Any]:
    """Registers through the API and returns the 201 body (asserting the status)."""
    response = client.post("/v1/instances", json=registration(**overrides))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def key_header(api_key: str) -> dict[str, str]:
    return {"X-API-Key": api_key}
