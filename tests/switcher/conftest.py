"""Fixtures of the end-to-end switcher tests (see e2e.py); unit tests here use none of them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.switcher.e2e import Project, Upstreams, make_project, upstreams
from tests.switcher.support import copy_fixture


@pytest.fixture(scope="module")
def up() -> Iterator[Upstreams]:
    """One server per module, so each module starts from accounts never polled."""
    with upstreams() as started:
        yield started


@pytest.fixture
def green(up: Upstreams) -> Upstreams:
    """Every provider GREEN at the start of a test."""
    up.all_green()
    return up


@pytest.fixture
def commented(tmp_path: Path) -> Project:
    """commented.jsonc as opencode.jsonc, with the shared sidecar beside it."""
    project = make_project(tmp_path, "commented.jsonc", "opencode.jsonc")
    copy_fixture("quota-sentinel.jsonc", project.dir)
    return project
