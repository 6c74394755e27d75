"""End-to-end helpers: the fake upstreams behind one server, a project in a temp HOME, and the
switch command run in-process (click's CliRunner).

Z.ai is GREEN at 10 % and RED at 93 % of its 5-hour window (cap 80); DeepSeek is GREEN with its
whole balance and RED with 10 % of it left (cap 85). Credentials come from the temp HOME:
OpenCode's auth.json, and `{env:DEEPSEEK_API_KEY}` in commented.jsonc.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner, Result

from quota_sentinel.switcher.command import switch
from tests.switcher.sentinel import Sentinel
from tests.switcher.support import copy_fixture
from tests.upstreams.deepseek import DeepSeekFake
from tests.upstreams.zai import ZaiFake

ZAI_KEY = "zai-switch-test-key"
DS_KEY = "sk-deepseek-switch-0001"


@dataclass
class Upstreams:
    server: Sentinel
    zai: ZaiFake
    deepseek: DeepSeekFake
    resets: int = 0

    def zai_red(self) -> None:
        self.zai.set_usage(five_hour=93)

    def zai_green(self) -> None:
        """A new 5-hour window at 10 %: as with the real API, usage drops only at a reset, i.e.
        when resets_at moves forward (by more than the engine's 60 s tolerance)."""
        self.resets += 1
        reset_ms = int(time.time() * 1000) + 2 * 3_600_000 + self.resets * 600_000
        self.zai.set_usage(five_hour=10, reset_5h_ms=reset_ms)

    def deepseek_red(self) -> None:
        self.deepseek.set_balance(1.0)

    def all_green(self) -> None:
        self.zai.set_usage(weekly=5)
        self.zai_green()
        self.deepseek.set_balance(10.0)
        self.deepseek.ok()


@contextmanager
def upstreams() -> Iterator[Upstreams]:
    """A `quota-sentinel start` polling a Z.ai and a DeepSeek fake."""
    zai = ZaiFake(ZAI_KEY).start()
    deepseek = DeepSeekFake(DS_KEY).start()
    data_dir = Path(tempfile.mkdtemp(prefix="qs-switch-"))  # short: redis socket paths are short
    server = Sentinel(
        data_dir,
        {"QUOTA_SENTINEL_ZAI_BASE_URL": zai.url, "QUOTA_SENTINEL_DEEPSEEK_BASE_URL": deepseek.url},
    )
    try:
        yield Upstreams(server.wait_healthy(), zai, deepseek)
    finally:
        try:
            assert server.stop() == 0, server.log.read_text()
        finally:
            zai.stop()
            deepseek.stop()
            shutil.rmtree(data_dir, ignore_errors=True)


@dataclass
class Project:
    dir: Path
    config: Path
    env: dict[str, str | None]

    @property
    def state(self) -> Path:
        return self.dir / ".opencode-switcher.json"

    @property
    def auth_json(self) -> Path:
        return Path(self.env["HOME"] or "") / ".local/share/opencode/auth.json"


def make_project(tmp_path: Path, fixture: str, name: str, deepseek_key: str = DS_KEY) -> Project:
    """A project directory with `fixture` as its config, and a temp HOME with an auth.json."""
    home = tmp_path / "home"
    auth = home / ".local/share/opencode/auth.json"
    auth.parent.mkdir(parents=True)
    auth.write_text(
        json.dumps(
            {
                "zai-coding-plan": {"type": "api", "key": ZAI_KEY},
                "deepseek": {"type": "api", "key": deepseek_key},
            }
        )
    )
    project = tmp_path / "project"
    project.mkdir()
    env = {
        "HOME": str(home),
        "XDG_DATA_HOME": None,
        "CLAUDE_CONFIG_DIR": str(home / ".claude"),
        "PATH": str(home / "bin"),  # no `gh` here
        "GH_TOKEN": None,
        "GITHUB_TOKEN": None,
        "QUOTA_SENTINEL_URL": None,
        "QUOTA_SENTINEL_DATA_DIR": str(tmp_path / "data"),
        "DEEPSEEK_API_KEY": DS_KEY,
    }
    return Project(project, copy_fixture(fixture, project, name), env)


def run(up: Upstreams, project: Project, *args: str) -> Result:
    """`quota-sentinel switch CONFIG --sentinel-url … --no-autostart ARGS`, in-process."""
    argv = [str(project.config), "--sentinel-url", up.server.url, "--no-autostart", *args]
    return CliRunner().invoke(switch, argv, env=project.env, catch_exceptions=False)
