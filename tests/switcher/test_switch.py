"""`quota-sentinel switch --once` (and --dry-run, --restore, --json) end to end: a real
`quota-sentinel start` and fake Z.ai / DeepSeek upstreams (see e2e.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from quota_sentinel.switcher.command import switch
from tests.switcher.e2e import Project, Upstreams, make_project, run
from tests.switcher.sentinel import free_port
from tests.switcher.support import DEEPSEEK, MINIMAX, ZAI, fixture_bytes

pytestmark = pytest.mark.usefixtures("green")

BUILD_LINE = b'"model": "zai-coding-plan/glm-5.1", // the model we pay for'
EFFECT = (
    "OpenCode reads opencode.jsonc when a session starts: the change takes effect in the next "
    "OpenCode session."
)


def test_defaults_url_poll_interval_and_recovery_hold():
    params = {p.name: p for p in switch.params}
    url = params["sentinel_url"]
    assert (url.default, url.envvar) == ("http://127.0.0.1:7878", "QUOTA_SENTINEL_URL")
    assert (params["poll_interval"].default, params["recovery_hold"].default) == (60, 3)


def test_once_waits_for_first_data_and_switches_byte_for_byte(up: Upstreams, commented: Project):
    # First test of the module: the server has never polled these accounts.
    up.zai_red()
    result = run(up, commented, "--once")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert (
        "build: zai-coding-plan/glm-5.1 → deepseek/deepseek-v3.2 (zai RED, 5h at 93%, cap reached)"
        in lines
    )
    assert f"model stays on {ZAI} (zai RED, 5h at 93%, cap reached): it has no fallbacks" in lines
    assert lines[-1] == EFFECT
    expected = fixture_bytes("commented.jsonc").replace(
        BUILD_LINE, BUILD_LINE.replace(ZAI.encode(), DEEPSEEK.encode())
    )
    assert commented.config.read_bytes() == expected
    saved = json.loads(commented.state.read_text())["configs"]["opencode.jsonc"]
    assert [(e["path"], e["original"], e["current"]) for e in saved] == [
        (["agent", "build", "model"], ZAI, DEEPSEEK)
    ]


def test_recovery_after_exactly_recovery_hold_green_polls_across_once_runs(
    up: Upstreams, commented: Project
):
    up.zai_red()
    assert run(up, commented, "--once").exit_code == 0
    switched = commented.config.read_bytes()
    up.zai_green()
    first = run(up, commented, "--once", "--recovery-hold", "2")
    assert first.exit_code == 0, first.output
    assert (
        f"build stays on {DEEPSEEK} until zai has been GREEN for 2 polls in a row (1 so far); "
        f"its original is {ZAI}"
    ) in first.stdout.splitlines()
    assert commented.config.read_bytes() == switched
    second = run(up, commented, "--once", "--recovery-hold", "2")
    assert (
        f"build: {DEEPSEEK} → {ZAI} (zai GREEN for 2 polls: back to the original)"
        in second.stdout.splitlines()
    )
    assert commented.config.read_bytes() == fixture_bytes("commented.jsonc")
    assert not commented.state.exists()


def test_a_red_provider_interrupts_the_recovery_count(up: Upstreams, commented: Project):
    up.zai_red()
    run(up, commented, "--once")
    up.zai_green()
    run(up, commented, "--once", "--recovery-hold", "2")
    up.zai_red()
    run(up, commented, "--once", "--recovery-hold", "2")
    up.zai_green()
    result = run(up, commented, "--once", "--recovery-hold", "2")
    assert "(1 so far)" in result.stdout and DEEPSEEK.encode() in commented.config.read_bytes()


def test_all_fallbacks_unhealthy_stays(up: Upstreams, tmp_path: Path):
    project = make_project(tmp_path, "strict.json", "opencode.json")
    _seed_deepseek_reference(up, project)
    up.zai_red()
    up.deepseek_red()
    result = run(up, project, "--once")
    assert result.exit_code == 0, result.output
    assert (
        f"build stays on {ZAI} (zai RED, 5h at 93%, cap reached): no fallback is GREEN "
        "(deepseek RED, balance at 90%, cap reached)"
    ) in result.stdout.splitlines()
    assert (
        result.stdout.splitlines()[-1] == "No change to opencode.json (2 model settings checked)."
    )
    assert project.config.read_bytes() == fixture_bytes("strict.json")
    assert not project.state.exists()


def test_an_unmonitored_fallback_provider_counts_as_green(up: Upstreams, commented: Project):
    _seed_deepseek_reference(up, commented)
    up.zai_red()
    up.deepseek_red()  # the sidecar's first fallback is out; minimax is not monitored here
    result = run(up, commented, "--once")
    assert f"build: {ZAI} → {MINIMAX} (zai RED, 5h at 93%, cap reached)" in result.stdout


def test_agent_names_with_spaces_and_ids_with_slashes_colons_and_dots(up: Upstreams, tmp_path):
    project = make_project(tmp_path, "spaces.jsonc", "opencode.jsonc")
    up.zai_red()
    result = run(up, project, "--once")
    assert (
        "code reviewer: zai-coding-plan/glm-4.6 → openrouter/qwen/qwen3-coder:free "
        "(zai RED, 5h at 93%, cap reached)"
    ) in result.stdout.splitlines()
    original = fixture_bytes("spaces.jsonc")
    assert project.config.read_bytes() == original.replace(
        b'"zai-coding-plan/glm-4.6"', b'"openrouter/qwen/qwen3-coder:free"'
    )


def test_default_config_in_the_current_directory_agent_caddy_format(
    up: Upstreams, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    project = make_project(tmp_path, "agent-caddy.json", "opencode.json")
    monkeypatch.chdir(project.dir)
    up.deepseek_red()
    env = {**project.env, "QUOTA_SENTINEL_URL": up.server.url}
    result = CliRunner().invoke(switch, ["--once", "--no-autostart"], env=env)
    assert result.exit_code == 0, result.output
    assert (
        "production: deepseek/deepseek-v3.2 → alibaba/qwen3-max "
        "(deepseek RED, balance at 90%, cap reached)"
    ) in result.stdout.splitlines()
    value = json.loads(project.config.read_text())
    assert value["agent"]["production"]["model"] == "alibaba/qwen3-max"
    assert value["agent"]["build"]["model"] == "github-copilot/gpt-5-mini"  # copilot unmonitored


def test_dry_run_prints_the_diff_and_changes_nothing(up: Upstreams, commented: Project):
    up.zai_red()
    result = run(up, commented, "--dry-run")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert f"--- {commented.config}\n+++ {commented.config}\n" in out
    assert '-      "model": "zai-coding-plan/glm-5.1", // the model we pay for\n' in out
    assert '+      "model": "deepseek/deepseek-v3.2", // the model we pay for\n' in out
    assert out.splitlines()[-1] == "dry run: opencode.jsonc and its state were left unchanged."
    assert commented.config.read_bytes() == fixture_bytes("commented.jsonc")
    assert not commented.state.exists()


def test_restore_works_offline_and_gives_back_the_original_bytes(up, commented: Project):
    up.zai_red()
    run(up, commented, "--once")
    assert commented.config.read_bytes() != fixture_bytes("commented.jsonc")
    offline = f"http://127.0.0.1:{free_port()}"
    result = CliRunner().invoke(
        switch,
        [str(commented.config), "--restore", "--sentinel-url", offline, "--no-autostart"],
        env=commented.env,
    )
    assert result.exit_code == 0, result.output
    assert f"build: {DEEPSEEK} → {ZAI} (restored)" in result.stdout.splitlines()
    assert commented.config.read_bytes() == fixture_bytes("commented.jsonc")
    assert not commented.state.exists()


def test_json_summary_and_deregistration_at_the_end_of_once(up: Upstreams, commented: Project):
    up.zai_red()
    result = run(up, commented, "--once", "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["changes"] == [
        {
            "target": "build",
            "path": ["agent", "build", "model"],
            "from": ZAI,
            "to": DEEPSEEK,
            "kind": "switch",
            "reason": "zai RED, 5h at 93%, cap reached",
        }
    ]
    assert summary["providers"]["zai"]["status"] == "RED"
    assert summary["providers"]["deepseek"]["status"] == "GREEN"
    assert summary["recommendation"]["recommendation"] == "PROCEED"  # opencode falls back
    assert "switch to deepseek" in summary["recommendation"]["message"]
    assert summary["switched"][0]["original"] == ZAI
    assert summary["switched"][0]["recovery_hold"] == 3  # the default
    assert summary["takes_effect"] == "next OpenCode session"
    assert summary["waiting_for_data"] == [] and summary["mode"] == "once"
    assert summary["credentials_from"] == [
        f"{commented.env['HOME']}/.local/share/opencode/auth.json (zai-coding-plan)",
        "the config's provider.deepseek",  # {env:DEEPSEEK_API_KEY}
    ]
    assert up.server.instance_status(summary["instance_id"]) == 404


def test_unreachable_api_exits_non_zero_and_changes_nothing(commented: Project):
    url = f"http://127.0.0.1:{free_port()}"
    result = CliRunner().invoke(
        switch,
        [str(commented.config), "--once", "--sentinel-url", url, "--no-autostart"],
        env=commented.env,
    )
    assert result.exit_code == 2
    assert result.stderr == (
        f"quota-sentinel: nothing answers at {url}; start the server with `quota-sentinel "
        "start`, or leave out --no-autostart to let the switcher start it.\n"
    )
    assert commented.config.read_bytes() == fixture_bytes("commented.jsonc")
    assert sorted(p.name for p in commented.dir.iterdir()) == [
        "opencode.jsonc",
        "quota-sentinel.jsonc",
    ]


def test_an_unreachable_remote_server_is_never_auto_started(commented: Project):
    url = f"http://0.0.0.0:{free_port()}"  # not loopback by name: treated as another machine
    result = CliRunner().invoke(switch, [str(commented.config), "--once", "--sentinel-url", url])
    assert result.exit_code == 2
    assert result.stderr == (
        f"quota-sentinel: nothing answers at {url}, and only a server on this machine (an "
        "http://127.0.0.1 or localhost URL) can be started automatically.\n"
    )
    assert commented.config.read_bytes() == fixture_bytes("commented.jsonc")


def test_a_read_only_config_is_a_clear_error_and_stays_untouched(up, commented: Project):
    up.zai_red()
    commented.config.chmod(0o444)
    result = run(up, commented, "--once")
    assert result.exit_code == 1
    assert result.stderr.startswith(f"quota-sentinel: {commented.config} is read-only;")
    assert commented.config.read_bytes() == fixture_bytes("commented.jsonc")
    assert not commented.state.exists()
    dry = run(up, commented, "--dry-run")  # seeing what it would change needs no write access
    assert dry.exit_code == 0 and '+      "model": "deepseek/deepseek-v3.2"' in dry.stdout
    assert commented.config.read_bytes() == fixture_bytes("commented.jsonc")


def test_a_symlinked_config_is_switched_through_the_link(up: Upstreams, commented: Project):
    real = commented.dir.parent / "dotfiles" / "opencode.jsonc"
    real.parent.mkdir()
    commented.config.rename(real)
    commented.config.symlink_to(real)
    up.zai_red()
    assert run(up, commented, "--once").exit_code == 0
    assert commented.config.is_symlink()
    assert BUILD_LINE.replace(ZAI.encode(), DEEPSEEK.encode()) in real.read_bytes()


def _seed_deepseek_reference(up: Upstreams, project: Project) -> None:
    """DeepSeek's usage is measured against the first balance polled: poll it once while
    GREEN, so the later lower balance reads as spent, whichever test of the module runs first."""
    first = run(up, project, "--once")
    assert first.exit_code == 0, first.output
