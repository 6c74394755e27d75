"""What an installed `quota-sentinel` (pipx, the wheel in the Docker image) needs at run time
ships in it: every folder of Python code is a package `find` picks up (a folder without
`__init__.py` is silently left out of the wheel), and every other file beside the code (dashboard
templates and static files, the OpenCode plugin and skill, anything added later) is matched by
pyproject's package-data, globbed from its package as setuptools globs it."""

from __future__ import annotations

import tomllib
from glob import glob
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOP_LEVEL = ("quota_sentinel", "workers")
SKIPPED = {"__pycache__"}


def _files(top: str) -> list[Path]:
    return [
        path
        for path in (ROOT / top).rglob("*")
        if path.is_file() and not SKIPPED & set(path.parts) and path.suffix != ".pyc"
    ]


def test_every_folder_of_python_code_is_a_package():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert config["tool"]["setuptools"]["packages"]["find"]["include"] == [
        f"{top}*" for top in TOP_LEVEL
    ]
    for top in TOP_LEVEL:
        folders = {path.parent for path in _files(top) if path.suffix == ".py"}
        assert folders
        for folder in folders:
            assert (folder / "__init__.py").exists(), f"{folder.relative_to(ROOT)} is no package"


def test_every_file_beside_the_code_is_package_data():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    package_data: dict[str, list[str]] = config["tool"]["setuptools"]["package-data"]
    shipped: set[Path] = set()
    for package, patterns in package_data.items():
        folder = ROOT.joinpath(*package.split("."))
        for pattern in patterns:
            shipped |= {Path(p) for p in glob(str(folder / pattern), recursive=True)}

    data = [path for top in TOP_LEVEL for path in _files(top) if path.suffix != ".py"]
    assert any(path.name == "quota-sentinel.js" for path in data)  # the walk sees the assets
    for path in data:
        assert path in shipped, f"{path.relative_to(ROOT)} is not in pyproject's package-data"
