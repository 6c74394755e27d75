"""`quota-sentinel status`: the team view and one instance's view as tables (their text is
checked against snapshots) or JSON, from the app served over real HTTP."""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Iterator

import pytest
from click.testing import CliRunner, Result

from quota_sentinel.cli import main
from tests.dashboard.live import serving
from tests.dashboard.scenario import ADMIN_TOKEN, Team, build_team
from workers.ticking import enqueue_due_polls

COLUMNS = "170"
PLACEHOLDERS = {"zai": "FP-ZAI", "deepseek": "FP-DSK", "refused": "FP-BAD"}

TEAM_TABLE = """\
                                                        team: 3 accounts, 3 instances, worst RED
┏━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━┳━━━━━━━━┳━━━━━━━┳━━━━━━━━━━━━┳━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━┳━━━━━━━━━┳━━━━━━━┓
┃ account            ┃ window      ┃ used % ┃ cap % ┃ at reset % ┃ velocity %/h ┃ outlook                                  ┃ history ┃ status  ┃ users ┃
┡━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━╇━━━━━━━━╇━━━━━━━╇━━━━━━━━━━━━╇━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━╇━━━━━━━━━╇━━━━━━━┩
│ zai · pro · FP-ZAI │ 5h          │ 85.0   │ 80.0  │ 295.6      │ 66.5         │ at its cap; resets in 3 h 10 min         │ ▃▄▅▆▆▇  │ RED     │ 2     │
│                    │ mcp_monthly │ 13.7   │ 80.0  │ 13.7       │ 0.0          │ lasts until reset (in 19 d 23 h)         │ ▂▂▂▂▂▂  │ GREEN   │       │
│                    │ weekly      │ 25.0   │ 80.0  │ 349.9      │ 4.6          │ ahead of pace: runs out in ~12 h 3 min,  │ ▂▂▃▃▃▃  │ GREEN   │       │
│                    │             │        │       │            │              │ 2 d 11 h before the reset                │         │         │       │
│ deepseek · FP-DSK  │ balance     │ 40.0   │ 85.0  │ -          │ 47.9         │ runs out in ~56 min                      │ ▁▂▂▃▃▄  │ YELLOW  │ 1     │
│ zai · FP-BAD       │ -           │        │       │            │              │ The provider refused the credentials:    │         │ UNKNOWN │ 1     │
│                    │             │        │       │            │              │ Z.ai rejected the API key (code 1001:    │         │         │       │
│                    │             │        │       │            │              │ Authentication parameter not received in │         │         │       │
│                    │             │        │       │            │              │ Header); check the key or replace it.    │         │         │       │
└────────────────────┴─────────────┴────────┴───────┴────────────┴──────────────┴──────────────────────────────────────────┴─────────┴─────────┴───────┘
                                                      as of 2026-09-21 15:03:20 UTC (server time)
                                             instances
┏━━━━━━━━━━━━━━━┳━━━━━━━━━━━┳━━━━━━━━┳━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━┓
┃ project       ┃ framework ┃ state  ┃ heartbeat ┃ providers (share)          ┃ told to            ┃
┡━━━━━━━━━━━━━━━╇━━━━━━━━━━━╇━━━━━━━━╇━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━┩
│ <b>mobile</b> │ opencode  │ active │ 0 s ago   │ zai (100%)                 │ PROCEED            │
│ batch-jobs    │ claude    │ idle   │ 0 s ago   │ zai (23%)                  │ STOP               │
│ web-app       │ opencode  │ active │ 0 s ago   │ deepseek (100%), zai (77%) │ PROCEED_SMALL_ONLY │
└───────────────┴───────────┴────────┴───────────┴────────────────────────────┴────────────────────┘
"""  # noqa: E501

INSTANCE_TABLE = """\
                                      web-app (opencode): PROCEED_SMALL_ONLY
┏━━━━━━━━━━┳━━━━━━━━━━━━━┳━━━━━━━━┳━━━━━━━┳━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━┳━━━━━━━━┓
┃ provider ┃ window      ┃ used % ┃ cap % ┃ velocity %/h ┃ runs out in               ┃ resets at        ┃ status ┃
┡━━━━━━━━━━╇━━━━━━━━━━━━━╇━━━━━━━━╇━━━━━━━╇━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━╇━━━━━━━━┩
│ deepseek │ balance     │ 40.0   │ 85.0  │ 47.9         │ 56.4 min                  │ -                │ YELLOW │
│ zai      │ 5h          │ 85.0   │ 80.0  │ 66.5         │ 0.0 min                   │ 2026-09-21 18:13 │ RED    │
│ zai      │ mcp_monthly │ 13.7   │ 80.0  │ 0.0          │ -                         │ 2026-10-11 14:13 │ GREEN  │
│ zai      │ weekly      │ 25.0   │ 80.0  │ 4.6          │ 722.8 min (ahead of pace) │ 2026-09-24 14:13 │ GREEN  │
└──────────┴─────────────┴────────┴───────┴──────────────┴───────────────────────────┴──────────────────┴────────┘
                      zai is RED and deepseek is YELLOW; use deepseek for small tasks only.
"""  # noqa: E501


