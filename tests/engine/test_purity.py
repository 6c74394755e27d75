"""The engine imports only the standard library and nothing that reads the outside world."""

import ast
import sys
from pathlib import Path

import pytest

import quota_sentinel.engine

ENGINE_DIR = Path(quota_sentinel.engine.__file__).parent
# Standard-library modules that would let the engine read the environment, the clock or I/O.
FORBIDDEN = {"os", "time", "datetime", "random", "socket", "subprocess", "pathlib", "io"}


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("path", sorted(ENGINE_DIR.glob("*.py")), ids=lambda p: p.name)
def test_engine_module_imports_only_pure_standard_library(path):
    modules = imported_modules(path)

    assert modules <= set(sys.stdlib_module_names), modules - set(sys.stdlib_module_names)
    assert not modules & FORBIDDEN
