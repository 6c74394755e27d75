"""Settings: every QUOTA_SENTINEL_* variable, its default and its unit, read once from env."""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import platformdirs

from quota_sentinel.alerts.receivers import Receiver, parse_receivers
from quota_sentinel.errors import ConfigError

PREFIX = "QUOTA_SENTINEL_"

MIN_POLL_INTERVAL_S = 30
# QUOTA_SENTINEL_MIN_POLL_INTERVAL may lower the floor to this, for tests and benchmarks only
# (docs/architecture.md §4): a deployment keeps MIN_POLL_INTERVAL_S.
TEST_MIN_POLL_INTERVAL_S = 5

# Providers whose upstream host can be moved with QUOTA_SENTINEL_<NAME>_BASE_URL
# (docs/architecture.md §4).
# The values are the real hosts; paths are appended by each provider module.
DEFAULT_BASE_URLS: dict[str, str] = {
    "claude": "https://api.anthropic.com",
    "claude_oauth": "https://platform.claude.com",
    "copilot": "https://api.github.com",
    "zai": "https://api.z.ai",
    "zai_cn": "https://open.bigmodel.cn",
    "minimax": "https://api.minimax.io",
    "minimax_cn": "https://api.minimaxi.com",
    "deepseek": "https://api.deepseek.com",
    "alibaba": "https://modelstudio.console.alibabacloud.com",
    "alibaba_cn": "https://bailian.console.aliyun.com",
    "codex": "https://chatgpt.com",
    "codex_oauth": "https://auth.openai.com",
    "kimi": "https://api.kimi.com",
    "openrouter": "https://openrouter.ai",
}


@dataclass(frozen=True)
class Variable:
    """One environment variable: the Settings field it sets, its type and what it may hold.

    `kind` is str, int, float or Path. Numbers must lie in [low, high]; text may be limited to
    `choices` (matched case-insensitively, stored upper-case), to URLs starting with one of
    `schemes`, or to text without white space (`spaces=False`). Any other kind is a function
    of the text that raises ValueError with the rest of a sentence after the variable's name.
    Blank values count as unset.
    """

    field: str
    name: str
    kind: Callable[[str], object] = str
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()
    schemes: tuple[str, ...] = ()
    spaces: bool = True

    def parse(self, raw: str) -> object:
        """The value of `raw`, or ConfigError with a sentence naming the variable."""
        if self.kind in (int, float):
            return _number(self, raw)
        if self.kind is Path:
            return Path(raw).expanduser()
        if self.kind is not str:
            try:
                return self.kind(raw)
            except ValueError as exc:
                raise ConfigError(f"{self.name} {exc}.") from None
        if self.choices and raw.upper() not in self.choices:
            raise ConfigError(f"{self.name} must be {_either(self.choices)}, got {raw!r}.")
        if self.schemes and not raw.startswith(self.schemes):
            raise ConfigError(f"{self.name} must start with {_either(self.schemes)}.")
        if not self.spaces and any(c.isspace() for c in raw):
            raise ConfigError(f"{self.name} must not contain white space.")
        return raw.upper() if self.choices else raw


_P = PREFIX

_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


def _flag(raw: str) -> bool:
    if raw.lower() in _TRUE:
        return True
    if raw.lower() in _FALSE:
        return False
    raise ValueError(f"must be one of {', '.join(_TRUE)} or {', '.join(_FALSE)}, got {raw!r}")


HTTP_SCHEMES = ("http://", "https://")
# Every variable Settings reads (the README's Configuration table lists each: tests/test_config.py).
VARIABLES: tuple[Variable, ...] = (
    Variable("redis_url", "REDIS_URL", schemes=("redis://", "rediss://", "unix://")),
    Variable("data_dir", _P + "DATA_DIR", Path),
    Variable("secret_key", _P + "SECRET_KEY"),
    Variable("admin_token", _P + "ADMIN_TOKEN"),
    Variable("host", _P + "HOST"),
    Variable("port", _P + "PORT", int, 1, 65535),
    Variable("poll_interval_s", _P + "POLL_INTERVAL", int, MIN_POLL_INTERVAL_S, 86400),
    Variable(
        "min_poll_interval_s",
        _P + "MIN_POLL_INTERVAL",
        int,
        TEST_MIN_POLL_INTERVAL_S,
        MIN_POLL_INTERVAL_S,
    ),
    Variable("safety_margin_min", _P + "SAFETY_MARGIN_MIN", float, 0, 10080),
    Variable("overcommit", _P + "OVERCOMMIT", float, 1.0, 100.0),
    Variable("heartbeat_factor", _P + "HEARTBEAT_FACTOR", float, 1.0, 1000.0),
    Variable("key_prefix", _P + "KEY_PREFIX", spaces=False),
    Variable("min_poll_gap_s", _P + "MIN_POLL_GAP", float, 0, 3600),
    Variable("velocity_horizon_min", _P + "VELOCITY_HORIZON_MIN", float, 1, 10080),
    Variable("register_rate_per_min", _P + "REGISTER_RATE", int, 1, 1_000_000),
    Variable("http_timeout_s", _P + "HTTP_TIMEOUT", float, 0.1, 300),
    Variable("log_level", _P + "LOG_LEVEL", choices=("DEBUG", "INFO", "WARNING", "ERROR")),
    Variable("trust_proxy_hops", _P + "TRUST_PROXY", int, 0, 5),
    Variable("access_log", _P + "ACCESS_LOG", _flag),
    Variable("webhooks", _P + "WEBHOOKS", parse_receivers),
    Variable("webhook_secret", _P + "WEBHOOK_SECRET"),
    Variable("webhook_retry_base_s", _P + "WEBHOOK_RETRY_BASE", float, 0.1, 3600),
    # prometheus_client's multiprocess mode reads the same variable, unprefixed, on import.
    Variable("metrics_dir", "PROMETHEUS_MULTIPROC_DIR", Path),
)


