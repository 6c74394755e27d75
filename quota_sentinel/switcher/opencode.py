"""OpenCode's config as the switcher sees it: where it is, its model settings, their fallbacks.

Models live in the top-level `model` and `small_model`, in `agent.<name>.model` and in the
deprecated `mode.<name>.model`. Fallback chains come from `agent.<name>.fallback_models` (the
Agent Caddy format) or from a sidecar `quota-sentinel.json(c)` beside the config, for configs
that should not carry keys OpenCode does not know::

    {
      "fallback_models": {"build": ["deepseek/deepseek-v3.2"]},   // per agent (and mode)
      "model_fallbacks": ["deepseek/deepseek-v3.2"],               // the top-level "model"
      "small_model_fallbacks": ["zai-coding-plan/glm-4.5-air"]     // the top-level "small_model"
    }

When the sidecar names an agent, its list wins over the agent's own `fallback_models`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from quota_sentinel.switcher import jsonc
from quota_sentinel.switcher.errors import SwitcherError
from quota_sentinel.switcher.plan import Target

CONFIG_NAMES = ("opencode.jsonc", "opencode.json")
SIDECAR_NAMES = ("quota-sentinel.jsonc", "quota-sentinel.json")
STATE_NAME = ".opencode-switcher.json"
TOP_LEVEL = {"model_fallbacks": "model", "small_model_fallbacks": "small_model"}
SIDECAR_KEYS = ("$schema", "fallback_models", *TOP_LEVEL)


@dataclass(frozen=True)
class Fallbacks:
    """Fallback chains from the sidecar: per agent name, and per top-level key."""

    agents: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    top: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


def find_config(given: Path | None, cwd: Path) -> Path:
    """The config to edit: `given`, else opencode.jsonc or opencode.json in `cwd`.

    Raises:
        SwitcherError: there is no such file.
    """
    if given is not None:
        path = given if given.is_absolute() else cwd / given
        if not path.is_file():
            raise SwitcherError(f"{given} does not exist (or is not a file).")
        return path
    for name in CONFIG_NAMES:
        if (cwd / name).is_file():
            return cwd / name
    raise SwitcherError(
        f"no opencode.jsonc or opencode.json in {cwd}; pass the config's path, e.g. "
        "`quota-sentinel switch path/to/opencode.json`."
    )


def sidecar_for(config: Path) -> Path | None:
    """The sidecar beside the config (beside the link, then beside its target), if any."""
    for directory in dict.fromkeys([config.parent, config.resolve().parent]):
        for name in SIDECAR_NAMES:
            if (directory / name).is_file():
                return directory / name
    return None


def _models(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise SwitcherError(f'{where} must be a list of model ids like "deepseek/deepseek-v3.2".')
    for i, model in enumerate(value):
        if not isinstance(model, str) or "/" not in model.strip("/"):
            raise SwitcherError(
                f'{where}[{i}] must be a model id like "deepseek/deepseek-v3.2" '
                "(provider, '/', model)."
            )
    return tuple(dict.fromkeys(value))


def read_sidecar(path: Path | None) -> Fallbacks:
    """The sidecar's fallback chains (empty without a sidecar).

    Raises:
        SwitcherError: the sidecar is not JSONC or not in the documented shape.
    """
    if path is None:
        return Fallbacks()
    try:
        value = jsonc.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise SwitcherError(f"cannot read {path}: {exc}.") from None
    except jsonc.JsoncError as exc:
        raise SwitcherError(f"{path.name} is not valid JSONC: {exc}.") from None
    if not isinstance(value, dict):
        raise SwitcherError(f"{path.name} must hold a JSON object.")
    unknown = sorted(set(value) - set(SIDECAR_KEYS))
    if unknown:
        raise SwitcherError(
            f"{path.name}: unknown key {unknown[0]!r}; expected fallback_models, "
            "model_fallbacks or small_model_fallbacks."
        )
    agents = value.get("fallback_models", {})
    if not isinstance(agents, dict):
        raise SwitcherError(f"{path.name}: fallback_models must map agent names to lists.")
    return Fallbacks(
        agents={
            name: _models(chain, f"{path.name}: fallback_models.{name}")
            for name, chain in agents.items()
        },
        top={
            target: _models(value[key], f"{path.name}: {key}")
            for key, target in TOP_LEVEL.items()
            if key in value
        },
    )


def targets(config: Any, fallbacks: Fallbacks) -> list[Target]:
    """Every model setting of the config, with its fallback chain.

    Raises:
        SwitcherError: the config is not an object, or a `fallback_models` is malformed.
    """
    if not isinstance(config, dict):
        raise SwitcherError("the config must hold a JSON object.")
    found: list[Target] = []
    for key in ("model", "small_model"):
        if isinstance(config.get(key), str):
            found.append(Target((key,), key, config[key], fallbacks.top.get(key, ())))
    for section, suffix in (("agent", ""), ("mode", " (mode)")):
        agents = config.get(section)
        if not isinstance(agents, dict):
            continue
        for name, agent in agents.items():
            if not isinstance(agent, dict) or not isinstance(agent.get("model"), str):
                continue
            chain = fallbacks.agents.get(name)
            if chain is None and "fallback_models" in agent:
                chain = _models(agent["fallback_models"], f"{section}.{name}.fallback_models")
            path = (section, name, "model")
            found.append(Target(path, name + suffix, agent["model"], chain or ()))
    return found


def provider_keys(config: Any) -> Mapping[str, Any]:
    """The config's `provider` section (provider id → settings), or {}."""
    section = config.get("provider") if isinstance(config, dict) else None
    return section if isinstance(section, dict) else {}
