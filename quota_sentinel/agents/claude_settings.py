"""quota-sentinel's hooks in Claude Code's settings.json: add them, find them, take them out.

Claude Code reads hooks from `.claude/settings.json` (a project) and `~/.claude/settings.json`
(the user; `$CLAUDE_CONFIG_DIR` moves that folder). Each hook we add is one matcher group of its
own under `hooks.<Event>`, holding a single command that names `quota_sentinel.agents
claude-code` (`quota-sentinel hook claude-code`); that command is how `uninstall` recognizes
ours, and groups anyone else wrote are never touched. Edits are in place (see `jsonedit`):
install then uninstall gives back the file byte for byte, and a settings file that did not exist
is removed again.
"""

from __future__ import annotations

import contextlib
import shlex
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from quota_sentinel.agents import jsonedit
from quota_sentinel.exits import UserError
from quota_sentinel.switcher.files import atomic_write
from quota_sentinel.switcher.jsonc import JsoncError, parse

MARKER = "quota_sentinel.agents claude-code"
# Seconds Claude Code gives the command before it kills it; ours answers in about one.
HOOK_TIMEOUT_S = 15
# The subagent tool was called Task before Claude Code 2.1.63 and Agent since; match both.
SUBAGENT_MATCHER = "Agent|Task"
# What a settings file install created is left with once our `hooks` member is taken out.
NEW_FILE_LEFTOVER = "{\n}\n"


@dataclass(frozen=True)
class Hook:
    """One hook we install: the Claude Code event, its matcher, our sub-command."""

    event: str
    matcher: str | None
    name: str


HOOKS = (
    Hook("SessionStart", None, "session-start"),
    Hook("UserPromptSubmit", None, "user-prompt-submit"),
    Hook("PreToolUse", SUBAGENT_MATCHER, "pre-tool-use"),
)


def config_dir(env: Mapping[str, str]) -> Path:
    """Claude Code's user folder: $CLAUDE_CONFIG_DIR, else $HOME/.claude."""
    if env.get("CLAUDE_CONFIG_DIR"):
        return Path(env["CLAUDE_CONFIG_DIR"]).expanduser()
    return Path(env.get("HOME") or Path.home()) / ".claude"


def settings_path(project: Path | None, env: Mapping[str, str]) -> Path:
    """`.claude/settings.json` of `project`, or the user's settings.json when it is None."""
    if project is not None:
        return project / ".claude" / "settings.json"
    return config_dir(env) / "settings.json"


def command(hook: Hook, options: Sequence[str] = ()) -> str:
    """The shell command Claude Code runs: this Python, absolute, so it works from any cwd."""
    argv = [sys.executable, "-m", "quota_sentinel.agents", "claude-code", hook.name, *options]
    return shlex.join(argv)


def _group(hook: Hook, options: Sequence[str]) -> dict[str, Any]:
    entry = {"type": "command", "command": command(hook, options), "timeout": HOOK_TIMEOUT_S}
    return {"matcher": hook.matcher, "hooks": [entry]} if hook.matcher else {"hooks": [entry]}


def is_ours(group: Any) -> bool:
    """A matcher group that holds exactly one command, and that command is ours."""
    if not isinstance(group, dict):
        return False
    hooks = group.get("hooks")
    return (
        isinstance(hooks, list)
        and len(hooks) == 1
        and isinstance(hooks[0], dict)
        and MARKER in str(hooks[0].get("command", ""))
    )


def _read(path: Path) -> str | None:
    try:
        return path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        return None
    except UnicodeDecodeError:
        raise UserError(f"{path} is not UTF-8 text; quota-sentinel leaves it alone.") from None
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror or exc}.") from None


def _parse(path: Path, text: str):
    try:
        doc = parse(text)
    except JsoncError as exc:
        raise UserError(f"{path} is not valid JSON: {exc}; fix it first.") from None
    if not isinstance(doc.value, dict):
        raise UserError(f"{path} must hold a JSON object.")
    hooks = doc.value.get("hooks", {})
    if not isinstance(hooks, dict) or any(
        not isinstance(v, list) for k, v in hooks.items() if k in {h.event for h in HOOKS}
    ):
        raise UserError(f"{path}: `hooks` is not in Claude Code's shape ({{event: [groups]}}).")
    return doc


