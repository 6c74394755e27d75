"""The dashboard's templates and static files are declared as package data, so an installed
`quota-sentinel` (pipx, a wheel in the Docker image) serves the page too."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
DASHBOARD = ROOT / "quota_sentinel" / "dashboard"


def test_every_template_and_static_file_is_package_data():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["quota_sentinel.dashboard"]
    files = [
        path.relative_to(DASHBOARD)
        for folder in ("templates", "static")
        for path in (DASHBOARD / folder).rglob("*")
        if path.is_file()
    ]

    assert files
    for path in files:
        assert any(path.match(pattern) for pattern in patterns), path