def _normalised(text: str, team: Team) -> str:
    """The output with the (per-session) fingerprints and instance ids replaced by names."""
    for name, fp in team.fps.items():
        text = text.replace(fp[:6], PLACEHOLDERS[name])
    return re.sub(r"[ \t]+$", "", text, flags=re.MULTILINE)


@pytest.fixture
def admin(env: dict[str, str]) -> str:
    env["QUOTA_SENTINEL_ADMIN_TOKEN"] = ADMIN_TOKEN
    return ADMIN_TOKEN


@pytest.fixture
def team(zai, deepseek, client, clock, drain) -> Team:
    return build_team(client, clock, drain, zai, deepseek)


@pytest.fixture
def live_url(app) -> Iterator[str]:
    with serving(app) as url:
        yield url


def status(*args: str, env: dict[str, str | None] | None = None) -> Result:
    runner = CliRunner(env={"COLUMNS": COLUMNS, "QUOTA_SENTINEL_ADMIN_TOKEN": None, **(env or {})})
    return runner.invoke(main, ["status", *args])


def test_team_view_is_a_table_of_every_account_and_instance(admin, team, live_url):
    result = status("--url", live_url, "--admin-token", ADMIN_TOKEN)

    assert result.exit_code == 0, result.output
    assert _normalised(result.stdout, team) == TEAM_TABLE


def test_instance_view_is_that_instances_table(admin, team, live_url):
    result = status("--url", live_url, "--api-key", team.key("web-app"))

    assert result.exit_code == 0, result.output
    assert _normalised(result.stdout, team) == INSTANCE_TABLE


def test_admin_token_can_come_from_the_environment(admin, team, live_url):
    result = status("--url", live_url, env={"QUOTA_SENTINEL_ADMIN_TOKEN": ADMIN_TOKEN})

    assert result.exit_code == 0, result.output
    assert "team: 3 accounts, 3 instances, worst RED" in result.stdout


def test_team_json_is_the_team_document(admin, team, live_url, client):
    result = status("--url", live_url, "--admin-token", ADMIN_TOKEN, "--json")

    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    expected = client.get("/v1/team", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    assert body == expected.get_json()


def test_a_wrong_admin_token_fails_with_the_servers_sentence(admin, live_url):
    result = status("--url", live_url, "--admin-token", "not-it")

    assert result.exit_code == 1
    assert "Send the admin token as Authorization: Bearer <token>." in result.stderr


def test_without_credentials_a_tokenless_server_shows_its_machine_the_team_view(team, live_url):
    result = status("--url", live_url)

    assert result.exit_code == 0, result.output
    assert "team: 3 accounts" in result.stdout and "instances" in result.stdout


def test_without_credentials_a_server_with_a_token_gives_health_and_a_hint(admin, live_url):
    enqueue_due_polls()  # a scheduler tick: the server is healthy, not "degraded"
    result = status("--url", live_url)

    assert result.exit_code == 0
    assert result.stdout.startswith("server ok (version ")
    assert "--admin-token" in result.stdout and "--api-key" in result.stdout


def test_a_key_on_the_command_line_wins_over_a_token_from_the_environment(admin, team, live_url):
    result = status(
        "--url",
        live_url,
        "--api-key",
        team.key("web-app"),
        env={"QUOTA_SENTINEL_ADMIN_TOKEN": ADMIN_TOKEN},
    )

    assert "web-app (opencode): PROCEED_SMALL_ONLY" in result.stdout


def test_a_token_on_the_command_line_wins_over_a_key_from_the_environment(admin, team, live_url):
    result = status(
        "--url",
        live_url,
        "--admin-token",
        ADMIN_TOKEN,
        env={"QUOTA_SENTINEL_API_KEY": team.key("web-app")},
    )

    assert "team: 3 accounts" in result.stdout


def test_team_view_exits_2_when_nothing_answers():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]

    result = status("--url", f"http://127.0.0.1:{port}", "--admin-token", ADMIN_TOKEN)

    assert result.exit_code == 2 and "nothing answers at" in result.stderr
