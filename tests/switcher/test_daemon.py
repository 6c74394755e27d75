"""The switcher as a daemon (`python -m quota_sentinel.switcher`, a real subprocess): fresh
tokens with the heartbeat, and deregistration on SIGTERM and Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.switcher.e2e import DS_KEY, ZAI_KEY, Project, Upstreams, make_project
from tests.switcher.support import DEEPSEEK, ZAI, fixture_bytes

pytestmark = pytest.mark.usefixtures("green")


def start_daemon(up: Upstreams, project: Project, *args: str) -> subprocess.Popen:
    env = {k: v for k, v in {**os.environ, **project.env}.items() if v is not None}
    return subprocess.Popen(
        [sys.executable, "-m", "quota_sentinel.switcher", str(project.config), *args]
        + ["--sentinel-url", up.server.url, "--no-autostart", "--poll-interval", "1"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_daemon_sends_fresh_tokens_switches_and_deregisters_on_sigterm(
    up: Upstreams, tmp_path: Path
):
    project = make_project(tmp_path, "strict.json", "opencode.json", deepseek_key="sk-wrong-0000")
    up.zai_red()
    daemon = start_daemon(up, project, "--json")
    try:
        # Two cycles with a DeepSeek key the fake refuses (one JSON line each): nowhere to go.
        # Read, not slept for: a busy machine may take seconds to start the daemon.
        seen = [daemon.stdout.readline(), daemon.stdout.readline()]
        assert all(line.endswith("\n") for line in seen), (seen, daemon.stderr.read())
        assert json.loads(project.config.read_text())["agent"]["build"]["model"] == ZAI
        fresh = {"zai-coding-plan": {"key": ZAI_KEY}, "deepseek": {"key": DS_KEY}}
        project.auth_json.write_text(json.dumps(fresh))  # e.g. the user logged in again
        # Generous: each cycle is a registration round trip and a poll on a busy machine.
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if json.loads(project.config.read_text())["agent"]["build"]["model"] == DEEPSEEK:
                break
            time.sleep(0.2)
        daemon.send_signal(signal.SIGTERM)
        out, err = daemon.communicate(timeout=20)
    finally:
        daemon.kill()
    assert daemon.returncode == 0, err
    cycles = [json.loads(line) for line in "".join(seen).splitlines() + out.splitlines()]
    assert "deepseek UNKNOWN" in cycles[0]["providers"]["deepseek"]["detail"]
    assert "deepseek UNKNOWN" in cycles[1]["providers"]["deepseek"]["detail"]
    assert [c["changes"][0]["to"] for c in cycles if c["changes"]] == [DEEPSEEK]
    assert json.loads(project.config.read_text())["agent"]["build"]["model"] == DEEPSEEK
    assert up.server.instance_status(cycles[0]["instance_id"]) == 404
    assert DS_KEY not in out + err and ZAI_KEY not in out + err


def test_daemon_ctrl_c_deregisters(up: Upstreams, tmp_path: Path):
    project = make_project(tmp_path, "strict.json", "opencode.json")
    daemon = start_daemon(up, project)
    try:
        first = daemon.stdout.readline()
        assert first.startswith(f"Watching {project.config} every 1 s as instance "), first
        instance_id = first.split(" as instance ")[1].split()[0]
        assert up.server.instance_status(instance_id) == 200
        time.sleep(1.5)
        daemon.send_signal(signal.SIGINT)
        out, err = daemon.communicate(timeout=20)
    finally:
        daemon.kill()
    assert daemon.returncode == 0, err
    assert err == "quota-sentinel: stopped; the instance is deregistered.\n"
    assert up.server.instance_status(instance_id) == 404
    assert project.config.read_bytes() == fixture_bytes("strict.json"), first + out
