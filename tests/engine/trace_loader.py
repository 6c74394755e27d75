"""Reads the JSON Lines replay traces in tests/engine/traces into engine samples."""

import json
from dataclasses import dataclass
from pathlib import Path

from quota_sentinel.engine import Sample

TRACES_DIR = Path(__file__).parent / "traces"


@dataclass(frozen=True)
class Trace:
    """One recorded window: where it came from and its samples in file order."""

    name: str
    provider: str
    window: str
    samples: list[Sample]


def load_trace(name: str) -> Trace:
    """Load `traces/<name>.jsonl`; every line must be for the same provider and window.

    Args:
        name: File name without the .jsonl suffix.

    Returns:
        The trace.
    """
    rows = [
        json.loads(line)
        for line in (TRACES_DIR / f"{name}.jsonl").read_text().splitlines()
        if line.strip()
    ]
    keys = {(row["provider"], row["window"]) for row in rows}
    assert len(keys) == 1, f"{name}: mixes windows {sorted(keys)}"
    provider, window = keys.pop()
    samples = [
        Sample(
            t=float(row["t"]),
            utilization=float(row["utilization"]),
            resets_at=None if row["resets_at"] is None else float(row["resets_at"]),
        )
        for row in rows
    ]
    return Trace(name=name, provider=provider, window=window, samples=samples)
