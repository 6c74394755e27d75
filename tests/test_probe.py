"""`quota-sentinel probe PROVIDER` against the fake upstreams, with credentials found on disk."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from quota_sentinel.cli import main
from quota_sentinel.cli.probe import REDACTED, redact
from tests.upstreams.claude import ClaudeFake
from tests.upstreams.codex import CodexFake
from tests.upstreams.copilot import CopilotFake
from tests.upstreams.deepseek import DeepSeekFake
from tests.upstreams.kimi import KimiFake
from tests.upstreams.openrouter import OpenRouterFake
from tests.upstreams.zai import ZaiFake

ZAI_KEY = "zai-probe-key-7f3a9c"
DEEPSEEK_KEY = "sk-deepseek-probe-51bd"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty home and working directory: only what a test writes is found."""
    path = tmp_path / "home"
    (path / "bin").mkdir(parents=True)
    monkeypatch.chdir(path)
    return path


def run(home: Path, *args: str, **env: str) -> Result:
    """`quota-sentinel probe …` with HOME at `home`, no token in the environment, no `gh`."""
    base = {
        "HOME": str(home),
        "PATH": str(home / "bin"),
        "XDG_DATA_HOME": None,
        "CLAUDE_CONFIG_DIR": None,
        "GH_TOKEN": None,
        "GITHUB_TOKEN": None,
        "QUOTA_SENTINEL_HTTP_TIMEOUT": "5",
    }
    return CliRunner().invoke(main, ["probe", *args], env={**base, **env})


def write_json(path: Path, value: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value))


@pytest.fixture
def zai() -> Iterator[ZaiFake]:
    with ZaiFake(ZAI_KEY) as fake:
        yield fake


def test_reads_the_key_from_opencode_auth_json_and_prints_the_windows(home: Path, zai: ZaiFake):
    write_json(
        home / ".local/share/opencode/auth.json",
        {"zai-coding-plan": {"type": "api", "key": ZAI_KEY}, "deepseek": {"key": "other"}},
    )
    zai.set_usage(41, 18)
    result = run(home, "zai-coding-plan", QUOTA_SENTINEL_ZAI_BASE_URL=zai.url)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.startswith("zai (Z.ai / Zhipu GLM Coding Plan), credentials from ")
    assert "auth.json (zai-coding-plan)" in out
    assert "plan: pro" in out
    lines = {line.split()[0]: line for line in out.splitlines() if line.startswith("  ")}
    assert set(lines) == {"5h", "weekly", "mcp_monthly"}
    assert "41.0 %" in lines["5h"] and "18.0 %" in lines["weekly"]
    assert "13.7 %" in lines["mcp_monthly"] and "used=137.0" in lines["mcp_monthly"]
    assert zai.calls == 1
    assert ZAI_KEY not in result.output


def test_the_key_of_the_opencode_config_wins_as_in_switch(home: Path, zai: ZaiFake):
    write_json(home / ".local/share/opencode/auth.json", {"zai": {"key": "stale-key"}})
    config = {"provider": {"zai": {"options": {"apiKey": "{env:MY_ZAI_KEY}"}}}}
    write_json(home / "opencode.json", config)
    result = run(home, "zai", QUOTA_SENTINEL_ZAI_BASE_URL=zai.url, MY_ZAI_KEY=ZAI_KEY)
    assert result.exit_code == 0, result.output
    assert "credentials from the config's provider.zai" in result.stdout


def test_claude_credentials_come_from_claude_code(home: Path):
    with ClaudeFake("sk-ant-oat01-probe-access", "sk-ant-ort01-probe-refresh") as fake:
        oauth = {"accessToken": fake.access_token, "refreshToken": fake.refresh_token}
        write_json(home / ".claude/.credentials.json", {"claudeAiOauth": oauth})
        result = run(home, "claude", QUOTA_SENTINEL_CLAUDE_BASE_URL=fake.url)
        assert fake.token_calls == 0  # never refreshed
    assert result.exit_code == 0, result.output
    assert ".claude/.credentials.json" in result.stdout
    assert "five_hour" in result.stdout and "37.0 %" in result.stdout


def test_copilot_over_quota_from_gh_token(home: Path):
    with CopilotFake("gho_probe_token_1") as fake:
        fake.set_shape("overage")
        result = run(
            home, "copilot", QUOTA_SENTINEL_COPILOT_BASE_URL=fake.url, GH_TOKEN="gho_probe_token_1"
        )
    assert result.exit_code == 0, result.output
    assert "credentials from GH_TOKEN" in result.stdout
    assert "100.3 %" in result.stdout and "overage=1.0" in result.stdout


def test_key_option_and_a_funded_currency(home: Path):
    with DeepSeekFake(DEEPSEEK_KEY, balances={"USD": 0.0, "CNY": 160.13}) as fake:
        result = run(
            home, "deepseek", "--key", DEEPSEEK_KEY, QUOTA_SENTINEL_DEEPSEEK_BASE_URL=fake.url
        )
    assert result.exit_code == 0, result.output
    assert "credentials from --key" in result.stdout
    assert "currency=CNY" in result.stdout and "0.0 %" in result.stdout


