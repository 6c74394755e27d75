"""/v1/team: who may read it, and what it shows after real registrations and polls."""

from __future__ import annotations

import json

import pytest

from quota_sentinel.engine.windows import window_length_s
from quota_sentinel.providers.base import WindowUsage
from quota_sentinel.services.team import SPARKLINE_POINTS, history_span_s, outlook, sparkline
from quota_sentinel.store.keys import HISTORY_RETENTION_S
from quota_sentinel.store.snapshots import StoredSample
from quota_sentinel.web.schemas.phrasing import human_duration, outlook_text
from tests.api.helpers import API_KEY_RE, assert_absent, assert_envelope, poll_now
from tests.dashboard.scenario import ADMIN_TOKEN, HOSTILE_PROJECT, ZAI_5H, build_team
from tests.factories import key_header, register

BEARER = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture
def admin(env: dict[str, str]) -> str:
    """Configures the admin token (request it before `client`)."""
    env["QUOTA_SENTINEL_ADMIN_TOKEN"] = ADMIN_TOKEN
    return ADMIN_TOKEN


# --- access ---------------------------------------------------------------------------------


def test_team_needs_the_admin_token_when_one_is_configured(admin, client):
    assert_envelope(client.get("/v1/team"), 401, "unauthorized")
    wrong = {"Authorization": "Bearer not-the-token"}
    assert_envelope(client.get("/v1/team", headers=wrong), 401, "unauthorized")
    basic = {"Authorization": f"Basic {ADMIN_TOKEN}"}
    assert_envelope(client.get("/v1/team", headers=basic), 401, "unauthorized")

    response = client.get("/v1/team", headers=BEARER)

    assert response.status_code == 200
    assert response.get_json()["accounts"] == []


def test_team_ignores_loopback_when_a_token_is_configured(admin, client):
    # The test client's address is 127.0.0.1: being local is no substitute for the token.
    assert_envelope(client.get("/v1/team"), 401, "unauthorized")


def test_an_instance_key_does_not_open_the_team_view(admin, client):
    reg = register(client)

    assert_envelope(client.get("/v1/team", headers=key_header(reg["api_key"])), 401)


@pytest.mark.parametrize("address", ["127.0.0.1", "127.0.0.53", "::1"])
def test_team_without_a_configured_token_is_open_to_loopback(client, address):
    response = client.get("/v1/team", environ_base={"REMOTE_ADDR": address})

    assert response.status_code == 200, response.get_json()


@pytest.mark.parametrize("address", ["10.0.0.5", "192.168.1.20", "2001:db8::1"])
def test_team_without_a_configured_token_refuses_other_addresses(client, address):
    response = client.get("/v1/team", environ_base={"REMOTE_ADDR": address})

    body = assert_envelope(response, 403, "forbidden")
    assert "QUOTA_SENTINEL_ADMIN_TOKEN" in body["message"]
    assert "loopback" in body["message"]


def test_team_without_a_token_refuses_a_request_a_local_proxy_forwarded(client):
    response = client.get("/v1/team", headers={"X-Forwarded-For": "203.0.113.9"})

    assert_envelope(response, 403, "forbidden")


def test_team_is_in_the_openapi_document(client):
    spec = client.get("/v1/openapi.json").get_json()

    operation = spec["paths"]["/v1/team"]["get"]
    assert "admin token" in operation["summary"]
    assert "default" in operation["responses"]


# --- content --------------------------------------------------------------------------------


@pytest.fixture
def team(zai, deepseek, admin, client, clock, drain):
    return build_team(client, clock, drain, zai, deepseek)


@pytest.fixture
def view(team, client):
    response = client.get("/v1/team", headers=BEARER)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _account(view, fp):
    (found,) = [a for a in view["accounts"] if a["fingerprint"] == fp]
    return found


def test_team_lists_every_account_worst_first(team, view):
    statuses = [(a["provider"], a["status"]) for a in view["accounts"]]

    assert statuses == [("zai", "RED"), ("deepseek", "YELLOW"), ("zai", "UNKNOWN")]
    assert view["summary"] == {
        "status": "RED",
        "counts": {"RED": 1, "YELLOW": 1, "GREEN": 0, "UNKNOWN": 1},
        "accounts": 3,
        "instances": 3,
    }


