"""apply / files / state / opencode: a cycle on real files, without a server."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from quota_sentinel.switcher import apply, files, opencode, state
from quota_sentinel.switcher.apply import ConfigFiles
from quota_sentinel.switcher.errors import SwitcherError
from quota_sentinel.switcher.plan import Entry
from tests.switcher.support import (
    DEEPSEEK,
    MINIMAX,
    ZAI,
    copy_fixture,
    decider,
    fixture_bytes,
)

BUILD = ("agent", "build", "model")
BUILD_LINE = b'"model": "zai-coding-plan/glm-5.1", // the model we pay for'


@pytest.fixture
def commented(tmp_path: Path) -> Path:
    copy_fixture("quota-sentinel.jsonc", tmp_path)
    return copy_fixture("commented.jsonc", tmp_path, "opencode.jsonc")


def test_a_switch_changes_the_model_bytes_only_and_remembers_the_original(commented: Path):
    outcome = apply.run(ConfigFiles(commented), decider(zai="RED", deepseek="GREEN"))
    assert [(c.label, c.old, c.new) for c in outcome.changes] == [("build", ZAI, DEEPSEEK)]
    expected = fixture_bytes("commented.jsonc").replace(
        BUILD_LINE, b'"model": "deepseek/deepseek-v3.2", // the model we pay for'
    )
    assert commented.read_bytes() == expected
    assert state.load(commented) == (Entry(BUILD, ZAI, DEEPSEEK),)
    saved = json.loads((commented.parent / ".opencode-switcher.json").read_text())
    assert saved["configs"]["opencode.jsonc"][0]["original"] == ZAI


def test_restore_gives_back_the_exact_original_bytes(commented: Path):
    apply.run(ConfigFiles(commented), decider(zai="RED", deepseek="GREEN"))
    outcome = apply.restore(ConfigFiles(commented))
    assert [(c.old, c.new, c.kind) for c in outcome.changes] == [(DEEPSEEK, ZAI, "restore")]
    assert commented.read_bytes() == fixture_bytes("commented.jsonc")
    assert not (commented.parent / ".opencode-switcher.json").exists()


def test_dry_run_prints_a_diff_and_writes_nothing(commented: Path):
    outcome = apply.run(ConfigFiles(commented), decider(zai="RED", deepseek="GREEN"), True)
    assert commented.read_bytes() == fixture_bytes("commented.jsonc")
    assert not (commented.parent / ".opencode-switcher.json").exists()
    assert f"--- {commented}\n+++ {commented}\n" in outcome.diff
    assert '-      "model": "zai-coding-plan/glm-5.1", // the model we pay for\n' in outcome.diff
    assert '+      "model": "deepseek/deepseek-v3.2", // the model we pay for\n' in outcome.diff


def test_a_hand_edit_while_switched_becomes_the_new_original(commented: Path):
    apply.run(ConfigFiles(commented), decider(zai="RED", deepseek="GREEN"))
    text = commented.read_bytes().replace(DEEPSEEK.encode(), b"anthropic/claude-opus-4-5", 1)
    commented.write_bytes(text)
    outcome = apply.run(ConfigFiles(commented), decider(zai="GREEN"))
    assert outcome.notes == (
        "build: anthropic/claude-opus-4-5 was set by hand; it is the new original",
    )
    assert outcome.changes == () and state.load(commented) == ()
    assert apply.restore(ConfigFiles(commented)).changes == ()
    assert commented.read_bytes() == text


class EditedMeanwhile(ConfigFiles):
    """Saves a user's edit into the config just before the switcher's first write."""

    def __init__(self, config: Path, edit: tuple[bytes, bytes]) -> None:
        super().__init__(config)
        self.edit = edit
        self.attempts = 0

    def replace(self, expected: bytes, data: bytes) -> None:
        self.attempts += 1
        if self.attempts == 1:
            self.config.write_bytes(self.config.read_bytes().replace(*self.edit))
        super().replace(expected, data)


def test_a_concurrent_edit_is_detected_and_planned_again_never_clobbered(commented: Path):
    config_files = EditedMeanwhile(commented, (b'"temperature": 0.2', b'"temperature": 0.7'))
    outcome = apply.run(config_files, decider(zai="RED", deepseek="GREEN"))
    assert config_files.attempts == 2 and len(outcome.changes) == 1
    text = commented.read_bytes()
    assert b'"temperature": 0.7' in text  # the user's edit survived
    assert b'"model": "deepseek/deepseek-v3.2", // the model we pay for' in text
    assert state.load(commented) == (Entry(BUILD, ZAI, DEEPSEEK),)


def test_a_concurrent_edit_of_the_model_itself_wins(commented: Path):
    config_files = EditedMeanwhile(
        commented, (BUILD_LINE, BUILD_LINE.replace(b"glm-5.1", b"glm-4.6"))
    )
    outcome = apply.run(config_files, decider(zai="RED", deepseek="GREEN"))
    # planned again from the user's file: glm-4.6 is the original now, and it is switched
    assert [(c.old, c.new) for c in outcome.changes] == [("zai-coding-plan/glm-4.6", DEEPSEEK)]
    assert state.load(commented) == (Entry(BUILD, "zai-coding-plan/glm-4.6", DEEPSEEK),)


def test_the_mode_is_kept_and_no_temp_file_is_left(commented: Path):
    commented.chmod(0o640)
    apply.run(ConfigFiles(commented), decider(zai="RED", deepseek="GREEN"))
    assert stat.S_IMODE(commented.stat().st_mode) == 0o640
    assert sorted(p.name for p in commented.parent.iterdir()) == [
        ".opencode-switcher.json",
        "opencode.jsonc",
        "quota-sentinel.jsonc",
    ]


def test_a_symlinked_config_is_written_through_to_its_target(tmp_path: Path):
    dotfiles = tmp_path / "dotfiles"
    project = tmp_path / "project"
    dotfiles.mkdir()
    project.mkdir()
    real = copy_fixture("agent-caddy.json", dotfiles, "opencode.json")
    link = project / "opencode.json"
    link.symlink_to(real)
    apply.run(ConfigFiles(link), decider(copilot="RED"))
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert json.loads(real.read_text())["agent"]["build"]["model"] == DEEPSEEK
    assert (project / ".opencode-switcher.json").exists()
    apply.restore(ConfigFiles(link))
    assert real.read_bytes() == fixture_bytes("agent-caddy.json") and link.is_symlink()


def test_a_read_only_config_is_refused_with_a_sentence(commented: Path):
    commented.chmod(0o444)
    with pytest.raises(SwitcherError, match=r"opencode.jsonc is read-only; make it writable"):
        files.check_writable(commented)


def test_leftovers_of_a_killed_writer_are_removed_by_the_next_write(commented: Path):
    dead = commented.parent / ".opencode.jsonc.abc123.999999999.qs-tmp"
    alive = commented.parent / f".opencode.jsonc.def456.{os.getppid()}.qs-tmp"
    dead.write_text("partial")
    alive.write_text("another writer's")
    apply.run(ConfigFiles(commented), decider(zai="RED", deepseek="GREEN"))
    assert not dead.exists() and alive.exists()


def test_an_invalid_config_names_the_line_and_changes_nothing(tmp_path: Path):
    config = tmp_path / "opencode.json"
    config.write_text('{\n  "model": "zai-coding-plan/glm-5.1"\n  "agent": {}\n}\n')
    with pytest.raises(SwitcherError, match=r"not valid JSONC: line 3, column 3: expected ','"):
        apply.run(ConfigFiles(config), decider(zai="RED"))


# -- targets and fallbacks -------------------------------------------------------------------


def test_targets_cover_top_level_agents_and_modes_with_their_fallbacks():
    config = {
        "model": ZAI,
        "small_model": "zai-coding-plan/glm-4.5-air",
        "agent": {
            "build": {"model": ZAI, "fallback_models": [DEEPSEEK, DEEPSEEK, MINIMAX]},
            "plan": {"disable": True},
        },
        "mode": {"old style": {"model": ZAI, "fallback_models": [MINIMAX]}},
    }
    sidecar = opencode.Fallbacks(top={"model": (DEEPSEEK,)})
    found = {t.path: (t.label, t.fallbacks) for t in opencode.targets(config, sidecar)}
    assert found == {
        ("model",): ("model", (DEEPSEEK,)),
        ("small_model",): ("small_model", ()),
        BUILD: ("build", (DEEPSEEK, MINIMAX)),
        ("mode", "old style", "model"): ("old style (mode)", (MINIMAX,)),
    }


def test_the_sidecar_wins_over_the_agents_own_list(tmp_path: Path):
    sidecar = copy_fixture("sidecar-top.jsonc", tmp_path, "quota-sentinel.jsonc")
    fallbacks = opencode.read_sidecar(sidecar)
    config = {"model": ZAI, "agent": {"build": {"model": ZAI, "fallback_models": [MINIMAX]}}}
    found = {t.path: t.fallbacks for t in opencode.targets(config, fallbacks)}
    assert found == {("model",): (DEEPSEEK,), BUILD: (DEEPSEEK, MINIMAX)}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"fallbacks": {}}', "unknown key 'fallbacks'"),
        ('{"fallback_models": {"build": "deepseek/x"}}', "fallback_models.build must be a list"),
        ('{"fallback_models": {"build": ["deepseek"]}}', r"fallback_models.build\[0\] must be"),
        ('{"model_fallbacks": [1]}', r"model_fallbacks\[0\] must be a model id"),
        ("[]", "must hold a JSON object"),
        ("{,}", "not valid JSONC: line 1, column 2"),
    ],
)
def test_a_malformed_sidecar_is_refused_with_a_sentence(tmp_path: Path, content, message):
    sidecar = tmp_path / "quota-sentinel.json"
    sidecar.write_text(content)
    with pytest.raises(SwitcherError, match=message):
        opencode.read_sidecar(sidecar)


def test_the_default_config_is_opencode_jsonc_then_opencode_json(tmp_path: Path):
    with pytest.raises(SwitcherError, match="no opencode.jsonc or opencode.json in"):
        opencode.find_config(None, tmp_path)
    (tmp_path / "opencode.json").write_text("{}")
    assert opencode.find_config(None, tmp_path) == tmp_path / "opencode.json"
    (tmp_path / "opencode.jsonc").write_text("{}")
    assert opencode.find_config(None, tmp_path) == tmp_path / "opencode.jsonc"
