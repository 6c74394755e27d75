"""End to end with the settable clock: register, poll through RQ, and read what the API tells.

Utilization climbs on the provider fakes while the clock advances five minutes per step; every
step polls through a real RQ worker and reads /v1/status as an agent would.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from quota_sentinel.engine import Status
from tests.workers.support import (
    HOUR_S,
    Registered,
    deepseek_auth,
    heartbeat,
    is_sentence,
    ms,
    providers_view,
    register_instance,
    status_view,
)
from workers.ticking import enqueue_due_polls

STEP_S = 300
ZAI_CAP = 80  # zai_default
SEVERITY = {"GREEN": 1, "YELLOW": 2, "RED": 3}


@dataclass(frozen=True)
class Seen:
    utilization: float
    window: dict
    status: dict


def _poll_now(client, reg: Registered, drain) -> None:
    """POST /v1/poll as the agent would, then let a real worker run the queued poll."""
    answer = client.post("/v1/poll", headers=reg.headers)
    assert answer.status_code == 202 and answer.get_json()["queued"], answer.get_json()
    assert drain() == 1


def _climb(zai, client, clock, drain, regs: list[Registered], levels: list[float]) -> list[Seen]:
    """One step per level: set the 5h utilization, advance the clock, poll, read each status."""
    seen = []
    for i, level in enumerate(levels):
        zai.set_usage(five_hour=level)
        if i:
            clock.advance(STEP_S)
        for reg in regs:
            heartbeat(client, reg)
        _poll_now(client, regs[0], drain)
        for reg in regs:
            status = status_view(client, reg)
            seen.append(Seen(level, status["providers"]["zai"]["windows"]["5h"], status))
    return seen


def _assert_escalates(seen: list[Seen]) -> None:
    statuses = [s.window["status"] for s in seen]
    ranks = [SEVERITY[s] for s in statuses]
    assert ranks == sorted(ranks), f"status went back down: {statuses}"
    assert {"GREEN", "YELLOW", "RED"} <= set(statuses), statuses


def test_climbing_zai_window_goes_green_yellow_red_before_the_cap(
    zai, client, ctx, clock, drain
) -> None:
    zai.set_usage(five_hour=20, reset_5h_ms=ms(clock.now + 5 * HOUR_S))
    reg = register_instance(client, framework="opencode")
    levels = [20 + 2 * i for i in range(31)]  # +2 points every 5 minutes, up to 80

    seen = _climb(zai, client, clock, drain, [reg], levels)

    _assert_escalates(seen)
    first_red = next(s for s in seen if s.window["status"] == "RED")
    assert first_red.utilization < ZAI_CAP
    # 24 %/h with a 30-minute margin: RED at least half an hour before the cap.
    assert first_red.window["projected_exhaustion_min"] >= ctx.settings.safety_margin_min
    assert seen[-1].window["status"] == "RED" and seen[-1].utilization == ZAI_CAP
    assert seen[-1].window["velocity_pct_per_hour"] == pytest.approx(24.0)
    projections = [s.window["projected_exhaustion_min"] for s in seen[1:-1]]
    assert all(b < a for a, b in zip(projections, projections[1:], strict=False)), projections
    first_yellow = next(s for s in seen if s.window["status"] == "YELLOW")
    assert first_yellow.utilization < first_red.utilization
    for s in seen:
        status = s.window["status"]
        assert s.status["providers"]["zai"]["status"] == status  # the 5h window is the worst
        assert s.status["overall_status"] == status
        assert s.status["message"].endswith(".")
        assert (status != "GREEN") == ("zai" in s.status["message"]), s.status["message"]
    recommendation = {s.window["status"]: s.status["recommendation"] for s in seen}
    assert recommendation == {
        "GREEN": "PROCEED",
        "YELLOW": "PROCEED_SMALL_ONLY",
        "RED": "STOP",
    }
    assert first_red.status["all_exhausted"] is True
    assert seen[0].status["all_exhausted"] is False


def test_claude_instance_on_the_same_key_is_told_to_stop(zai, client, ctx, clock, drain) -> None:
    zai.set_usage(five_hour=10, reset_5h_ms=ms(clock.now + 5 * HOUR_S))
    opencode = register_instance(client, framework="opencode")
    claude = register_instance(client, framework="claude")
    levels = [10 + 2 * i for i in range(26)]

    seen = _climb(zai, client, clock, drain, [opencode, claude], levels)

    by_instance = {
        reg.instance_id: [s for s in seen if s.status["instance_id"] == reg.instance_id]
        for reg in (opencode, claude)
    }
    for reg in (opencode, claude):
        mine = by_instance[reg.instance_id]
        _assert_escalates(mine)
        # Two active subscribers share the account: each is held to cap × 1/2 × overcommit.
        allocation = mine[-1].status["allocation"]["zai"]
        assert allocation["subscribers"] == 2 and allocation["share"] == 0.5
        effective = ZAI_CAP * 0.5 * ctx.settings.overcommit
        assert allocation["effective_caps"]["5h"] == pytest.approx(effective)
        first_red = next(s for s in mine if s.window["status"] == "RED")
        assert first_red.utilization < effective
    claude_advice = {
        s.window["status"]: s.status["recommendation"] for s in by_instance[claude.instance_id]
    }
    assert claude_advice == {"GREEN": "PROCEED", "YELLOW": "PROCEED_SMALL_ONLY", "RED": "STOP"}
    opencode_red = [
        s.status["recommendation"]
        for s in by_instance[opencode.instance_id]
        if s.window["status"] == "RED"
    ]
    assert set(opencode_red) == {"STOP"}


def test_window_that_resets_before_the_cap_stays_green(zai, client, ctx, clock, drain) -> None:
    # The same climb as above, but the window resets 85 minutes from now: at 24 %/h it never
    # gets to the cap first, so there is nothing to warn about.
    reset = clock.now + 85 * 60
    zai.set_usage(five_hour=40, reset_5h_ms=ms(reset))
    reg = register_instance(client)
    levels = [40 + 2 * i for i in range(16)]  # up to 70, past the level that was RED above

    seen = _climb(zai, client, clock, drain, [reg], levels)

    assert {s.window["status"] for s in seen} == {"GREEN"}
    assert {s.status["recommendation"] for s in seen} == {"PROCEED"}
    last = seen[-1].window
    assert last["velocity_pct_per_hour"] == pytest.approx(24.0)
    assert last["projected_at_reset"] < ZAI_CAP
    assert last["projected_exhaustion_min"] > (reset - clock.now) / 60


def test_upstream_failure_keeps_the_last_good_data_then_recovers(
    zai, client, ctx, clock, drain
) -> None:
    zai.set_usage(five_hour=30, reset_5h_ms=ms(clock.now + 5 * HOUR_S))
    reg = register_instance(client)
    _climb(zai, client, clock, drain, [reg], [30, 40, 50])
    before = status_view(client, reg)
    assert before["overall_status"] == "RED" and before["recommendation"] == "STOP"
    zai.fail("500")
    clock.advance(STEP_S)
    heartbeat(client, reg)

    _poll_now(client, reg, drain)

    # One failed poll: the last good data still grades the window, marked stale, so a RED
    # provider stays RED instead of turning into "no data, proceed".
    status = status_view(client, reg)
    provider = status["providers"]["zai"]
    assert provider["status"] == "RED" and provider["stale"] is True
    assert status["recommendation"] == "STOP"
    assert is_sentence(provider["error"]) and "500" in provider["error"]
    assert provider["windows"]["5h"]["utilization"] == 50
    assert provider["data_age_s"] == STEP_S

    # Past three intervals (15 min at least) the data is too old to grade: UNKNOWN.
    clock.advance(15 * 60 - STEP_S + 1)
    heartbeat(client, reg)
    status = status_view(client, reg)
    provider = status["providers"]["zai"]
    assert provider["status"] == "UNKNOWN" and provider["stale"] is True
    assert provider["windows"]["5h"]["utilization"] == 50
    assert "no current quota data" in status["message"]
    zai.ok()
    zai.set_usage(five_hour=52)
    clock.now = ctx.store.due.due_at(status["allocation"]["zai"]["fingerprint"])
    heartbeat(client, reg)
    assert enqueue_due_polls() == 1
    assert drain() == 1
    provider = providers_view(client, reg)["zai"]
    assert provider["stale"] is False and provider["error"] is None
    assert provider["status"] in {"GREEN", "YELLOW", "RED"}
    assert provider["windows"]["5h"]["utilization"] == 52


def test_deepseek_spending_climbs_and_a_top_up_lowers_it(
    deepseek, client, ctx, clock, drain
) -> None:
    reg = register_instance(client, auth=deepseek_auth())
    balances = [10.0, 9.0, 8.0, 7.0, 6.0, 15.0, 13.5]
    seen = []
    for i, balance in enumerate(balances):
        deepseek.set_balance(balance)
        if i:
            clock.advance(STEP_S)
        heartbeat(client, reg)
        assert enqueue_due_polls() == 1
        assert drain() == 1
        seen.append(status_view(client, reg)["providers"]["deepseek"])

    utilization = [p["windows"]["balance"]["utilization"] for p in seen]
    assert utilization == pytest.approx([0, 10, 20, 30, 40, 0, 10])
    assert all(p["status"] != Status.UNKNOWN.value and p["error"] is None for p in seen)
    # 120 %/h fitted on five whole-percent readings, vouched for two standard errors down.
    assert 110.0 < seen[4]["windows"]["balance"]["velocity_pct_per_hour"] < 120.0
    assert seen[4]["status"] in {"YELLOW", "RED"}
    # The top-up is a new window: the reference balance moved up, the old burn is forgotten.
    after_top_up = seen[5]["windows"]["balance"]
    assert after_top_up["metadata"]["reference_balance"] == 15.0
    assert after_top_up["status"] == "GREEN"
    assert seen[6]["windows"]["balance"]["metadata"]["total_balance"] == 13.5
