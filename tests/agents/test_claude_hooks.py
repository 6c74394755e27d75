"""The installed Claude Code hooks, run as Claude Code runs them (a shell command, the event as
JSON on stdin, exit code and stdout/stderr read back) against a real `quota-sentinel start`
polling a Claude fake: GREEN, YELLOW, RED, a sentinel that is down, one that is slow, and one that
the hook starts itself."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner

from quota_sentinel.cli import main
from tests.agents.support import ClaudeBurn, ClaudeProject, make_claude_project
from tests.switcher.sentinel import ADMIN_TOKEN, Sentinel, free_port
from tests.waiting import http_ok, wait_until

PROMPT = {"prompt": "refactor the parser", "permission_mode": "default"}
AGENT = {"tool_name": "Agent", "tool_input": {"description": "explore", "prompt": "find x"}}
TASK = {**AGENT, "tool_name": "Task"}  # the subagent tool's name before Claude Code 2.1.63


def _sentinel_for(fake: ClaudeBurn) -> Sentinel:
    """A real `quota-sentinel start` polling `fake`, healthy (stopped again if it never is)."""
    data = Path(tempfile.mkdtemp(prefix="qs-hook-"))  # short: redis socket paths are short
    env = {
        "QUOTA_SENTINEL_CLAUDE_BASE_URL": fake.url,
        "QUOTA_SENTINEL_CLAUDE_OAUTH_BASE_URL": fake.url,
    }
    server = Sentinel(data, env)
    try:
        return server.wait_healthy()
    except BaseException:
        server.stop()
        raise


@pytest.fixture(scope="module")
def claude_fake() -> Iterator[ClaudeBurn]:
    with ClaudeBurn() as fake:
        yield fake


@pytest.fixture(scope="module")
def sentinel(claude_fake: ClaudeBurn) -> Iterator[Sentinel]:
    server = _sentinel_for(claude_fake)
    try:
        yield server
    finally:
        assert server.stop() == 0, server.log.read_text()
        shutil.rmtree(server.log.parent, ignore_errors=True)


def _project(tmp_path: Path, fake: ClaudeBurn, url: str, *install: str) -> ClaudeProject:
    """A project with our hooks installed; its own access token makes its own Claude account."""
    token = f"sk-ant-oat01-fake-access-{tmp_path.name}"
    fake.add_token(token)
    project = make_claude_project(tmp_path, token, url)
    argv = ["install", "claude-code", "--project", str(project.dir), *install]
    result = CliRunner().invoke(main, argv, env=project.env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return project


def _session_says(project: ClaudeProject, words: str) -> str:
    """Starts sessions until the context line says `words` (each start asks for a poll)."""

    def check() -> str | None:
        started = project.run("SessionStart", {"source": "startup"})
        assert started.code == 0, started.stderr
        return started.context if words in started.context else None

    return wait_until(check, timeout=120, interval=0.5, what=f"a session start saying {words!r}")


def test_green_proceeds_silently_and_registers_a_claude_instance(tmp_path, claude_fake, sentinel):
    claude_fake.steady(37)
    project = _project(tmp_path, claude_fake, sentinel.url)

    line = _session_says(project, "quota-sentinel says PROCEED: No provider is near its cap")
    assert "cache" not in line

    prompt = project.run("UserPromptSubmit", PROMPT)
    assert (prompt.code, prompt.stdout, prompt.stderr) == (0, "", "")
    subagent = project.run("PreToolUse", AGENT)
    assert (subagent.code, subagent.stdout, subagent.stderr) == (0, "", "")

    assert _instances(sentinel, project) == ["claude"]  # one instance, however many hooks ran
    # The instance's API key lives in a file only its owner can read.
    data = Path(project.env["QUOTA_SENTINEL_DATA_DIR"])
    [state] = (data / "agents").glob("claude-*.json")
    assert stat.S_IMODE(state.stat().st_mode) == 0o600
    assert stat.S_IMODE(state.parent.stat().st_mode) == stat.S_IMODE(data.stat().st_mode) == 0o700


def _instances(sentinel: Sentinel, project: ClaudeProject) -> list[str]:
    """The frameworks of the live instances named like the project (the admin's team view)."""
    team = requests.get(
        sentinel.url + "/v1/team", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=30
    ).json()
    return [i["framework"] for i in team["instances"] if i["project"] == project.dir.name]


def test_hooks_firing_at_once_share_one_instance(tmp_path, claude_fake, sentinel):
    claude_fake.steady(37)
    project = _project(tmp_path, claude_fake, sentinel.url)
    with ThreadPoolExecutor(max_workers=4) as pool:  # parallel subagent launches
        runs = list(pool.map(lambda _: project.run("PreToolUse", AGENT), range(4)))
    assert [r.code for r in runs] == [0, 0, 0, 0]
    assert _instances(sentinel, project) == ["claude"]


def test_red_blocks_the_prompt_with_the_window_and_its_reset(tmp_path, claude_fake, sentinel):
    claude_fake.steady(93)  # over the five_hour cap of 80
    project = _project(tmp_path, claude_fake, sentinel.url)

    line = _session_says(project, "quota-sentinel says STOP:")
    reset = time.strftime("%H:%M", time.gmtime(claude_fake.resets_at))
    assert (
        f"claude's five_hour window is RED (93 % used, cap 80 %) and resets at {reset} UTC" in line
    )

    prompt = project.run("UserPromptSubmit", PROMPT)
    assert prompt.code == 2 and prompt.stdout == ""
    assert prompt.stderr.startswith("quota-sentinel says STOP: claude's five_hour window is RED")
    assert f"resets at {reset} UTC" in prompt.stderr

    for tool in (AGENT, TASK):
        refused = project.run("PreToolUse", tool)
        assert refused.code == 2 and refused.stderr.startswith("No subagents now: ")
        assert "five_hour window is RED" in refused.stderr
    other = project.run("PreToolUse", {"tool_name": "Bash", "tool_input": {"command": "ls"}})
    assert (other.code, other.stdout, other.stderr) == (0, "", "")


def test_a_token_claude_code_refreshed_reaches_the_sentinel(tmp_path, claude_fake, sentinel):
    claude_fake.steady(37)
    project = _project(tmp_path, claude_fake, sentinel.url)
    _session_says(project, "quota-sentinel says PROCEED: No provider is near its cap")

    # Claude Code refreshes: new tokens in its credentials file, the old access token dies.
    old = json.loads(project.credentials.read_text())["claudeAiOauth"]
    fresh = f"sk-ant-oat01-fake-access-{tmp_path.name}-refreshed"
    claude_fake.add_token(fresh)
    claude_fake.revoke(old["accessToken"])
    rotated = {**old, "accessToken": fresh, "refreshToken": old["refreshToken"] + "-2"}
    project.credentials.write_text(json.dumps({"claudeAiOauth": rotated}))
    claude_fake.steady(93)

    # Only a poll with the fresh token can see the new 93 %: the old one now gets a 401.
    line = _session_says(project, "quota-sentinel says STOP:")
    assert "claude's five_hour window is RED (93 % used" in line


def test_credentials_that_turn_up_later_register_the_account(tmp_path, claude_fake, sentinel):
    claude_fake.steady(37)
    project = _project(tmp_path, claude_fake, sentinel.url)
    saved = project.credentials.read_text()
    project.credentials.unlink()  # not signed in yet

    line = project.run("SessionStart", {"source": "startup"}).context
    assert line == (
        "quota-sentinel says PROCEED: There is no current quota data; proceed. "
        f"(no Claude Code credentials in {project.credentials}.)"
    )
    project.credentials.write_text(saved)  # `claude login`
    _session_says(project, "quota-sentinel says PROCEED: No provider is near its cap")


def test_yellow_keeps_prompts_but_refuses_subagents(tmp_path, claude_fake, sentinel):
    # 40 %/h from 50 % reaches the cap of 80 in 45 min: inside twice the 30-min margin. A fast
    # burn is told from zero in a few polls (at 10 %/h it took a minute and a half of them).
    claude_fake.burn(50.0, 40.0)
    project = _project(tmp_path, claude_fake, sentinel.url)

    line = _session_says(project, "quota-sentinel says PROCEED_SMALL_ONLY:")
    assert "claude's five_hour window is YELLOW" in line and "do not launch subagents" in line

    prompt = project.run("UserPromptSubmit", PROMPT)
    assert prompt.code == 0 and prompt.stderr == ""
    assert "PROCEED_SMALL_ONLY" in prompt.context

    refused = project.run("PreToolUse", AGENT)
    assert refused.code == 2 and "No subagents now" in refused.stderr
    assert "five_hour window is YELLOW" in refused.stderr


def test_a_sentinel_that_is_down_is_answered_from_the_cache_and_never_blocks(tmp_path, claude_fake):
    own = _sentinel_for(claude_fake)
    try:
        claude_fake.steady(93)
        project = _project(tmp_path, claude_fake, own.url, "--no-autostart")
        _session_says(project, "quota-sentinel says STOP:")
    finally:
        assert own.stop() == 0, own.log.read_text()
        shutil.rmtree(own.log.parent, ignore_errors=True)
    budget = {"QUOTA_SENTINEL_HOOK_TIMEOUT": "0.5"}  # the installed default

    started = project.run("SessionStart", {"source": "resume"}, **budget)
    assert started.code == 0
    assert started.context.startswith("quota-sentinel says STOP: claude's five_hour window is RED")
    assert f"(from the cache, 0 min old: nothing answers at {own.url}.)" in started.context

    prompt = project.run("UserPromptSubmit", PROMPT, **budget)
    assert prompt.code == 0 and prompt.stderr == ""  # a cached STOP does not block
    warning = prompt.json["systemMessage"]
    assert warning.startswith(
        f"quota-sentinel could not check the quota (nothing answers at {own.url}"
    )
    assert (
        "the prompt goes through" in warning and "Last known: quota-sentinel says STOP" in warning
    )

    subagent = project.run("PreToolUse", AGENT, **budget)
    assert subagent.code == 0 and "the subagent may start" in subagent.json["systemMessage"]


@pytest.fixture
def silent_url() -> Iterator[str]:
    """A loopback port that accepts connections and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(timeout=10)
        for conn in held:
            conn.close()
        listener.close()


def test_a_slow_sentinel_costs_one_budget_then_the_cache(
    tmp_path, claude_fake, sentinel, silent_url
):
    claude_fake.steady(37)
    project = _project(tmp_path, claude_fake, sentinel.url, "--no-autostart")
    _session_says(project, "quota-sentinel says PROCEED: No provider is near its cap")

    prompt = project.run(
        "UserPromptSubmit", PROMPT, QUOTA_SENTINEL_URL=silent_url, QUOTA_SENTINEL_HOOK_TIMEOUT="1"
    )
    assert prompt.code == 0
    warning = prompt.json["systemMessage"]
    assert f"({silent_url} did not answer in time.)" in warning
    assert "Last known: quota-sentinel says PROCEED" in warning


def test_broken_input_fails_open_with_a_warning(tmp_path, claude_fake, sentinel):
    project = _project(tmp_path, claude_fake, sentinel.url, "--no-autostart")
    command = project.commands()["UserPromptSubmit"]
    done = subprocess.run(
        command,
        shell=True,
        input="{not json",
        capture_output=True,
        text=True,
        env=project.env,
        cwd=project.dir,
        timeout=120,
    )
    assert done.returncode == 0
    assert "quota-sentinel's hook failed" in done.stdout and "goes on unchecked" in done.stdout


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_a_silent_loopback_sentinel_is_started_by_the_hook(tmp_path, claude_fake):
    claude_fake.steady(37)
    url = f"http://127.0.0.1:{free_port()}"
    project = _project(tmp_path, claude_fake, url)
    data = Path(tempfile.mkdtemp(prefix="qs-auto-"))  # the started server's redis socket lives here
    env = {
        "QUOTA_SENTINEL_DATA_DIR": str(data),
        "QUOTA_SENTINEL_CLAUDE_BASE_URL": claude_fake.url,
        "QUOTA_SENTINEL_CLAUDE_OAUTH_BASE_URL": claude_fake.url,
        "QUOTA_SENTINEL_MIN_POLL_GAP": "0",
    }
    first = project.run(
        "SessionStart", {"source": "startup"}, **env, QUOTA_SENTINEL_HOOK_TIMEOUT="0.8"
    )
    pid = int((data / "server.pid").read_text())
    try:
        assert first.code == 0
        assert f"started a local quota-sentinel at {url} (pid {pid}" in first.context

        wait_until(lambda: http_ok(url + "/v1/health"), timeout=120, what="the started server")

        def proceeds() -> str | None:
            line = project.run("SessionStart", {"source": "startup"}, **env).context
            return line if "says PROCEED: No provider is near its cap" in line else None

        fresh = wait_until(proceeds, timeout=120, interval=0.5, what="a fresh PROCEED from it")
        assert "cache" not in fresh
    finally:
        if not _gone(pid):
            os.kill(pid, signal.SIGINT)
        wait_until(lambda: _gone(pid), timeout=90, what="the started server exiting")
        shutil.rmtree(data, ignore_errors=True)