def base_url_variable(provider: str) -> Variable:
    """QUOTA_SENTINEL_<PROVIDER>_BASE_URL: where `provider` is reached (an http(s) URL)."""
    return Variable("base_urls", f"{PREFIX}{provider.upper()}_BASE_URL", schemes=HTTP_SCHEMES)


@dataclass(frozen=True)
class Settings:
    """The whole configuration of one process. Build it with `Settings.from_env()`."""

    redis_url: str | None = None
    data_dir: Path = field(
        default_factory=lambda: Path(platformdirs.user_data_dir("quota-sentinel"))
    )
    secret_key: str | None = None
    admin_token: str | None = None
    host: str = "127.0.0.1"
    port: int = 7878
    poll_interval_s: int = 300
    # The floor of a registration's poll_interval; lowered only by tests and benchmarks.
    min_poll_interval_s: int = MIN_POLL_INTERVAL_S
    safety_margin_min: float = 30.0
    overcommit: float = 1.5
    heartbeat_factor: float = 3.0
    key_prefix: str = "qs:"
    min_poll_gap_s: float = 15.0
    velocity_horizon_min: float = 60.0
    register_rate_per_min: int = 60
    max_body_bytes: int = 1024 * 1024
    http_timeout_s: float = 10.0
    trust_proxy_hops: int = 0
    # gunicorn's access log, a line per request on stdout (off: it halves requests per second).
    access_log: bool = False
    log_level: str = "INFO"
    base_urls: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_BASE_URLS))
    # Where gunicorn's web processes share their per-process metrics (prometheus_client's
    # multiprocess mode reads the same variable when it is imported); None: one process.
    metrics_dir: Path | None = None
    webhooks: tuple[Receiver, ...] = ()
    webhook_secret: str | None = field(default=None, repr=False)
    # First retry delay of a failed webhook delivery; each next one is 3 × longer (seconds).
    webhook_retry_base_s: float = 10.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Read the settings from `environ` (default: os.environ); keyword overrides win.

        Raises:
            ConfigError: a variable has a value that cannot be used; the message names it.
        """
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for var in VARIABLES:
            raw = _text(env, var.name)
            if raw is not None:
                values[var.field] = var.parse(raw)
        urls = dict(DEFAULT_BASE_URLS)
        for provider in DEFAULT_BASE_URLS:
            var = base_url_variable(provider)
            raw = _text(env, var.name)
            if raw is not None:
                urls[provider] = str(var.parse(raw)).rstrip("/")
        values["base_urls"] = urls
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]

    def replace(self, **changes: object) -> Settings:
        """A copy with some fields changed (tests and the CLI's flags use this)."""
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]

    def base_url(self, provider: str) -> str:
        """Where `provider` is reached: its QUOTA_SENTINEL_<NAME>_BASE_URL or the real host."""
        return self.base_urls[provider]

    @property
    def embedded(self) -> bool:
        """True when no REDIS_URL is set and the embedded Redis under data_dir is used."""
        return not self.redis_url


def _text(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name)
    if value is None:
        return None
    value = value.strip()
    return value or None


def _number(var: Variable, raw: str) -> float:
    try:
        value = var.kind(raw)
    except ValueError:
        noun = "a whole number" if var.kind is int else "a number"
        raise ConfigError(f"{var.name} must be {noun}, got {raw!r}.") from None
    low = -math.inf if var.low is None else var.low
    high = math.inf if var.high is None else var.high
    if not low <= value <= high:
        raise ConfigError(f"{var.name} must be between {low:g} and {high:g}, got {raw!r}.")
    return value


def _either(options: tuple[str, ...]) -> str:
    """`a, b or c`."""
    return ", ".join(options[:-1]) + " or " + options[-1] if len(options) > 1 else options[0]
