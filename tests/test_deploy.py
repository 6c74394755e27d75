"""The deploy files (Dockerfile, fly.toml, render.yaml, compose.yaml) run only commands our CLI
has (the web process too: `quota-sentinel web` holds the gunicorn command line) and set only
variables Settings reads."""

from __future__ import annotations

import json
import shlex
import tomllib
from pathlib import Path

import click
import pytest
import yaml

from quota_sentinel.cli import main
from quota_sentinel.config import Settings

ROOT = Path(__file__).resolve().parent.parent
# Interpreter and installer variables of the image, not ours.
RUNTIME_VARS = {"PYTHONUNBUFFERED", "PIP_DISABLE_PIP_VERSION_CHECK"}


class _Recording(dict):
    """An empty environment that remembers every name Settings.from_env asks for."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: set[str] = set()

    def get(self, key, default=None):
        self.asked.add(key)
        return super().get(key, default)

    def __getitem__(self, key):
        self.asked.add(key)
        return super().__getitem__(key)

    def __contains__(self, key):
        self.asked.add(key)
        return super().__contains__(key)


def settings_variables() -> set[str]:
    env = _Recording()
    Settings.from_env(env)
    return env.asked


def _dockerfile() -> tuple[list[list[str]], dict[str, str]]:
    commands, env = [], {}
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        if line.startswith("CMD "):
            commands.append(json.loads(line[4:]))
        elif line.startswith("ENV "):
            env.update(pair.split("=", 1) for pair in shlex.split(line[4:]))
    return commands, env


def _fly() -> tuple[list[list[str]], dict[str, str]]:
    fly = tomllib.loads((ROOT / "fly.toml").read_text())
    return [shlex.split(c) for c in fly["processes"].values()], dict(fly["env"])


def _render() -> tuple[list[list[str]], dict[str, str]]:
    blueprint = yaml.safe_load((ROOT / "render.yaml").read_text())
    commands, env = [], {}
    for service in blueprint["services"]:
        if service["type"] == "keyvalue":
            continue
        assert service["runtime"] == "docker" and service["dockerfilePath"] == "./Dockerfile"
        commands.append(shlex.split(service["dockerCommand"]))
        env.update({v["key"]: v for v in service["envVars"] if "key" in v})
    for group in blueprint["envVarGroups"]:
        env.update({v["key"]: v for v in group["envVars"]})
    return commands, env


def _compose() -> tuple[list[list[str]], dict[str, str]]:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    commands, env = [], {}
    for service in compose["services"].values():
        if service.get("build") != ".":
            continue  # redis: someone else's image
        commands.append(service["command"])
        env.update(service["environment"])
    return commands, env


DEPLOYS = {
    "Dockerfile": _dockerfile,
    "fly.toml": _fly,
    "render.yaml": _render,
    "compose.yaml": _compose,
}


def _check_cli(argv: list[str]) -> None:
    command: click.Command = main
    args = list(argv[1:])
    while isinstance(command, click.Group):
        assert args, f"{argv}: a command group needs a command"
        name = args.pop(0)
        found = command.get_command(click.Context(command), name)
        assert found is not None, f"{argv}: quota-sentinel has no command {name!r}"
        command = found
    command.make_context(argv[0], args)  # raises on an unknown option or argument


@pytest.mark.parametrize("name", DEPLOYS)
def test_every_command_a_deploy_file_runs_exists(name):
    commands, _ = DEPLOYS[name]()

    assert commands
    for argv in commands:
        assert argv[0] == "quota-sentinel", f"{name} runs {argv[0]}, not our CLI"
        _check_cli(argv)


@pytest.mark.parametrize("name", DEPLOYS)
def test_every_variable_a_deploy_file_sets_is_one_settings_reads(name):
    _, env = DEPLOYS[name]()
    known = settings_variables()

    assert {"REDIS_URL", "QUOTA_SENTINEL_WEBHOOKS", "PROMETHEUS_MULTIPROC_DIR"} <= known
    assert set(env) - known - RUNTIME_VARS == set()


def test_every_process_group_runs_and_the_web_one_is_health_checked():
    fly = tomllib.loads((ROOT / "fly.toml").read_text())
    blueprint = yaml.safe_load((ROOT / "render.yaml").read_text())
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())

    assert set(fly["processes"]) == {"web", "worker", "scheduler"}
    assert fly["http_service"]["processes"] == ["web"]
    assert fly["http_service"]["checks"][0]["path"] == "/v1/health"
    web = next(s for s in blueprint["services"] if s["type"] == "web")
    assert web["healthCheckPath"] == "/v1/health"
    assert sorted(s["dockerCommand"] for s in blueprint["services"] if s["type"] == "worker") == [
        "quota-sentinel scheduler",
        "quota-sentinel worker",
    ]
    redis_url = [v for v in web["envVars"] if v.get("key") == "REDIS_URL"][0]["fromService"]
    keyvalue = next(s for s in blueprint["services"] if s["type"] == "keyvalue")
    assert redis_url["type"] == "keyvalue" and redis_url["name"] == keyvalue["name"]
    assert redis_url["property"] == "connectionString"
    (group,) = blueprint["envVarGroups"]
    secret = next(v for v in group["envVars"] if v["key"] == "QUOTA_SENTINEL_SECRET_KEY")
    assert secret["generateValue"] is True
    assert "--appendonly" in compose["services"]["redis"]["command"]
    assert "redis-data:/data" in compose["services"]["redis"]["volumes"]
    assert set(compose["services"]) == {"redis", "web", "worker", "scheduler"}
