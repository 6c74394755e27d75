"""A small team built through the real API and real polls: one account of each status.

    zai (shared by web-app and batch-jobs)  5h climbs to 85 % of an 80 % cap       → RED
    deepseek (web-app)                      spends 48 %/h, 45 points from its cap  → YELLOW
    zai China host (research)               5h creeps up, resets long before cap   → GREEN
    zai with a key the fake refuses (mobile) every poll fails                      → UNKNOWN + error

Six polls ten minutes apart on the test clock, so every window has a sparkline.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.api.helpers import fingerprints
from tests.factories import DEEPSEEK_TEST_KEY, ZAI_TEST_KEY, key_header, register
from tests.upstreams.deepseek import DeepSeekFake
from tests.upstreams.zai import ZaiFake

ZAI_CN_KEY = "zai-cn-test-key-5678"
ZAI_REFUSED_KEY = "zai-refused-key-9999"
ADMIN_TOKEN = "admin-token-for-the-team-view-tests"
POLL_GAP_S = 600
ZAI_5H = (30, 42, 55, 66, 76, 85)
ZAI_WEEKLY = (20, 21, 22, 23, 24, 25)
ZAI_CN_5H = (5, 6, 7, 8, 9, 10)
DEEPSEEK_BALANCES = (10.0, 9.2, 8.4, 7.6, 6.8, 6.0)  # 0 → 40 % of the reference spent
# The markup must reach the page as text, never as HTML.
HOSTILE_PROJECT = "<b>mobile</b>"


@dataclass
class Team:
    regs: dict[str, dict[str, Any]] = field(default_factory=dict)
    fps: dict[str, str] = field(default_factory=dict)
    secrets: list[str] = field(default_factory=list)

    def key(self, project: str) -> str:
        return self.regs[project]["api_key"]


def _reset_times(fake: ZaiFake, t0: float) -> None:
    fake.set_usage(
        reset_5h_ms=int((t0 + 4 * 3600) * 1000),
        reset_weekly_ms=int((t0 + 3 * 86400) * 1000),
        reset_mcp_ms=int((t0 + 20 * 86400) * 1000),
    )


def poll_all(client: Any, team: Team, drain: Callable[[], int]) -> None:
    for reg in team.regs.values():
        assert client.post("/v1/poll", headers=key_header(reg["api_key"])).status_code == 202
    drain()


def build_team(
    client: Any,
    clock: Any,
    drain: Callable[[], int],
    zai: ZaiFake,
    deepseek: DeepSeekFake,
    zai_cn: ZaiFake | None = None,
) -> Team:
    """Registers the instances and runs the six polls; returns keys and fingerprints."""
    team = Team(secrets=[ZAI_TEST_KEY, DEEPSEEK_TEST_KEY, ZAI_CN_KEY, ZAI_REFUSED_KEY])
    t0 = clock.now
    _reset_times(zai, t0)
    both = {"zai-coding-plan": {"key": ZAI_TEST_KEY}, "deepseek": DEEPSEEK_TEST_KEY}
    team.regs["web-app"] = register(client, project_name="web-app", auth={"opencode_auth": both})
    shared = {"opencode_auth": {"zai-coding-plan": {"key": ZAI_TEST_KEY}}}
    team.regs["batch-jobs"] = register(
        client, project_name="batch-jobs", framework="claude", state="idle", auth=shared
    )
    if zai_cn is not None:
        _reset_times(zai_cn, t0)
        china = {"opencode_auth": {"zhipu-coding-plan": {"key": ZAI_CN_KEY}}}
        team.regs["research"] = register(client, project_name="research", auth=china)
    refused = {"opencode_auth": {"zai-coding-plan": {"key": ZAI_REFUSED_KEY}}}
    team.regs[HOSTILE_PROJECT] = register(client, project_name=HOSTILE_PROJECT, auth=refused)
    for i in range(len(ZAI_5H)):
        if i:
            clock.advance(POLL_GAP_S)
        zai.set_usage(five_hour=ZAI_5H[i], weekly=ZAI_WEEKLY[i])
        deepseek.set_balance(DEEPSEEK_BALANCES[i])
        if zai_cn is not None:
            zai_cn.set_usage(five_hour=ZAI_CN_5H[i], weekly=3)
        poll_all(client, team, drain)
        heartbeat_all(client, team)
    web = fingerprints(client, team.key("web-app"))
    team.fps = {"zai": web["zai"], "deepseek": web["deepseek"]}
    team.fps["refused"] = fingerprints(client, team.key(HOSTILE_PROJECT))["zai"]
    if zai_cn is not None:
        team.fps["zai_cn"] = fingerprints(client, team.key("research"))["zai"]
    team.secrets += [reg["api_key"] for reg in team.regs.values()]
    return team


def heartbeat_all(client: Any, team: Team) -> None:
    """Keeps every instance alive while the test clock moves on."""
    for reg in team.regs.values():
        response = client.patch(
            f"/v1/instances/{reg['instance_id']}/heartbeat",
            json={},
            headers=key_header(reg["api_key"]),
        )
        assert response.status_code == 200, response.get_json()
