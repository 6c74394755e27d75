"""Provider names, the auth.json key aliases that map onto them, and their fetch functions."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from quota_sentinel.providers.base import Fetcher


@dataclass(frozen=True)
class ProviderInfo:
    """A provider quota-sentinel knows. `module` is None until its poller is implemented."""

    name: str
    label: str
    module: str | None = None


PROVIDERS: dict[str, ProviderInfo] = {
    p.name: p
    for p in [
        ProviderInfo(
            "claude", "Claude (Anthropic subscription)", "quota_sentinel.providers.claude"
        ),
        ProviderInfo("copilot", "GitHub Copilot", "quota_sentinel.providers.copilot"),
        ProviderInfo("zai", "Z.ai / Zhipu GLM Coding Plan", "quota_sentinel.providers.zai"),
        ProviderInfo("minimax", "MiniMax Coding Plan", "quota_sentinel.providers.minimax"),
        ProviderInfo("deepseek", "DeepSeek balance", "quota_sentinel.providers.deepseek"),
        ProviderInfo(
            "alibaba", "Alibaba Cloud Model Studio Coding Plan", "quota_sentinel.providers.alibaba"
        ),
        ProviderInfo(
            "codex", "OpenAI Codex / ChatGPT subscription", "quota_sentinel.providers.codex"
        ),
        ProviderInfo("kimi", "Kimi Code", "quota_sentinel.providers.kimi"),
        ProviderInfo("openrouter", "OpenRouter", "quota_sentinel.providers.openrouter"),
    ]
}


@dataclass(frozen=True)
class Alias:
    """An opencode auth.json key: the provider it means and options it implies (e.g. region)."""

    provider: str
    options: Mapping[str, Any] = field(default_factory=dict)


# docs/providers.md (auth.json keys). Keys are matched case-insensitively.
AUTH_ALIASES: dict[str, Alias] = {
    "zai-coding-plan": Alias("zai"),
    "zai": Alias("zai"),
    "zhipu-coding-plan": Alias("zai", {"region": "cn"}),
    "zhipuai-coding-plan": Alias("zai", {"region": "cn"}),
    "github-copilot": Alias("copilot"),
    "copilot": Alias("copilot"),
    "copilot-chat": Alias("copilot"),
    "github-copilot-chat": Alias("copilot"),
    "minimax-coding-plan": Alias("minimax"),
    "minimax": Alias("minimax"),
    "minimax-china-coding-plan": Alias("minimax", {"region": "cn"}),
    "minimax-cn-coding-plan": Alias("minimax", {"region": "cn"}),
    "deepseek": Alias("deepseek"),
    "deepseek-coding-plan": Alias("deepseek"),
    "bailian-coding-plan": Alias("alibaba"),
    "alibaba-coding-plan": Alias("alibaba"),
    "alibaba": Alias("alibaba"),
    "dashscope": Alias("alibaba"),
    "anthropic": Alias("claude"),
    "openai": Alias("codex"),
    "codex": Alias("codex"),
    "chatgpt": Alias("codex"),
    "opencode": Alias("codex"),
    "kimi-for-coding": Alias("kimi"),
    "kimi-code": Alias("kimi"),
    "kimi": Alias("kimi"),
    "openrouter": Alias("openrouter"),
}


def alias_for(auth_key: str) -> Alias | None:
    """The provider an auth.json key names, or None for keys quota-sentinel does not monitor."""
    return AUTH_ALIASES.get(auth_key.strip().lower())


def fetcher_for(provider: str) -> Fetcher | None:
    """The provider module's `fetch`, or None when polling it is not implemented yet."""
    info = PROVIDERS.get(provider)
    if info is None or info.module is None:
        return None
    return importlib.import_module(info.module).fetch
