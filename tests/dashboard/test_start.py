"""What a newcomer does: `quota-sentinel start` (a real subprocess tree: embedded Redis,
gunicorn, worker, scheduler), two instances registered against a fake Z.ai, then the page at
`/` on loopback, with no admin token configured."""

from __future__ import annotations

from pathlib import Path

import requests

from tests.test_cli import Server
from tests.upstreams.zai import ZaiFake
from tests.waiting import wait_until

KEY = "zai-start-key"


def _register(url: str, project: str) -> dict:
    body = {"project_name": project, "auth": {"opencode_auth": {"zai-coding-plan": {"key": KEY}}}}
    response = requests.post(url + "/v1/instances", json=body, timeout=5)
    assert response.status_code == 201, response.text
    return response.json()


def test_start_serves_the_team_view_to_its_own_machine(tmp_path: Path):
    with ZaiFake(KEY) as zai:
        zai.set_usage(five_hour=62, weekly=30)
        server = Server(tmp_path / "data", {"QUOTA_SENTINEL_ZAI_BASE_URL": zai.url})
        try:
            server.wait_healthy()
            first = _register(server.url, "laptop-a")
            _register(server.url, "laptop-b")
            requests.post(
                server.url + "/v1/poll", headers={"X-API-Key": first["api_key"]}, timeout=5
            )

            def polled() -> dict | None:
                data = requests.get(server.url + "/dashboard/data", timeout=10).json()
                return data if data["accounts"] and data["accounts"][0]["windows"] else None

            data = wait_until(polled, timeout=60, what="a polled account on the team view")
            page = requests.get(server.url + "/", timeout=5)
            script = requests.get(server.url + "/dashboard/static/dashboard.js", timeout=5)
        finally:
            code, output = server.interrupt()

    assert code == 0, output
    assert page.status_code == 200 and "only on this machine (loopback)" in page.text
    assert script.status_code == 200 and "replaceChildren" in script.text
    (account,) = data["accounts"]
    assert account["subscribers"] == 2 and account["projects"] == ["laptop-a", "laptop-b"]
    assert account["windows"]["5h"]["utilization"] == 62
    assert [i["project"] for i in data["instances"]] == ["laptop-a", "laptop-b"]
    assert KEY not in output
