"""The installed OpenCode plugin, loaded by Node the way OpenCode loads it and driven with the
plugin API's event shapes, against a real `quota-sentinel start` polling Z.ai and DeepSeek fakes,
and against a sentinel that is down."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from quota_sentinel.cli import main
from quota_sentinel.switcher.jsonc import loads
from tests.netguard.sitecustomize import CHILD_ENV
from tests.switcher.e2e import Project, Upstreams, make_project, upstreams
from tests.switcher.sentinel import free_port
from tests.switcher.support import DEEPSEEK, ZAI, copy_fixture

HARNESS = Path(__file__).parent / "opencode_harness.mjs"
NODE = shutil.which("node")
# Like the dashboard's Chromium, Node is a Debian program (.ci/run installs `nodejs`).
# Under CI (.ci/run installs nodejs) a missing node fails; on a developer's machine it skips.
pytestmark = pytest.mark.skipif(
    NODE is None and not os.environ.get("CI"), reason="no node: sudo apt-get install nodejs"
)
RUN_TIMEOUT_S = 600


@pytest.fixture(scope="module")
def up() -> Iterator[Upstreams]:
    with upstreams() as started:
        yield started


def _installed(tmp_path: Path, *options: str) -> Project:
    project = make_project(tmp_path, "commented.jsonc", "opencode.jsonc")
    copy_fixture("quota-sentinel.jsonc", project.dir)
    argv = ["install", "opencode", "--project", str(project.dir), *options]
    result = CliRunner().invoke(main, argv, env=project.env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return project


def _drive(project: Project, url: str, *steps: str) -> dict[str, Any]:
    env = {k: v for k, v in project.env.items() if v is not None}
    env.update(QUOTA_SENTINEL_URL=url, PATH=os.environ.get("PATH", ""))
    # The network guard follows the plugin's Python children (README, Development).
    env.update({k: os.environ[k] for k in CHILD_ENV if k in os.environ})
    plugin = project.dir / ".opencode" / "plugins" / "quota-sentinel.js"
    done = subprocess.run(
        [str(NODE), str(HARNESS), str(plugin), str(project.dir), json.dumps(list(steps))],
        capture_output=True,
        text=True,
        env=env,
        cwd=project.dir,
        timeout=RUN_TIMEOUT_S,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_idle_switches_a_red_model_and_toasts_it(tmp_path, up):
    up.all_green()
    up.zai_red()
    project = _installed(tmp_path, "--no-autostart")

    out = _drive(project, up.server.url, "busy", "idle", "tool:task", "tool:bash")
    assert out["plugins"] == 1
    toasts = [t for t in out["toasts"] if t["step"] == "idle"]
    switched = [t for t in toasts if t["variant"] == "info"]
    assert [t["message"].split(" (")[0] for t in switched] == [f"build: {ZAI} → {DEEPSEEK}"]
    assert switched[0]["message"].endswith("; from the next session on")
    assert all(t["title"] == "quota-sentinel" for t in toasts)
    red = [t for t in toasts if t["variant"] == "error"]
    assert len(red) == 1 and red[0]["message"].startswith("zai RED, 5h at 93%")
    assert not [t for t in out["toasts"] if t["step"] == "busy"]  # only idle runs a check
    # opencode falls back to the GREEN deepseek: subagents may start.
    assert out["results"][2:] == [
        {"step": "tool:task", "allowed": True},
        {"step": "tool:bash", "allowed": True},
    ]
    assert loads((project.config).read_text())["agent"]["build"]["model"] == DEEPSEEK


def test_every_provider_red_refuses_a_subagent(tmp_path, up):
    up.all_green()
    up.zai_red()
    up.deepseek_red()
    project = _installed(tmp_path, "--no-autostart")

    out = _drive(project, up.server.url, "idle", "tool:task", "tool:read")
    assert {t["message"].split(",")[0] for t in out["toasts"] if t["variant"] == "error"} == {
        "zai RED",
        "deepseek RED",
    }
    refused = out["results"][1]
    assert refused["allowed"] is False
    assert refused["error"].startswith("quota-sentinel says STOP: Every provider is RED")
    assert refused["error"].endswith("Do not launch subagents until a window resets.")
    assert out["results"][2] == {"step": "tool:read", "allowed": True}


def test_a_sentinel_that_is_down_warns_once_and_blocks_nothing(tmp_path):
    project = _installed(tmp_path, "--no-autostart")
    before = project.config.read_bytes()
    url = f"http://127.0.0.1:{free_port()}"

    out = _drive(project, url, "idle", "idle", "tool:task")
    warnings = [t for t in out["toasts"] if t["variant"] == "warning"]
    assert len(warnings) == 1 and warnings[0]["step"] == "idle"
    assert warnings[0]["message"].startswith(
        f"could not check the quotas: nothing answers at {url}"
    )
    assert out["results"][2] == {"step": "tool:task", "allowed": True}
    assert project.config.read_bytes() == before
