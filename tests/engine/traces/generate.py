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


def _write(name: str, rows: list[Row]) -> None:
    lines = [
        json.dumps(
            {
                "t": t,
                "provider": "zai",
                "window": "5h",
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


def main() -> None:
    """Write every trace."""
    _write("linear_burn.jsonl", linear_burn())
    _write("bursts.jsonl", bursts())
    _write("idle.jsonl", idle())
    _write("reset_before_exhaustion.jsonl", reset_before_exhaustion())
    _write("noisy_polls.jsonl", noisy_polls(random.Random(20260101)))
    _write("irregular_intervals.jsonl", irregular_intervals(random.Random(20260102)))


if __name__ == "__main__":
    main()
