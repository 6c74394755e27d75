"""The OpenCode plugin and skill: where they go, writing them, and taking them out again.

OpenCode loads every `.js`/`.ts` file in `.opencode/plugins/` (a project) and in
`~/.config/opencode/plugins/` (the user; `$XDG_CONFIG_HOME` moves it), and skills from
`skills/<name>/SKILL.md` beside them. The plugin runs `quota-sentinel switch`, so the fallback
chains stay in the sidecar `quota-sentinel.jsonc` and installing never touches the models in
`opencode.json`. Both files carry a marker line; uninstall removes only files that carry it,
then the folders install created that are left empty.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path

from quota_sentinel.exits import UserError
from quota_sentinel.switcher.files import atomic_write

PLUGIN = "quota-sentinel.js"
SKILL = "quota-sentinel"
MARKER = "quota-sentinel uninstall opencode"


def base_dir(project: Path | None, env: Mapping[str, str]) -> Path:
    """`.opencode` of the project, or the user's OpenCode config folder."""
    if project is not None:
        return project / ".opencode"
    config = env.get("XDG_CONFIG_HOME") or str(Path(env.get("HOME") or Path.home()) / ".config")
    return Path(config) / "opencode"


def paths(project: Path | None, env: Mapping[str, str]) -> tuple[Path, Path]:
    """The plugin file and the skill file."""
    base = base_dir(project, env)
    return base / "plugins" / PLUGIN, base / "skills" / SKILL / "SKILL.md"


def plugin_text(options: Sequence[str] = ()) -> str:
    """The plugin with this machine's command (this Python, absolute) filled in."""
    text = resources.files("quota_sentinel.agents").joinpath("assets", PLUGIN).read_text()
    command = json.dumps([sys.executable, "-m", "quota_sentinel.switcher"])
    check = json.dumps(["--once", "--json", *options])
    text = text.replace('/*QS_COMMAND*/ ["quota-sentinel"]', command)
    return text.replace('/*QS_CHECK_ARGS*/ ["switch", "--once", "--json"]', check)


def skill_text() -> str:
    return resources.files("quota_sentinel.agents").joinpath("assets", "SKILL.md").read_text()


def _ours(path: Path) -> bool:
    try:
        return MARKER in path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return False


def install(
    project: Path | None, env: Mapping[str, str], options: Sequence[str] = ()
) -> list[Path]:
    """Writes the plugin and the skill; returns their paths.

    Raises:
        UserError: a file of that name exists and is not ours.
    """
    plugin, skill = paths(project, env)
    for path in (plugin, skill):
        if path.exists() and not _ours(path):
            raise UserError(f"{path} exists and is not quota-sentinel's; move it away first.")
    for path, text in ((plugin, plugin_text(options)), (skill, skill_text())):
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, text.encode("utf-8"))
    return [plugin, skill]


def uninstall(project: Path | None, env: Mapping[str, str]) -> list[Path]:
    """Removes the plugin and the skill (ours only) and the folders left empty; returns what
    was removed."""
    plugin, skill = paths(project, env)
    removed = []
    for path in (plugin, skill):
        if _ours(path):
            path.unlink()
            removed.append(path)
    base = base_dir(project, env)
    empty = [skill.parent, skill.parent.parent, plugin.parent]
    if project is not None:
        empty.append(base)  # the user's config folder stays, empty or not
    for folder in empty:
        if removed and folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
    return removed