def test_team_account_shows_windows_forecasts_and_subscribers(team, view):
    zai = _account(view, team.fps["zai"])

    assert zai["subscribers"] == 2
    assert zai["projects"] == ["batch-jobs", "web-app"]
    assert zai["label"] == f"zai · pro · {team.fps['zai'][:6]}"
    assert zai["stale"] is False and zai["error"] is None
    assert set(zai["windows"]) == {"5h", "weekly", "mcp_monthly"}
    five = zai["windows"]["5h"]
    assert five["utilization"] == 85 and five["cap"] == five["effective_cap"] == 80
    assert five["status"] == "RED"
    assert five["velocity_pct_per_hour"] > 60
    assert five["outlook"].startswith("at its cap; resets in 3 h")
    weekly = zai["windows"]["weekly"]
    # 6 %/h fitted on a few whole-percent readings, vouched for two standard errors down.
    assert weekly["status"] == "GREEN" and 4.0 < weekly["velocity_pct_per_hour"] < 6.0
    # GREEN, yet at this rate the cap comes days before the weekly reset: said plainly.
    assert weekly["outlook_code"] == "ahead_of_pace"
    assert weekly["outlook"].startswith("ahead of pace: runs out in ~")
    assert weekly["outlook"].endswith("before the reset")
    assert weekly["projected_at_reset"] > weekly["utilization"]


def test_team_deepseek_runs_out_before_any_reset(team, view):
    balance = _account(view, team.fps["deepseek"])["windows"]["balance"]

    assert balance["status"] == "YELLOW"
    assert balance["utilization"] == 40
    assert 47.0 < balance["velocity_pct_per_hour"] <= 48.0
    assert balance["runs_out_in_min"] == pytest.approx((85 - 40) / 48 * 60, abs=1.0)
    assert balance["outlook"] == "runs out in ~56 min"
    assert balance["resets_at"] is None and balance["resets_in_min"] is None


def test_team_account_whose_polls_fail_shows_the_error_in_words(team, view):
    refused = _account(view, team.fps["refused"])

    assert refused["status"] == "UNKNOWN" and refused["stale"] is True
    assert refused["error_code"] == "auth_failed"
    assert refused["error_headline"] == "The provider refused the credentials"
    assert refused["error"] and refused["error"][0].isupper()
    assert refused["windows"] == {}
    assert refused["projects"] == [HOSTILE_PROJECT]


def test_team_history_is_the_sample_series_per_window(team, view):
    zai = _account(view, team.fps["zai"])

    history = zai["windows"]["5h"]["history"]
    assert [u for _, u in history] == list(ZAI_5H)
    assert history == sorted(history)
    assert zai["windows"]["5h"]["history_span_s"] == 5 * 3600
    assert zai["windows"]["weekly"]["history_span_s"] == 7 * 86400


def test_team_windows_match_the_instance_view_of_an_unshared_account(team, view, client):
    # web-app is deepseek's only subscriber and has no hard caps: share 1.0, default caps.
    own = client.get("/v1/providers", headers=key_header(team.key("web-app"))).get_json()
    mine = own["deepseek"]["windows"]["balance"]
    theirs = _account(view, team.fps["deepseek"])["windows"]["balance"]

    for field in (
        "utilization",
        "velocity_pct_per_hour",
        "projected_exhaustion_min",
        "projected_at_reset",
        "resets_at",
        "status",
        "cap",
        "effective_cap",
        "samples_used",
    ):
        assert theirs[field] == mine[field], field


def test_team_lists_live_instances_with_their_allocation(team, view):
    rows = {i["project"]: i for i in view["instances"]}

    assert list(rows) == sorted(rows)
    web, batch = rows["web-app"], rows["batch-jobs"]
    assert web["framework"] == "opencode" and web["state"] == "active"
    assert web["providers"] == ["deepseek", "zai"]
    assert web["heartbeat_age_s"] == 0
    assert web["instance_id"] == team.regs["web-app"]["instance_id"]
    # zai is shared: active 1.0 against idle 0.3.
    assert web["allocation"]["zai"]["share"] == pytest.approx(1 / 1.3, abs=1e-4)
    assert batch["allocation"]["zai"]["share"] == pytest.approx(0.3 / 1.3, abs=1e-4)
    assert batch["allocation"]["zai"]["subscribers"] == 2
    assert web["allocation"]["deepseek"]["effective_caps"] == {"balance": 85.0}
    assert batch["framework"] == "claude" and batch["recommendation"] == "STOP"
    assert web["recommendation"] == "PROCEED_SMALL_ONLY"  # zai RED, deepseek YELLOW


