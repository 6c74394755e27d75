"""`.opencode-switcher.json` beside the config: the remembered originals of switched models.

One file per directory, keyed by config file name (a directory may hold both opencode.json and
opencode.jsonc). It is written atomically before and after every config write (see
`plan.write_ahead`), so whatever instant the switcher dies at, it says how to restore.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from quota_sentinel.switcher.errors import SwitcherError
from quota_sentinel.switcher.files import atomic_write
from quota_sentinel.switcher.opencode import STATE_NAME
from quota_sentinel.switcher.plan import Entry

VERSION = 1


def state_path(config: Path) -> Path:
    """The state file of a config: beside the config as named (a symlink's own directory)."""
    return config.parent / STATE_NAME


def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {"version": VERSION, "configs": {}}
    except (OSError, ValueError) as exc:
        raise SwitcherError(
            f"{path} cannot be read ({exc}); it remembers your original models, so fix it "
            "rather than delete it."
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("configs"), dict):
        raise SwitcherError(f"{path} is not a quota-sentinel switcher state file.")
    return data


def _entry(raw: dict[str, Any]) -> Entry:
    return Entry(
        path=tuple(raw["path"]),
        original=raw["original"],
        current=raw["current"],
        pending=raw.get("pending"),
        green_polls=int(raw.get("green_polls", 0)),
        last_poll=raw.get("last_poll"),
    )


def load(config: Path) -> tuple[Entry, ...]:
    """The remembered entries of `config` (none when nothing is switched).

    Raises:
        SwitcherError: the state file exists but cannot be read.
    """
    path = state_path(config)
    raw = _read(path).get("configs", {}).get(config.name, [])
    try:
        return tuple(_entry(item) for item in raw)
    except (KeyError, TypeError, ValueError):
        raise SwitcherError(f"{path} holds an entry quota-sentinel cannot read.") from None


def save(config: Path, entries: Iterable[Entry]) -> None:
    """Remembers `entries` for `config`; the file goes away once nothing is remembered."""
    path = state_path(config)
    data = _read(path)
    items = [
        {
            "path": list(e.path),
            "original": e.original,
            "current": e.current,
            "pending": e.pending,
            "green_polls": e.green_polls,
            "last_poll": e.last_poll,
        }
        for e in entries
    ]
    if items:
        data["configs"][config.name] = items
    else:
        data["configs"].pop(config.name, None)
    if not data["configs"]:
        path.unlink(missing_ok=True)
        return
    data["version"] = VERSION
    atomic_write(path, (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode())
