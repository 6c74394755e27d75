"""health / server helpers: phrases from /v1/providers bodies, loopback detection (pure)."""

from __future__ import annotations

from pathlib import Path

import pytest

from quota_sentinel.switcher import health
from quota_sentinel.switcher.server import data_dir, is_loopback


def window(status: str, utilization: float, left: float | None) -> dict:
    return {"status": status, "utilization": utilization, "projected_exhaustion_min": left}


def test_the_phrase_names_the_worst_window_and_the_time_left():
    body = {
        "status": "RED",
        "polled_at": "2026-01-01T00:00:00+00:00",
        "windows": {"weekly": window("YELLOW", 97, 300), "5h": window("RED", 71.6, 12.4)},
    }
    assert health.describe("zai", body) == "zai RED, 5h at 72%, ~12 min left"
    body["windows"]["5h"] = window("RED", 93, 0.0)
    assert health.describe("zai", body) == "zai RED, 5h at 93%, cap reached"
    body = {"status": "YELLOW", "windows": {"weekly": window("YELLOW", 60, 150)}}
    assert health.describe("zai", body) == "zai YELLOW, weekly at 60%, ~2.5 h left"
    body = {"status": "GREEN", "windows": {"5h": window("GREEN", 10, 900)}}
    assert health.describe("zai", body) == "zai GREEN, 5h at 10%"


def test_unknown_says_why():
    assert health.describe("zai", {"status": "UNKNOWN", "error": "no data"}) == (
        "zai UNKNOWN (no data)"
    )


def test_providers_the_server_cannot_poll_are_left_out_so_they_count_green():
    body = {
        "zai": {"status": "RED", "polled_at": "t1", "windows": {}},
        "minimax": {"status": "UNKNOWN", "error_code": "not_supported", "polled_at": "t1"},
        "deepseek": {"status": "odd", "polled_at": "t1"},
    }
    found = health.healths(body)
    assert sorted(found) == ["deepseek", "zai"]
    assert (found["zai"].status, found["zai"].poll) == ("RED", "t1")
    assert found["deepseek"].status == "UNKNOWN"


@pytest.mark.parametrize(
    ("url", "loopback"),
    [
        ("http://127.0.0.1:7878", True),
        ("http://127.3.2.1:80", True),
        ("http://localhost:7878", True),
        ("http://[::1]:7878", True),
        ("https://127.0.0.1:7878", False),  # `start` serves plain http
        ("http://10.0.0.2:7878", False),
        ("http://sentinel.example.com", False),
    ],
)
def test_only_plain_http_loopback_urls_may_be_auto_started(url: str, loopback: bool):
    assert is_loopback(url) is loopback


def test_the_data_dir_is_the_servers(tmp_path: Path):
    assert data_dir({"QUOTA_SENTINEL_DATA_DIR": str(tmp_path)}) == tmp_path
    assert data_dir({}).name == "quota-sentinel"
