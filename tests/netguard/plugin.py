"""The pytest side of the network guard (tests/netguard/sitecustomize.py), loaded by
tests/conftest.py: guards this process and every Python child the tests start, and fails the
test during which anything reached beyond loopback, naming the test and the target."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from tests.netguard.sitecustomize import ENV, install

HERE = Path(__file__).resolve().parent


def pytest_configure(config: pytest.Config) -> None:
    handle, report = tempfile.mkstemp(prefix="qs-network-guard-", suffix=".log")
    os.close(handle)
    config._network_guard_report = report  # type: ignore[attr-defined]
    os.environ[ENV] = report
    # Children inherit the environment: their interpreter imports sitecustomize from HERE.
    paths = [str(HERE)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    os.environ["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    install()


def pytest_unconfigure(config: pytest.Config) -> None:
    report = getattr(config, "_network_guard_report", None)
    if report:
        Path(report).unlink(missing_ok=True)


START = pytest.StashKey[int]()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    item.stash[START] = _report(item.config).stat().st_size


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """Fails the phase (setup, call or teardown) of a test during which the test, a thread or a
    process it started reached beyond loopback, naming the test and every target."""
    report = yield
    start = item.stash.get(START, None)
    if start is None:
        return report
    with _report(item.config).open("rb") as lines:
        lines.seek(start)
        raw = lines.read()
    item.stash[START] = start + len(raw)
    new = raw.decode("utf-8", "replace")
    if new.strip():
        report.outcome = "failed"
        report.longrepr = (
            f"{item.nodeid} reached beyond loopback (tests may use 127.0.0.1/::1 only; point "
            f"the provider at a fake in tests/upstreams):\n{new.strip()}"
        )
    return report


def _report(config: pytest.Config) -> Path:
    return Path(config._network_guard_report)  # type: ignore[attr-defined]
