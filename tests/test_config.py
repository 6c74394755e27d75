"""Settings: defaults, overrides from the environment, and a clear error naming a bad variable."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from quota_sentinel.config import VARIABLES, Settings, Variable
from quota_sentinel.errors import ConfigError


def test_defaults_match_the_documented_table():
    s = Settings.from_env({})
    assert (s.host, s.port, s.poll_interval_s) == ("127.0.0.1", 7878, 300)
    assert (s.safety_margin_min, s.overcommit, s.heartbeat_factor) == (30.0, 1.5, 3.0)
    assert (s.key_prefix, s.min_poll_gap_s, s.redis_url) == ("qs:", 15.0, None)
    assert s.min_poll_interval_s == 30  # the test knob is off: a deployment's floor
    assert s.embedded
    assert s.base_url("zai") == "https://api.z.ai"


def test_environment_overrides_every_documented_variable(tmp_path: Path):
    s = Settings.from_env(
        {
            "REDIS_URL": "redis://localhost:6380/2",
            "QUOTA_SENTINEL_DATA_DIR": str(tmp_path),
            "QUOTA_SENTINEL_SECRET_KEY": "k",
            "QUOTA_SENTINEL_ADMIN_TOKEN": "admin",
            "QUOTA_SENTINEL_HOST": "0.0.0.0",
            "QUOTA_SENTINEL_PORT": "9090",
            "QUOTA_SENTINEL_POLL_INTERVAL": "60",
            "QUOTA_SENTINEL_SAFETY_MARGIN_MIN": "45",
            "QUOTA_SENTINEL_OVERCOMMIT": "2",
            "QUOTA_SENTINEL_HEARTBEAT_FACTOR": "4",
            "QUOTA_SENTINEL_KEY_PREFIX": "team:",
            "QUOTA_SENTINEL_MIN_POLL_GAP": "20",
            "QUOTA_SENTINEL_MIN_POLL_INTERVAL": "10",
            "QUOTA_SENTINEL_ZAI_BASE_URL": "http://127.0.0.1:9100/",
        }
    )
    assert s.redis_url == "redis://localhost:6380/2" and not s.embedded
    assert s.data_dir == tmp_path
    assert (s.secret_key, s.admin_token, s.host, s.port) == ("k", "admin", "0.0.0.0", 9090)
    assert (s.poll_interval_s, s.safety_margin_min, s.overcommit) == (60, 45.0, 2.0)
    assert (s.heartbeat_factor, s.key_prefix, s.min_poll_gap_s) == (4.0, "team:", 20.0)
    assert s.min_poll_interval_s == 10
    assert s.base_url("zai") == "http://127.0.0.1:9100"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("QUOTA_SENTINEL_PORT", "http"),
        ("QUOTA_SENTINEL_PORT", "70000"),
        ("QUOTA_SENTINEL_POLL_INTERVAL", "10"),
        ("QUOTA_SENTINEL_POLL_INTERVAL", "5m"),
        ("QUOTA_SENTINEL_SAFETY_MARGIN_MIN", "-1"),
        ("QUOTA_SENTINEL_OVERCOMMIT", "0.5"),
        ("QUOTA_SENTINEL_HEARTBEAT_FACTOR", "abc"),
        ("QUOTA_SENTINEL_MIN_POLL_GAP", "-3"),
        ("QUOTA_SENTINEL_MIN_POLL_INTERVAL", "4"),  # the test knob: never below 5 s
        ("QUOTA_SENTINEL_MIN_POLL_INTERVAL", "31"),  # ...and it never raises the floor
        ("QUOTA_SENTINEL_KEY_PREFIX", "a b"),
        ("QUOTA_SENTINEL_LOG_LEVEL", "LOUD"),
        ("QUOTA_SENTINEL_DEEPSEEK_BASE_URL", "ftp://x"),
        ("REDIS_URL", "localhost:6379"),
    ],
)
def test_a_bad_value_stops_with_the_variable_name(name: str, value: str):
    with pytest.raises(ConfigError) as err:
        Settings.from_env({name: value})
    assert name in err.value.message


def test_blank_values_count_as_unset():
    assert Settings.from_env({"QUOTA_SENTINEL_PORT": "  ", "REDIS_URL": ""}).port == 7878


def test_every_variable_sets_a_settings_field():
    fields = {f.name for f in dataclasses.fields(Settings)}
    assert {var.field for var in VARIABLES} <= fields
    assert len({var.name for var in VARIABLES}) == len(VARIABLES)


@pytest.mark.parametrize(
    "var", [v for v in VARIABLES if v.kind in (int, float)], ids=lambda v: v.name
)
def test_every_number_is_held_to_its_bounds(var: Variable):
    low, high = var.low, var.high
    assert low is not None and high is not None, f"{var.name} needs bounds"
    for edge in (low, high):
        assert getattr(Settings.from_env({var.name: f"{var.kind(edge)}"}), var.field) == edge
    step = 1 if var.kind is int else 0.5
    for bad in (f"{var.kind(low - step)}", f"{var.kind(high + step)}", "many"):
        with pytest.raises(ConfigError) as err:
            Settings.from_env({var.name: bad})
        assert var.name in err.value.message


@pytest.mark.parametrize("raw", ["1", "true", "Yes", "ON"])
def test_access_log_is_switched_on_by_any_yes(raw: str):
    assert Settings.from_env({"QUOTA_SENTINEL_ACCESS_LOG": raw}).access_log is True


@pytest.mark.parametrize("raw", ["0", "false", "No", "off", " "])
def test_access_log_stays_off_by_any_no_or_blank(raw: str):
    assert Settings.from_env({"QUOTA_SENTINEL_ACCESS_LOG": raw}).access_log is False
    assert Settings.from_env({}).access_log is False


def test_access_log_refuses_anything_else_naming_the_variable():
    with pytest.raises(ConfigError) as err:
        Settings.from_env({"QUOTA_SENTINEL_ACCESS_LOG": "sometimes"})
    assert "QUOTA_SENTINEL_ACCESS_LOG" in err.value.message and "'sometimes'" in err.value.message


def test_the_readme_lists_every_variable():
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    start = readme.index("## Configuration")
    table = readme[start : readme.find("\n## ", start + 1)]
    missing = [var.name for var in VARIABLES if f"`{var.name}`" not in table]
    assert not missing, f"README's Configuration table lacks {missing}"
