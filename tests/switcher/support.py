"""Helpers of the switcher tests: fixture files, a project directory, and health shorthands."""

from __future__ import annotations

import shutil
from pathlib import Path

from quota_sentinel.switcher import plan
from quota_sentinel.switcher.plan import Health

FIXTURES = Path(__file__).parent / "fixtures"

ZAI = "zai-coding-plan/glm-5.1"
DEEPSEEK = "deepseek/deepseek-v3.2"
MINIMAX = "minimax-coding-plan/MiniMax-M2.7"


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def copy_fixture(name: str, directory: Path, as_name: str | None = None) -> Path:
    """Copies a fixture into `directory` (as `as_name`), writable, and returns its path."""
    target = directory / (as_name or name)
    shutil.copyfile(FIXTURES / name, target)
    target.chmod(0o644)
    return target


def healths(**statuses: str) -> dict[str, Health]:
    """provider=status shorthands, each with a fixed poll id."""
    return {n: Health(n, s, "poll-1", f"{n} {s}") for n, s in statuses.items()}


def decider(hold: int = 3, **statuses: str):
    """An apply.Decide with these provider statuses."""
    known = healths(**statuses)
    return lambda targets, entries: plan.decide(targets, entries, known, hold)