def test_raw_prints_the_body_with_secrets_redacted(home: Path):
    key = "sk-or-v1-probe-secret-0042"
    with OpenRouterFake(key) as fake:
        fake.set_key(label=f"my key {key}", owner_email="dev@example.com")
        result = run(
            home, "openrouter", "--key", key, "--raw", QUOTA_SENTINEL_OPENROUTER_BASE_URL=fake.url
        )
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "--- GET /api/v1/key" in out
    body = json.loads(out[out.index("--- GET /api/v1/key") :].split("\n", 1)[1])
    assert body["data"]["limit"] == 50 and body["data"]["limit_reset"] == "monthly"
    assert body["data"]["label"] == f"my key {REDACTED}"
    assert body["data"]["owner_email"] == REDACTED
    assert key not in result.output and "dev@example.com" not in result.output


def test_a_shape_we_cannot_read_fails_with_the_sentence_and_the_raw_body(home: Path):
    with KimiFake("sk-kimi-probe-0001") as fake:
        fake.serve_body({"quotas": {"weekly": {"limit": 10}}, "token": "abc"})
        result = run(
            home,
            "kimi",
            "--key",
            "sk-kimi-probe-0001",
            "--raw",
            QUOTA_SENTINEL_KIMI_BASE_URL=fake.url,
        )
    assert result.exit_code == 1
    assert "quota-sentinel: probe kimi: Kimi answered /coding/v1/usages without any of the" in (
        result.stderr
    )
    assert '"quotas"' in result.stdout and f'"token": "{REDACTED}"' in result.stdout


def test_a_refused_key_exits_1_with_a_sentence(home: Path, zai: ZaiFake):
    result = run(home, "zai", "--key", "wrong-zai-key-0000", QUOTA_SENTINEL_ZAI_BASE_URL=zai.url)
    assert result.exit_code == 1
    assert result.stderr.startswith("quota-sentinel: probe zai: Z.ai rejected the API key")
    assert "wrong-zai-key-0000" not in result.output


def test_no_credentials_found_says_where_it_looked(home: Path):
    result = run(home, "kimi")
    assert result.exit_code == 1
    assert "no kimi credentials found on this machine" in result.stderr
    assert "--key" in result.stderr


def test_an_unknown_provider_lists_the_known_ones(home: Path):
    result = run(home, "nope")
    assert result.exit_code == 1
    assert "'nope' is not a provider quota-sentinel reads" in result.stderr
    assert "openrouter" in result.stderr


def test_probe_never_refreshes(home: Path):
    result = run(home, "claude", "--key", "x", "-o", "refresh=server")
    assert result.exit_code == 1
    assert "never refreshes" in result.stderr


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"access_token": "abc"}, {"access_token": REDACTED}),
        (
            {"apiKey": "k", "key": "k2", "limit_key": "k3"},
            {"apiKey": REDACTED, "key": REDACTED, "limit_key": REDACTED},
        ),
        ({"note": "Bearer eyJhbGciOi.eyJzdWIiOi.c2ln"}, {"note": f"Bearer {REDACTED}"}),
        ({"id": "ghu_abcdefgh12"}, {"id": REDACTED}),
        (
            {"limit": 5, "reset": "2026-05-18T15:23:13.716839300Z", "ok": True},
            {"limit": 5, "reset": "2026-05-18T15:23:13.716839300Z", "ok": True},
        ),
        (["x" * 40, "short"], [REDACTED, "short"]),
    ],
)
def test_redact(value: Any, expected: Any):
    assert redact(value, []) == expected


def test_codex_oauth_entry_of_auth_json_and_the_spend_limit(home: Path):
    with CodexFake("codex-probe-access", "codex-probe-refresh", account_id="acct-probe") as fake:
        fake.set_shape("spend_used_percent")
        entry = {
            "type": "oauth",
            "access": fake.access_token,
            "refresh": fake.refresh_token,
            "accountId": "acct-probe",
        }
        write_json(home / ".local/share/opencode/auth.json", {"openai": entry})
        result = run(home, "codex", QUOTA_SENTINEL_CODEX_BASE_URL=fake.url)
        assert fake.token_calls == 0
    assert result.exit_code == 0, result.output
    assert "plan: business" in result.stdout
    assert "spend_limit" in result.stdout and "42.5 %" in result.stdout


def test_kimi_usages_map_shows_the_monthly_pool(home: Path):
    with KimiFake("sk-kimi-probe-0002") as fake:
        fake.set_shape("usages")
        result = run(
            home,
            "kimi-for-coding",
            "--key",
            "sk-kimi-probe-0002",
            QUOTA_SENTINEL_KIMI_BASE_URL=fake.url,
        )
    assert result.exit_code == 0, result.output
    names = {line.split()[0] for line in result.stdout.splitlines() if line.startswith("  ")}
    assert names == {"weekly", "monthly", "5h"}


def test_an_unlimited_account_says_nothing_is_metered(home: Path):
    with CopilotFake("gho_probe_token_2") as fake:
        fake.set_shape("unlimited")
        result = run(
            home, "copilot", "--key", "gho_probe_token_2", QUOTA_SENTINEL_COPILOT_BASE_URL=fake.url
        )
    assert result.exit_code == 0, result.output
    assert "plan: enterprise" in result.stdout
    assert "no windows: nothing is metered on this account" in result.stdout
