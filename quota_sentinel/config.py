"""Settings: every QUOTA_SENTINEL_* variable, its default and its unit, read once from env."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import platformdirs

from quota_sentinel.alerts.receivers import Receiver, parse_receivers
from quota_sentinel.errors import ConfigError

PREFIX = "QUOTA_SENTINEL_"

MIN_POLL_INTERVAL_S = 30

# Providers whose upstream host can be moved with QUOTA_SENTINEL_<NAME>_BASE_URL (DESIGN §4).
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
        values["redis_url"] = _text(env, "REDIS_URL")
        if values["redis_url"] and not str(values["redis_url"]).startswith(
            ("redis://", "rediss://", "unix://")
        ):
            raise ConfigError("REDIS_URL must start with redis://, rediss:// or unix://.")
        data_dir = _text(env, PREFIX + "DATA_DIR")
        if data_dir:
            values["data_dir"] = Path(data_dir).expanduser()
        values["secret_key"] = _text(env, PREFIX + "SECRET_KEY")
        values["admin_token"] = _text(env, PREFIX + "ADMIN_TOKEN")
        _set(values, "host", _text(env, PREFIX + "HOST"))
        _set(values, "port", _number(env, PREFIX + "PORT", int, 1, 65535))
        _set(
            values,
            "poll_interval_s",
            _number(env, PREFIX + "POLL_INTERVAL", int, MIN_POLL_INTERVAL_S, 86400),
        )
        _set(
            values, "safety_margin_min", _number(env, PREFIX + "SAFETY_MARGIN_MIN", float, 0, 10080)
        )
        _set(values, "overcommit", _number(env, PREFIX + "OVERCOMMIT", float, 1.0, 100.0))
        _set(
            values,
            "heartbeat_factor",
            _number(env, PREFIX + "HEARTBEAT_FACTOR", float, 1.0, 1000.0),
        )
        _set(values, "min_poll_gap_s", _number(env, PREFIX + "MIN_POLL_GAP", float, 0, 3600))
        _set(
            values,
            "velocity_horizon_min",
            _number(env, PREFIX + "VELOCITY_HORIZON_MIN", float, 1, 10080),
        )
        _set(
            values,
            "register_rate_per_min",
            _number(env, PREFIX + "REGISTER_RATE", int, 1, 1_000_000),
        )
        _set(values, "http_timeout_s", _number(env, PREFIX + "HTTP_TIMEOUT", float, 0.1, 300))
        _set(values, "trust_proxy_hops", _number(env, PREFIX + "TRUST_PROXY", int, 0, 5))
        prefix = _text(env, PREFIX + "KEY_PREFIX")
        if prefix is not None:
            if any(c.isspace() for c in prefix):
                raise ConfigError(f"{PREFIX}KEY_PREFIX must not contain white space.")
            values["key_prefix"] = prefix
        level = _text(env, PREFIX + "LOG_LEVEL")
        if level is not None:
            if level.upper() not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
                raise ConfigError(f"{PREFIX}LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR.")
            values["log_level"] = level.upper()
        urls = dict(DEFAULT_BASE_URLS)
        for name in DEFAULT_BASE_URLS:
            var = f"{PREFIX}{name.upper()}_BASE_URL"
            url = _text(env, var)
            if url is not None:
                if not url.startswith(("http://", "https://")):
                    raise ConfigError(f"{var} must be an http:// or https:// URL.")
                urls[name] = url.rstrip("/")
        values["base_urls"] = urls
        metrics_dir = _text(env, "PROMETHEUS_MULTIPROC_DIR")
        if metrics_dir:
            values["metrics_dir"] = Path(metrics_dir).expanduser()
        hooks = _text(env, PREFIX + "WEBHOOKS")
        if hooks:
            try:
                values["webhooks"] = parse_receivers(hooks)
            except ValueError as exc:
                raise ConfigError(f"{PREFIX}WEBHOOKS {exc}.") from None
        values["webhook_secret"] = _text(env, PREFIX + "WEBHOOK_SECRET")
        _set(
            values,
            "webhook_retry_base_s",
            _number(env, PREFIX + "WEBHOOK_RETRY_BASE", float, 0.1, 3600),
        )
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


def _number(env: Mapping[str, str], name: str, kind: type, low: float, high: float):
    raw = _text(env, name)
    if raw is None:
        return None
    try:
        value = kind(raw)
    except ValueError:
        noun = "a whole number" if kind is int else "a number"
        raise ConfigError(f"{name} must be {noun}, got {raw!r}.") from None
    if not low <= value <= high:
        raise ConfigError(f"{name} must be between {low:g} and {high:g}, got {raw!r}.")
    return value


def _set(values: dict[str, object], key: str, value: object) -> None:
    if value is not None:
        values[key] = value