def _only_ours(groups: Any) -> bool:
    return isinstance(groups, list) and len(groups) == 1 and is_ours(groups[0])


def _without_ours(path: Path, text: str) -> tuple[str, int]:
    """The text with every group of ours removed, and how many there were.

    A `hooks` object or an event list that install created whole (its layout says so, see
    `jsonedit.created`) and that holds nothing but ours goes as a whole; elsewhere only our
    groups go, so what was there before stays as it was.
    """
    doc = _parse(path, text)
    hooks = doc.value.get("hooks")
    if (
        hooks
        and set(hooks) <= {h.event for h in HOOKS}
        and all(_only_ours(groups) for groups in hooks.values())
        and jsonedit.created(doc, ("hooks",))
    ):
        return jsonedit.remove(doc, ("hooks",)), len(hooks)
    removed = 0
    for hook in HOOKS:
        while True:
            doc = _parse(path, text)
            groups = doc.value.get("hooks", {}).get(hook.event, [])
            if _only_ours(groups) and jsonedit.created(doc, ("hooks", hook.event)):
                text = jsonedit.remove(doc, ("hooks", hook.event))
                removed += 1
                break
            mine = [i for i, g in enumerate(groups) if is_ours(g)]
            if not mine:
                break
            text = jsonedit.remove(doc, ("hooks", hook.event, mine[-1]))
            removed += 1
    return text, removed


def _with_ours(path: Path, text: str | None, options: Sequence[str]) -> str:
    if text is None:  # a new file: laid out as `jsonedit` lays out what it creates
        groups = {h.event: [_group(h, options)] for h in HOOKS}
        return jsonedit.render({"hooks": groups}, "", "  ", "\n") + "\n"
    doc = _parse(path, text)
    if "hooks" not in doc.value:
        groups = {h.event: [_group(h, options)] for h in HOOKS}
        return jsonedit.add(doc, (), "hooks", groups)
    for hook in HOOKS:
        doc = _parse(path, text)
        if hook.event in doc.value["hooks"]:
            text = jsonedit.add(doc, ("hooks", hook.event), None, _group(hook, options))
        else:
            text = jsonedit.add(doc, ("hooks",), hook.event, [_group(hook, options)])
    return text


def install(path: Path, options: Sequence[str] = ()) -> bool:
    """Adds our three hooks to the settings file at `path` (created when missing).

    Args:
        path: the settings.json.
        options: extra arguments for every hook command (e.g. --sentinel-url URL).

    Returns:
        False when exactly these hooks were already there (nothing written).

    Raises:
        UserError: the file is not JSON(C) or `hooks` is not in Claude Code's shape.
    """
    original = _read(path)
    text = None if original is None else _without_ours(path, original)[0]
    text = _with_ours(path, text, options)
    if text == original:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, text.encode("utf-8"))
    return True


def uninstall(path: Path) -> int:
    """Removes our hooks from `path`; a file install created is deleted again.

    Returns:
        how many hooks were removed (0: none were installed; nothing written).
    """
    original = _read(path)
    if original is None:
        return 0
    text, removed = _without_ours(path, original)
    if not removed:
        return 0
    if text == NEW_FILE_LEFTOVER:  # install created the file: remove it again
        path.unlink()
        if path.parent.name == ".claude":
            with contextlib.suppress(OSError):  # only when empty: install may have created it
                path.parent.rmdir()
        return removed
    atomic_write(path, text.encode("utf-8"))
    return removed


def installed(path: Path) -> list[str]:
    """The events that hold a hook of ours in `path`."""
    text = _read(path)
    if text is None:
        return []
    hooks = _parse(path, text).value.get("hooks", {})
    return [h.event for h in HOOKS if any(is_ours(g) for g in hooks.get(h.event, []))]
