"""The README's dev fake (tests/upstreams/serve.py), steered through its control API."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import requests

from tests.upstreams.serve import DevServer
from tests.upstreams.zai import QUOTA_PATH
from tests.workers.support import (
    deepseek_auth,
    heartbeat,
    providers_view,
    register_instance,
    status_view,
    zai_auth,
)
from workers.ticking import enqueue_due_polls

ROOT = Path(__file__).resolve().parents[2]
STEP_S = 300


def _control(server: DevServer, path: str, body: dict | None = None) -> dict:
    response = requests.post(f"{server.url}/_fake/{path}", json=body or {}, timeout=5)
    assert response.status_code == 200, response.text
    return response.json()


def _tick(client, reg, clock, drain, advance: bool = True) -> dict:
    if advance:
        clock.advance(STEP_S)
    heartbeat(client, reg)
    assert enqueue_due_polls() == 1
    assert drain() == 1
    return status_view(client, reg)


def test_ramp_takes_a_provider_green_yellow_red_and_failures_keep_data(
    dev_fake, client, ctx, clock, drain
) -> None:
    reg = register_instance(client, auth=zai_auth("any-dev-key"))
    state = _control(
        dev_fake, "zai", {"five_hour": 20, "ramp_per_min": 0.4, "reset_5h_in_min": 300}
    )
    assert state["zai"]["five_hour"] == 20 and state["zai"]["ramp_per_min"] == 0.4

    seen = [_tick(client, reg, clock, drain, advance=False)]
    while seen[-1]["overall_status"] != "RED" and len(seen) < 40:
        seen.append(_tick(client, reg, clock, drain))

    statuses = [s["overall_status"] for s in seen]
    assert statuses[0] == "GREEN" and "YELLOW" in statuses and statuses[-1] == "RED"
    assert statuses.index("YELLOW") < statuses.index("RED")
    red = seen[-1]["providers"]["zai"]["windows"]["5h"]
    assert red["utilization"] < 80 and red["velocity_pct_per_hour"] == 24.0
    assert [s["recommendation"] for s in seen][-1] == "STOP"

    _control(dev_fake, "zai/fail", {"mode": "500"})
    stale = _tick(client, reg, clock, drain)["providers"]["zai"]
    assert stale["status"] == "RED" and stale["stale"] is True
    assert stale["windows"]["5h"]["utilization"] == red["utilization"]
    _control(dev_fake, "zai/ok")
    clock.now = ctx.store.due.due_at(seen[-1]["allocation"]["zai"]["fingerprint"])
    assert _tick(client, reg, clock, drain, advance=False)["providers"]["zai"]["stale"] is False
    assert requests.get(f"{dev_fake.url}/_fake", timeout=5).json()["zai"]["calls"] == len(seen) + 2


def test_deepseek_balance_is_steered_on_the_same_port(dev_fake, client, ctx, clock, drain) -> None:
    reg = register_instance(client, auth=deepseek_auth("sk-any-dev-key"))
    _tick(client, reg, clock, drain, advance=False)

    state = _control(dev_fake, "deepseek", {"balance": 3.5})
    assert state["deepseek"]["balance"] == 3.5
    balance = _tick(client, reg, clock, drain)["providers"]["deepseek"]["windows"]["balance"]

    assert balance["utilization"] == 65.0
    assert balance["metadata"]["total_balance"] == 3.5
    _control(dev_fake, "deepseek/fail", {"mode": "401"})
    failed = _tick(client, reg, clock, drain)["providers"]["deepseek"]
    assert failed["error_code"] == "auth_failed"
    _control(dev_fake, "deepseek/ok")
    assert providers_view(client, reg)["deepseek"]["windows"]["balance"]["utilization"] == 65.0


def test_control_rejects_bad_requests(dev_fake) -> None:
    for path, body in (
        ("zai/fail", {"mode": "teapot"}),
        ("zai", {"five_hour": 150}),
        ("zai", {"ramp_per_min": "fast"}),
        ("deepseek", {"balance": -1}),
        ("deepseek", {"available": "yes"}),
    ):
        response = requests.post(f"{dev_fake.url}/_fake/{path}", json=body, timeout=5)
        assert response.status_code == 400, (path, body)
        assert response.json()["error"].endswith(".")
    response = requests.post(f"{dev_fake.url}/_fake/zai", data="{not json", timeout=5)
    assert response.status_code == 400
    # Nothing was applied.
    state = requests.get(f"{dev_fake.url}/_fake", timeout=5).json()
    assert state["zai"]["five_hour"] == 41 and state["zai"]["failure"] is None


def test_a_configured_key_is_the_only_one_accepted() -> None:
    with DevServer(port=0, zai_key="the-key") as server:
        wrong = requests.get(
            server.url + QUOTA_PATH, headers={"Authorization": "Bearer other"}, timeout=5
        ).json()
        right = requests.get(
            server.url + QUOTA_PATH, headers={"Authorization": "Bearer the-key"}, timeout=5
        ).json()
    assert wrong["success"] is False and wrong["code"] == 1001
    assert right["success"] is True


def test_serve_runs_as_a_module_on_one_port() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.upstreams.serve", "--port", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        first = proc.stdout.readline()
        assert first.startswith("fake upstreams on http://127.0.0.1:"), first
        url = first.split(" on ", 1)[1].strip()
        requests.post(f"{url}/_fake/zai", json={"five_hour": 85}, timeout=5).raise_for_status()
        quota = requests.get(url + QUOTA_PATH, headers={"Authorization": "k"}, timeout=5).json()
        balance = requests.get(
            url + "/user/balance", headers={"Authorization": "Bearer k"}, timeout=5
        )
        assert quota["data"]["limits"][0]["percentage"] == 85
        assert balance.json()["balance_infos"][0]["total_balance"] == "10.00"
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
