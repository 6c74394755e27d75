"""`quota-sentinel install` / `uninstall` against real settings files: the result parses, what
was there stays as it was, and uninstall gives back the original bytes."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from quota_sentinel.cli import main
from quota_sentinel.switcher.jsonc import loads
from tests.agents.support import FIXTURES

EVENTS = ["SessionStart", "UserPromptSubmit", "PreToolUse"]


def cli(env: dict[str, str], *argv: str) -> Result:
    return CliRunner().invoke(main, list(argv), env=env, catch_exceptions=False)


@pytest.fixture
def home(tmp_path: Path) -> dict[str, str]:
    """A temp HOME (never the real ~/.claude or ~/.config)."""
    (tmp_path / "home").mkdir()
    return {"HOME": str(tmp_path / "home"), "CLAUDE_CONFIG_DIR": None, "XDG_CONFIG_HOME": None}


def _ours(settings: dict, event: str) -> list[dict]:
    return [
        g
        for g in settings["hooks"][event]
        if any("quota_sentinel.agents claude-code" in h["command"] for h in g["hooks"])
    ]


def test_project_install_keeps_every_setting_and_hook_and_uninstall_restores_the_bytes(
    tmp_path, home
):
    project = tmp_path / "project"
    (project / ".claude").mkdir(parents=True)
    settings = project / ".claude" / "settings.json"
    shutil.copyfile(FIXTURES / "claude-settings.json", settings)
    original = settings.read_bytes()
    before = loads(original.decode())

    result = cli(home, "install", "claude-code", "--project", str(project))
    assert result.exit_code == 0
    assert result.output == (
        f"Added quota-sentinel hooks (SessionStart, UserPromptSubmit, PreToolUse) in {settings}.\n"
    )
    text = settings.read_text()
    after = loads(text)
    assert text.startswith(original.decode().split('"hooks"')[0])  # comments and all, untouched
    assert "/* formatting after every edit */" in text
    for key in ("$schema", "permissions", "model"):
        assert after[key] == before[key]
    assert after["hooks"]["PostToolUse"] == before["hooks"]["PostToolUse"]
    assert after["hooks"]["PreToolUse"][0] == before["hooks"]["PreToolUse"][0]
    subagent = _ours(after, "PreToolUse")
    assert [g["matcher"] for g in subagent] == ["Agent|Task"]
    command = subagent[0]["hooks"][0]["command"]
    assert command == f"{sys.executable} -m quota_sentinel.agents claude-code pre-tool-use"
    assert Path(command.split()[0]).is_absolute()  # works from any cwd
    for event in ("SessionStart", "UserPromptSubmit"):
        assert len(_ours(after, event)) == 1 and "matcher" not in _ours(after, event)[0]

    again = cli(home, "install", "claude-code", "--project", str(project))
    assert again.output.startswith("Already there:") and settings.read_text() == text

    removed = cli(home, "uninstall", "claude-code", "--project", str(project))
    assert removed.output == f"Removed 3 quota-sentinel hooks from {settings}.\n"
    assert settings.read_bytes() == original


def test_user_install_goes_to_home_and_a_created_file_goes_away_again(tmp_path, home):
    settings = Path(home["HOME"]) / ".claude" / "settings.json"
    result = cli(home, "install", "claude-code", "--user", "--sentinel-url", "http://127.0.0.1:9")
    assert result.exit_code == 0 and settings.exists()
    parsed = json.loads(settings.read_text())  # a new file is strict JSON
    assert sorted(parsed) == ["hooks"] and sorted(parsed["hooks"]) == sorted(EVENTS)
    command = parsed["hooks"]["SessionStart"][0]["hooks"][0]["command"]
    assert command.endswith("session-start --sentinel-url http://127.0.0.1:9")

    cli(home, "uninstall", "claude-code", "--user")
    assert not settings.exists() and not settings.parent.exists()


def test_user_settings_with_crlf_and_someone_elses_edit_in_between(tmp_path, home):
    settings = Path(home["HOME"]) / ".claude" / "settings.json"
    settings.parent.mkdir()
    shutil.copyfile(FIXTURES / "user-settings.json", settings)
    original = settings.read_bytes()

    cli(home, "install", "claude-code", "--user", "--no-autostart")
    text = settings.read_bytes().decode()
    assert "\r\n" in text and "\n" not in text.replace("\r\n", "")  # line endings kept
    assert loads(text)["env"] == {"CLAUDE_CODE_ENABLE_TELEMETRY": "0"}
    # The user edits a setting while our hooks are in: uninstall keeps the edit.
    edited = text.replace('"includeCoAuthoredBy": false', '"includeCoAuthoredBy": true')
    settings.write_bytes(edited.encode())

    cli(home, "uninstall", "claude-code", "--user")
    assert settings.read_bytes() == original.replace(b"false", b"true")


def test_install_refuses_broken_settings_and_changes_nothing(tmp_path, home):
    project = tmp_path / "project"
    (project / ".claude").mkdir(parents=True)
    settings = project / ".claude" / "settings.json"
    settings.write_text('{"hooks": {"PreToolUse": {"matcher": "Bash"}}}')
    result = cli(home, "install", "claude-code", "--project", str(project))
    assert result.exit_code == 1
    assert "`hooks` is not in Claude Code's shape" in result.output
    settings.write_text('{"model": "opus",,}')
    result = cli(home, "install", "claude-code", "--project", str(project))
    assert result.exit_code == 1 and "is not valid JSON: line 1, column" in result.output
    assert settings.read_text() == '{"model": "opus",,}'


def test_uninstall_without_our_hooks_changes_nothing(tmp_path, home):
    project = tmp_path / "project"
    (project / ".claude").mkdir(parents=True)
    shutil.copyfile(FIXTURES / "claude-settings.json", project / ".claude" / "settings.json")
    original = (project / ".claude" / "settings.json").read_bytes()
    result = cli(home, "uninstall", "claude-code", "--project", str(project))
    assert result.exit_code == 0 and "nothing changed" in result.output
    assert (project / ".claude" / "settings.json").read_bytes() == original


def test_project_and_user_together_is_a_usage_error(tmp_path, home):
    result = cli(home, "install", "claude-code", "--project", str(tmp_path), "--user")
    assert result.exit_code == 2 and "give --project DIR or --user, not both" in result.output


def _tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_opencode_install_writes_plugin_and_skill_and_never_the_models(tmp_path, home):
    project = tmp_path / "project"
    project.mkdir()
    shutil.copyfile(
        Path(__file__).parents[1] / "switcher/fixtures/commented.jsonc", project / "opencode.jsonc"
    )
    before = _tree(project)

    result = cli(home, "install", "opencode", "--project", str(project), "--no-autostart")
    assert result.exit_code == 0
    plugin = project / ".opencode/plugins/quota-sentinel.js"
    skill = project / ".opencode/skills/quota-sentinel/SKILL.md"
    assert result.output == f"Wrote {plugin}.\nWrote {skill}.\n"
    assert (project / "opencode.jsonc").read_bytes() == before["opencode.jsonc"]
    code = plugin.read_text()
    assert json.dumps([sys.executable, "-m", "quota_sentinel.switcher"]) in code
    assert '["--once", "--json", "--no-autostart"]' in code
    head = skill.read_text().split("---")[1]
    assert "name: quota-sentinel" in head and "description: " in head

    cli(home, "uninstall", "opencode", "--project", str(project))
    assert _tree(project) == before and not (project / ".opencode").exists()


def test_opencode_user_install_and_a_foreign_plugin_file(tmp_path, home):
    config = Path(home["HOME"]) / ".config" / "opencode"
    (config / "plugins").mkdir(parents=True)
    (config / "plugins" / "other.js").write_text("export const Other = async () => ({})\n")
    result = cli(home, "install", "opencode", "--user")
    assert result.exit_code == 0 and (config / "plugins" / "quota-sentinel.js").exists()
    cli(home, "uninstall", "opencode", "--user")
    assert sorted(p.name for p in config.rglob("*")) == ["other.js", "plugins"]

    (config / "plugins" / "quota-sentinel.js").write_text("// someone else's\n")
    refused = cli(home, "install", "opencode", "--user")
    assert refused.exit_code == 1 and "is not quota-sentinel's" in refused.output
