"""Writes the replay traces in this directory; run once, then commit the .jsonl files.

The traces are data, not generated at test time, so a change to this script shows up as a
diff in the traces it rewrites. Run: `python tests/engine/traces/generate.py`.
"""

import json
import random
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).parent
# 2026-01-01T00:00:00Z, epoch seconds.
T0 = 1_767_225_600.0
FIVE_HOURS_S = 5 * 3600.0
Row = tuple[float, float, float | None]


def _write(name: str, rows: list[Row], window: str = "5h") -> None:
    lines = [
        json.dumps(
            {
                "t": t,
                "provider": "zai",
                "window": window,
                "utilization": round(util, 1),
                "resets_at": resets_at,
            }
        )
        for t, util, resets_at in rows
    ]
    (HERE / name).write_text("\n".join(lines) + "\n")


def _polls(minutes: range, util: Callable[[float], float], resets_at: float) -> list[Row]:
    return [(T0 + m * 60.0, util(m), resets_at) for m in minutes]


def linear_burn() -> list[Row]:
    """20 %/h from 10 %, 5-min polls; reaches 80 % at 210 min, well before the reset."""
    return _polls(range(0, 230, 5), lambda m: 10.0 + 20.0 * m / 60.0, T0 + FIVE_HOURS_S)


def bursts() -> list[Row]:
    """Idle at 12 %, a 48 %/h burst, idle again, then a 96 %/h burst through the cap."""

    def util(m: float) -> float:
        if m <= 120:
            return 12.0
        if m <= 150:
            return 12.0 + 48.0 * (m - 120) / 60.0
        if m <= 180:
            return 36.0
        return 36.0 + 96.0 * (m - 180) / 60.0

    return _polls(range(0, 215, 5), util, T0 + FIVE_HOURS_S)


def idle() -> list[Row]:
    """About 1 %/h for a whole window, then the reset to 0 % and an hour of the next window."""
    first = _polls(range(0, 300, 5), lambda m: 3.0 + m / 60.0, T0 + FIVE_HOURS_S)
    second = _polls(range(300, 365, 5), lambda m: (m - 300) / 60.0, T0 + 2 * FIVE_HOURS_S)
    return first + second


def reset_before_exhaustion() -> list[Row]:
    """12 %/h reaching 77 % at the reset (cap 80 would come 15 min later), then a new window."""
    first = _polls(range(0, 300, 5), lambda m: 17.0 + 12.0 * m / 60.0, T0 + FIVE_HOURS_S)
    second = _polls(range(300, 365, 5), lambda m: 12.0 * (m - 300) / 60.0, T0 + 2 * FIVE_HOURS_S)
    return first + second


def noisy_polls(rng: random.Random) -> list[Row]:
    """linear_burn plus uniform ±1.5-point noise and a few seconds of resets_at jitter."""
    return [
        (t, util + rng.uniform(-1.5, 1.5), resets_at + round(rng.uniform(-2.0, 2.0)))
        for t, util, resets_at in linear_burn()
    ]


def irregular_intervals(rng: random.Random) -> list[Row]:
    """20 %/h from 10 % with polls 1–12 min apart (uniform), until past the cap."""
    rows: list[Row] = []
    minute = 0.0
    while minute <= 230.0:
        rows.append((T0 + round(minute * 60.0), 10.0 + 20.0 * minute / 60.0, T0 + FIVE_HOURS_S))
        minute += rng.uniform(1.0, 12.0)
    return rows


def _whole(value: float) -> float:
    """What Z.ai reports: a whole percent, never below 0."""
    return float(max(round(value), 0))


def burst_from_idle(rng: random.Random) -> list[Row]:
    """Idle (a few points an hour) for 1–2 h, then a burst that reaches the cap 80 % 40–90 min
    after it starts; polls 1, 2 or 5 min apart, whole percents as Z.ai reports them."""
    step = rng.choice([60.0, 120.0, 300.0])
    idle_s = rng.uniform(3600.0, 7200.0)
    level = rng.uniform(5.0, 20.0)
    drift = rng.uniform(0.0, 3.0)  # percent per hour while idle
    start = level + drift * idle_s / 3600.0
    to_cap_s = rng.uniform(40.0, 90.0) * 60.0
    rate = (80.0 - start) / to_cap_s  # percent per second

    def util(s: float) -> float:
        if s <= idle_s:
            return level + drift * s / 3600.0
        return start + rate * (s - idle_s)

    end = idle_s + to_cap_s + 600.0
    times = [i * step for i in range(int(end // step) + 1)]
    return [(T0 + s, _whole(util(s)), T0 + FIVE_HOURS_S) for s in times]


def flat_near_cap(rng: random.Random) -> list[Row]:
    """A weekly window held 2.5 points under the cap 80 % for 10 h: 30 s polls, uniform ±1-point
    noise, whole percents; never at the cap, so any RED is needless."""
    resets_at = T0 + 5 * 24 * 3600.0
    return [
        (T0 + i * 30.0, _whole(77.5 + rng.uniform(-1.0, 1.0)), resets_at) for i in range(10 * 120)
    ]


def burst_then_reset(rng: random.Random) -> list[Row]:
    """A burst that would reach the cap 80 % only after the window resets: idle, then a burst
    whose pace meets the cap 10–30 min after the reset; 1-min polls, whole percents; then a
    quiet hour of the next window."""
    burst_s = rng.uniform(40.0, 70.0) * 60.0
    late_s = rng.uniform(10.0, 30.0) * 60.0
    reset = FIVE_HOURS_S
    begin = reset - burst_s
    base = rng.uniform(5.0, 15.0)
    rate = (80.0 - base) / (burst_s + late_s)

    def util(s: float) -> float:
        return base if s <= begin else base + rate * (s - begin)

    first = [(T0 + s, _whole(util(s)), T0 + reset) for s in range(0, int(reset), 60)]
    second = [
        (T0 + s, _whole(2.0 * (s - reset) / 3600.0), T0 + 2 * reset)
        for s in range(int(reset), int(reset) + 3600, 60)
    ]
    return first + second


def main() -> None:
    """Write every trace."""
    _write("linear_burn.jsonl", linear_burn())
    _write("bursts.jsonl", bursts())
    _write("idle.jsonl", idle())
    _write("reset_before_exhaustion.jsonl", reset_before_exhaustion())
    _write("noisy_polls.jsonl", noisy_polls(random.Random(20260101)))
    _write("irregular_intervals.jsonl", irregular_intervals(random.Random(20260102)))
    for seed in range(1, 5):
        _write(f"burst_from_idle_{seed}.jsonl", burst_from_idle(random.Random(20261200 + seed)))
    _write("flat_near_cap.jsonl", flat_near_cap(random.Random(20261210)), window="weekly")
    for seed in range(1, 3):
        _write(f"burst_then_reset_{seed}.jsonl", burst_then_reset(random.Random(20261220 + seed)))


if __name__ == "__main__":
    main()
