"""`quota-sentinel replay` and `export-samples`: backtests through the CLI, checked against the
engine's own backtest and against what the live pipeline (a real worker) computes."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from werkzeug.serving import make_server

from quota_sentinel.cli import main
from quota_sentinel.engine import run_window, summarize
from tests.engine.trace_loader import TRACES_DIR, load_trace
from tests.factories import key_header, register

ROOT = Path(__file__).resolve().parent.parent
STEADY = ("linear_burn", "noisy_polls", "irregular_intervals")


def _replay(*args: str, stdin: str | None = None) -> tuple[int, list[dict], list[dict], str]:
    result = CliRunner().invoke(main, ["replay", *args, "--json"], input=stdin)
    rows, summaries = [], []
    if result.exit_code == 0:
        for line in result.output.splitlines():
            item = json.loads(line)
            (summaries if "summary" in item else rows).append(item.get("summary", item))
    return result.exit_code, rows, summaries, result.output


@pytest.mark.parametrize("name", sorted(p.stem for p in TRACES_DIR.glob("*.jsonl")))
def test_replay_of_each_engine_trace_matches_the_engine_backtest(name: str):
    trace = load_trace(name)
    code, rows, summaries, output = _replay(str(TRACES_DIR / f"{name}.jsonl"))
    assert code == 0, output
    expected = summarize(
        run_window(trace.samples, cap=80.0, safety_margin_min=30.0), trace.samples, 80.0
    )
    (summary,) = summaries
    assert summary["points"] == len(rows) == expected.points
    assert summary["needless_alarms"] == expected.needless_alarms
    for ours, theirs in (
        ("red_lead_min", expected.red_lead_min),
        ("yellow_lead_min", expected.yellow_lead_min),
    ):
        assert summary[ours] == (None if theirs is None else round(theirs, 2))
    if name in STEADY:
        assert summary["red_lead_min"] >= 30.0
    if name in ("idle", "reset_before_exhaustion"):
        assert summary["cap_reached_at"] is None
        assert all(r["status"] != "RED" for r in rows)
        assert summary["needless_alarms"] == 0


def test_the_readme_example_prints_a_table_and_a_summary():
    result = CliRunner(env={"COLUMNS": "160"}).invoke(
        main, ["replay", str(ROOT / "examples/zai-burn-and-deepseek.jsonl")]
    )
    assert result.exit_code == 0, result.output
    assert "summary" in result.output and "deepseek" in result.output
    assert "RED" in result.output and "30.0" in result.output


def test_framework_changes_the_advice_when_one_provider_is_red():
    example = str(ROOT / "examples/zai-burn-and-deepseek.jsonl")
    _, opencode, _, _ = _replay(example)
    _, claude, _, _ = _replay(example, "--framework", "claude")
    last_open, last_claude = opencode[-1], claude[-1]
    assert last_open["provider"] == last_claude["provider"] == "zai"
    assert last_open["status"] == "RED"
    assert last_open["recommendation"] == "PROCEED"  # deepseek is a GREEN alternative
    assert last_claude["recommendation"] == "STOP"


def test_caps_can_be_set_for_every_window_or_by_key():
    path = str(TRACES_DIR / "linear_burn.jsonl")
    _, _, (low,), _ = _replay(path, "--cap", "50")
    _, _, (keyed,), _ = _replay(path, "--hard-caps", '{"zai_5h": 50}')
    _, _, (default,), _ = _replay(path)
    assert low["cap"] == keyed["cap"] == 50.0 and default["cap"] == 80.0
    assert low["cap_reached_at"] < default["cap_reached_at"]
    code, _, _, output = _replay(path, "--cap", "50", "--hard-caps", "{}")
    assert code == 1 and "either --cap or --hard-caps" in output


def test_stdin_is_read_with_a_dash():
    text = (TRACES_DIR / "idle.jsonl").read_text()
    code, rows, _, _ = _replay("-", stdin=text)
    assert code == 0 and len(rows) == len(text.strip().splitlines())


def test_iso_times_and_unsorted_lines_are_accepted():
    lines = [
        '{"t": "2026-01-01T00:10:00Z", "provider": "zai", "window": "5h", "utilization": 20,'
        ' "resets_at": "2026-01-01T05:00:00+00:00"}',
        '{"t": 1767225600, "provider": "zai", "window": "5h", "utilization": 10,'
        ' "resets_at": null}',
    ]
    code, rows, _, output = _replay("-", stdin="\n".join(lines) + "\n")
    assert code == 0, output
    assert [r["utilization"] for r in rows] == [10, 20]
    # Two whole-percent readings: 60 %/h fitted, vouched for two standard errors down.
    assert 50.0 < rows[1]["velocity_pct_per_hour"] < 60.0


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("not json", "line 2: not valid JSON."),
        ("[1, 2]", "line 2: expected a JSON object."),
        ('{"t": 1, "window": "5h", "utilization": 1}', "line 2: missing 'provider'."),
        (
            '{"t": "yesterday", "provider": "z", "window": "5h", "utilization": 1}',
            "line 2: t must be epoch seconds, ISO-8601",
        ),
        (
            '{"t": 1, "provider": "z", "window": "5h", "utilization": "lots"}',
            "line 2: utilization must be a number",
        ),
        (
            '{"t": 1, "provider": "z", "window": "5h", "utilization": 1, "resets_at": true}',
            "line 2: resets_at must be epoch seconds, ISO-8601 or null",
        ),
        (
            '{"t": 1, "provider": "", "window": "5h", "utilization": 1}',
            "line 2: provider must be a non-empty string.",
        ),
    ],
)
def test_a_bad_line_is_reported_with_its_number(line: str, message: str):
    good = '{"t": 0, "provider": "z", "window": "5h", "utilization": 1, "resets_at": null}'
    result = CliRunner().invoke(main, ["replay", "-"], input=f"{good}\n{line}\n")
    assert result.exit_code == 1
    assert message in result.output


def test_an_empty_trace_says_so():
    result = CliRunner().invoke(main, ["replay", "-"], input="\n\n")
    assert result.exit_code == 1 and "the trace has no samples" in result.output


# --- the same samples through the live pipeline --------------------------------------------


@pytest.fixture
def live_url(app) -> Iterator[str]:
    """The app served over real HTTP on loopback, for the CLI's requests."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_replay_agrees_with_a_real_worker_and_export_samples_replays(
    zai, client, ctx, clock, drain, live_url
):
    trace = load_trace("linear_burn")
    reg = register(client, poll_interval=300)
    live_statuses = []
    for sample in trace.samples:
        clock.now = sample.t
        zai.set_usage(five_hour=sample.utilization, reset_5h_ms=int(sample.resets_at * 1000))
        assert client.post("/v1/poll", headers=key_header(reg["api_key"])).status_code == 202
        drain()
        body = client.get("/v1/providers", headers=key_header(reg["api_key"])).get_json()
        live_statuses.append(body["zai"]["windows"]["5h"]["status"])

    # Z.ai reports whole percentages (the fake rounds as the real API does): the trace the
    # worker really saw is the rounded one, so that is what replay must agree with.
    seen = [
        {
            "t": x.t,
            "provider": "zai",
            "window": "5h",
            "utilization": round(x.utilization),
            "resets_at": x.resets_at,
        }
        for x in trace.samples
    ]
    _, rows, _, _ = _replay("-", stdin="".join(json.dumps(row) + "\n" for row in seen))
    assert [r["status"] for r in rows] == live_statuses
    assert {"GREEN", "YELLOW", "RED"} <= set(live_statuses)

    exported = CliRunner().invoke(
        main, ["export-samples", "--url", live_url, "--api-key", reg["api_key"]]
    )
    assert exported.exit_code == 0, exported.output
    lines = [json.loads(line) for line in exported.output.splitlines()]
    five_hour = [line for line in lines if line["window"] == "5h"]
    assert [line["utilization"] for line in five_hour] == [row["utilization"] for row in seen]
    only_5h = "\n".join(json.dumps(line) for line in five_hour) + "\n"
    code, replayed, _, _ = _replay("-", stdin=only_5h)
    assert code == 0
    assert [r["status"] for r in replayed] == live_statuses


def test_export_samples_needs_a_credential():
    result = CliRunner().invoke(main, ["export-samples"])
    assert result.exit_code == 1 and "pass --api-key or --admin-token" in result.output
