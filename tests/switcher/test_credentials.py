"""credentials: what the switcher finds on this machine, from temp HOME / XDG / Claude dirs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from quota_sentinel.switcher.credentials import collect

ZAI = "zai-coding-plan/glm-5.1"
DEEPSEEK = "deepseek/deepseek-v3.2"
CLAUDE = "anthropic/claude-sonnet-4-5"
COPILOT = "github-copilot/gpt-5-mini"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    return path


def env_for(home: Path, **extra: str) -> dict[str, str]:
    return {"HOME": str(home), "PATH": str(home / "bin"), **extra}


def write_json(path: Path, value: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value))
    return path


AUTH = {
    "zai": {"type": "api", "key": "zai-other-account"},
    "zai-coding-plan": {"type": "api", "key": "zai-key"},
    "deepseek": {"type": "api", "key": "sk-ds"},
    "google": {"type": "oauth", "access": "never-sent", "refresh": "x", "expires": 1},
    "github-copilot": {"type": "oauth", "access": "gho_opencode", "refresh": "r", "expires": 1},
}


def test_auth_json_defaults_to_the_home_data_dir_and_only_needed_entries_go(home: Path):
    write_json(home / ".local/share/opencode/auth.json", AUTH)
    found = collect([ZAI, "ollama/llama3"], {}, home, env_for(home))
    # the entry named like the model prefix is the one OpenCode uses for it
    assert found.auth == {"opencode_auth": {"zai-coding-plan": AUTH["zai-coding-plan"]}}
    assert found.providers == {"zai"} and found.warnings == ()
    assert found.sources == (f"{home}/.local/share/opencode/auth.json (zai-coding-plan)",)
    assert "never-sent" not in json.dumps(found.auth)


def test_auth_json_under_xdg_data_home(home: Path, tmp_path: Path):
    write_json(tmp_path / "xdg/opencode/auth.json", AUTH)
    found = collect(
        [DEEPSEEK, COPILOT], {}, home, env_for(home, XDG_DATA_HOME=str(tmp_path / "xdg"))
    )
    assert found.auth["opencode_auth"] == {
        "deepseek": AUTH["deepseek"],
        "github-copilot": AUTH["github-copilot"],
    }
    assert found.providers == {"deepseek", "copilot"}


def test_env_and_file_keys_in_the_provider_section_win_over_auth_json(home: Path):
    write_json(home / ".local/share/opencode/auth.json", AUTH)
    (home / "secrets").mkdir()
    (home / "secrets/zai.txt").write_text("  zai-from-file\n")
    config = {
        "provider": {
            "deepseek": {"options": {"apiKey": "{env:DEEPSEEK_API_KEY}"}},
            "zai-coding-plan": {"options": {"apiKey": "{file:secrets/zai.txt}"}},
        }
    }
    found = collect([ZAI, DEEPSEEK], config, home, env_for(home, DEEPSEEK_API_KEY="sk-env"))
    assert found.auth["opencode_auth"] == {
        "zai-coding-plan": {"type": "api", "key": "zai-from-file"},
        "deepseek": {"type": "api", "key": "sk-env"},
    }
    config["provider"]["zai-coding-plan"]["options"]["apiKey"] = "{file:~/secrets/zai.txt}"
    found = collect([ZAI], config, home / "elsewhere", env_for(home))
    assert found.auth["opencode_auth"]["zai-coding-plan"]["key"] == "zai-from-file"


def test_an_unset_variable_or_missing_file_is_skipped_with_a_warning(home: Path):
    config = {
        "provider": {
            "deepseek": {"options": {"apiKey": "{env:NOT_SET_ANYWHERE}"}},
            "zai": {"options": {"apiKey": "{file:missing.txt}"}},
        }
    }
    found = collect([ZAI, DEEPSEEK], config, home, env_for(home))
    assert found.auth == {}
    assert found.warnings == (
        "provider.deepseek.options.apiKey is empty (variable unset?); skipped.",
        f"provider.zai.options.apiKey: {home / 'missing.txt'}: No such file or directory; skipped.",
        "deepseek: no credentials found on this machine, so it is not monitored (counts as GREEN).",
        "zai: no credentials found on this machine, so it is not monitored (counts as GREEN).",
    )


def test_claude_code_credentials_from_claude_config_dir_or_home(home: Path, tmp_path: Path):
    oauth = {"accessToken": "at", "refreshToken": "rt", "expiresAt": 1, "scopes": ["x"]}
    write_json(home / ".claude/.credentials.json", {"claudeAiOauth": oauth})
    found = collect([CLAUDE], {}, home, env_for(home))
    assert found.auth == {
        "claude_credentials": {"accessToken": "at", "refreshToken": "rt", "expiresAt": 1}
    }
    other = {"claudeAiOauth": {**oauth, "accessToken": "elsewhere"}}
    write_json(tmp_path / "claude/.credentials.json", other)
    found = collect([CLAUDE], {}, home, env_for(home, CLAUDE_CONFIG_DIR=str(tmp_path / "claude")))
    assert found.auth["claude_credentials"]["accessToken"] == "elsewhere"
    assert found.providers == {"claude"}


def test_github_token_from_gh_token_github_token_then_gh(home: Path):
    bin_dir = home / "bin"
    bin_dir.mkdir()
    gh = bin_dir / "gh"
    gh.write_text('#!/bin/sh\n[ "$1 $2" = "auth token" ] && echo gho_from_gh\n')
    gh.chmod(0o755)
    env = env_for(home)
    assert collect([COPILOT], {}, home, env).auth == {"github_token": "gho_from_gh"}
    env["GITHUB_TOKEN"] = "gho_github_token"
    assert collect([COPILOT], {}, home, env).auth == {"github_token": "gho_github_token"}
    env["GH_TOKEN"] = "gho_gh_token"
    assert collect([COPILOT], {}, home, env).auth == {"github_token": "gho_gh_token"}
    assert collect([ZAI], {}, home, env).auth == {}  # not needed: not sent


def test_nothing_found_is_an_empty_auth(home: Path):
    assert collect([ZAI, CLAUDE, COPILOT], {}, home, env_for(home)).auth == {}