def test_team_never_shows_a_credential(team, view):
    text = json.dumps(view)

    assert_absent(team.secrets, text)
    assert not API_KEY_RE.search(text)
    assert ADMIN_TOKEN not in text


def test_team_drops_instances_that_expired(team, client, clock):
    clock.advance(3 * 300 + 1)

    view = client.get("/v1/team", headers=BEARER).get_json()

    assert view["instances"] == [] and view["accounts"] == []


def test_team_grades_with_default_caps_not_an_instance_hard_cap(zai, admin, client, clock, drain):
    reg = register(client, hard_caps={"zai_default": 30})
    zai.set_usage(five_hour=40, reset_5h_ms=int((clock.now + 3600) * 1000))
    poll_now(client, reg["api_key"], drain)

    own = client.get("/v1/providers", headers=key_header(reg["api_key"])).get_json()
    team = client.get("/v1/team", headers=BEARER).get_json()

    assert own["zai"]["windows"]["5h"]["status"] == "RED"
    (account,) = team["accounts"]
    assert account["windows"]["5h"]["status"] == "GREEN"
    assert account["windows"]["5h"]["cap"] == 80


# --- the read model's pure helpers ----------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "seconds"),
    [
        ("5h", 5 * 3600),
        ("five_hour", 5 * 3600),
        ("seven_day", 7 * 86400),
        ("seven_day_opus", 7 * 86400),
        ("weekly", 7 * 86400),
        ("2w", 14 * 86400),
        ("1d", 86400),
        ("mcp_monthly", 30 * 86400),
        ("3mo", 90 * 86400),
        ("balance", None),
    ],
)
def test_window_length_is_read_from_its_name(name, seconds):
    assert window_length_s(name) == seconds


def test_history_span_covers_monthly_windows_and_is_clamped_to_what_the_store_keeps():
    assert history_span_s("mcp_monthly") == 30 * 86400
    assert history_span_s("3mo") == HISTORY_RETENTION_S
    assert history_span_s("balance") == 86400


def test_sparkline_is_bounded_and_keeps_the_latest_sample_of_each_slice():
    now = 1_000_000.0
    samples = [StoredSample(now - 18000 + i * 15, {"5h": WindowUsage(i / 12)}) for i in range(1201)]

    points = sparkline(samples, "5h", now - 18000, now)

    assert len(points) == SPARKLINE_POINTS
    assert points[-1] == [now, 100.0]
    assert [t for t, _ in points] == sorted(t for t, _ in points)
    assert sparkline(samples, "weekly", now - 18000, now) == []


@pytest.mark.parametrize(
    ("minutes", "text"),
    [(0.2, "under a minute"), (45, "45 min"), (200, "3 h 20 min"), (180, "3 h"), (3120, "2 d 4 h")],
)
def test_durations_read_like_a_person_would_say_them(minutes, text):
    assert human_duration(minutes) == text


def test_outlook_says_lasts_until_reset_when_the_reset_comes_first():
    window = {
        "utilization": 50.0,
        "effective_cap": 80.0,
        "projected_exhaustion_min": 300.0,
        "resets_at": 7200.0,  # epoch seconds: services hand times over unformatted
    }

    result = outlook(window, now=3600.0)

    assert result == {"runs_out_in_min": None, "resets_in_min": 60.0}
    assert outlook_text({**window, **result}) == "lasts until reset (in 1 h)"


def test_outlook_says_ahead_of_pace_when_green_but_the_cap_comes_first():
    window = {
        "utilization": 25.0,
        "effective_cap": 80.0,
        "projected_exhaustion_min": 9 * 60.0,
        "resets_at": 3600.0 + 3 * 24 * 3600.0,
        "outlook_code": "ahead_of_pace",
    }

    result = outlook(window, now=3600.0)

    assert result == {"runs_out_in_min": 540.0, "resets_in_min": 3 * 24 * 60.0}
    assert outlook_text({**window, **result}) == (
        "ahead of pace: runs out in ~9 h, 2 d 15 h before the reset"
    )
