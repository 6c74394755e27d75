"""Helpers shared by the worker tests: registering through the API and reading what it shows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from quota_sentinel.services.context import Context
from tests.factories import DEEPSEEK_TEST_KEY, ZAI_TEST_KEY, key_header, register

ZAI_KEY = ZAI_TEST_KEY
DEEPSEEK_KEY = DEEPSEEK_TEST_KEY
# Read timeout for the hang tests: short, so a hang costs about 3 × this (urllib3 retries reads).
SHORT_HTTP_TIMEOUT_S = 0.5
HOUR_S = 3600


@dataclass(frozen=True)
class Registered:
    """An instance registered through POST /v1/instances."""

    instance_id: str
    api_key: str
    poll_interval: int

    @property
    def headers(self) -> dict[str, str]:
        return key_header(self.api_key)


def zai_auth(key: str = ZAI_KEY) -> dict[str, Any]:
    return {"opencode_auth": {"zai-coding-plan": {"key": key}}}


def deepseek_auth(key: str = DEEPSEEK_KEY) -> dict[str, Any]:
    return {"opencode_auth": {"deepseek": {"key": key}}}


def register_instance(client, auth: dict[str, Any] | None = None, **overrides: Any) -> Registered:
    """Registers through the API (Z.ai key by default) and returns the instance."""
    body = register(client, auth=auth or zai_auth(), **overrides)
    return Registered(body["instance_id"], body["api_key"], body["poll_interval"])


def fp_of(ctx: Context, reg: Registered, provider: str = "zai") -> str:
    """The fingerprint of the instance's account of `provider`."""
    inst = ctx.store.instances.get(reg.instance_id)
    assert inst is not None, "the instance is not stored"
    return inst.accounts[provider]


def get_json(client, path: str, reg: Registered) -> dict[str, Any]:
    response = client.get(path, headers=reg.headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def providers_view(client, reg: Registered) -> dict[str, Any]:
    return get_json(client, "/v1/providers", reg)


def status_view(client, reg: Registered) -> dict[str, Any]:
    return get_json(client, "/v1/status", reg)


def heartbeat(client, reg: Registered) -> None:
    response = client.patch(
        f"/v1/instances/{reg.instance_id}/heartbeat", json={}, headers=reg.headers
    )
    assert response.status_code == 200, response.get_json()


def ms(epoch_s: float) -> int:
    """Epoch seconds → epoch milliseconds (Z.ai's nextResetTime)."""
    return int(epoch_s * 1000)


def sample_count(ctx: Context, fp: str) -> int:
    """Stored utilization samples (a failed poll is stored as a marker without any)."""
    return sum(s.error is None for s in ctx.store.snapshots.samples_since([fp], 0)[fp])


def is_sentence(text: str) -> bool:
    """A message a person can act on: capitalised, several words, ending with a full stop."""
    return text[:1].isupper() and len(text.split()) >= 4 and text.rstrip().endswith(".")
