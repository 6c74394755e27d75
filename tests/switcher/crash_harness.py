"""SIGKILLs a switcher at random points of its writes, over and over (run by test_crash.py).

    python -m tests.switcher.crash_harness DIR ROUNDS SEED

DIR holds opencode.jsonc and its sidecar. This process stays single-threaded so that it can
fork: each round forks a child that runs real switcher cycles (`apply.run`, the code
`quota-sentinel switch` runs) without pause, alternating RED and GREEN health so every cycle
writes; after a random delay the child gets SIGKILL. Then the harness checks that the config
is valid JSONC whose models are each an original or a fallback, that the state file reads, and
that a restore on a copy gives back the original bytes exactly. It prints one JSON line:
{"rounds": …, "killed": …, "writes": …, "failures": […]}: `killed` counts the rounds whose
switcher died by the SIGKILL, `writes` the writes the switchers finished before their kill.
"""

from __future__ import annotations

import json
import os
import random
import select
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

from quota_sentinel.switcher import apply, jsonc, state
from quota_sentinel.switcher.apply import ConfigFiles
from tests.switcher.support import decider

CONFIG = "opencode.jsonc"
EVERY_NTH_AFTER_A_WRITE = 10
FIRST_WRITE_WITHIN_S = 60


def _child(config: Path, pipe: int) -> None:
    red = decider(hold=1, zai="RED", deepseek="GREEN")
    green = decider(hold=1, zai="GREEN", deepseek="GREEN")
    flip = bool(state.load(config))
    while True:
        outcome = apply.run(ConfigFiles(config), green if flip else red)
        if outcome.changes:
            os.write(pipe, b".")  # one finished write
        flip = not flip


def _check(directory: Path, original: bytes, allowed: set[str]) -> str | None:
    config = directory / CONFIG
    try:
        doc = jsonc.parse(config.read_bytes().decode("utf-8"))
        state.load(config)
    except Exception as exc:  # a failure to report, whatever it is
        return f"unreadable after a kill: {exc!r}"
    models = {doc.value["model"], doc.value["small_model"], doc.value["agent"]["build"]["model"]}
    if not models <= allowed:
        return f"unexpected models {sorted(models - allowed)}"
    with tempfile.TemporaryDirectory() as scratch:
        for item in directory.iterdir():
            if item.is_file() and not item.name.endswith(".qs-tmp"):
                shutil.copy2(item, scratch)
        apply.restore(ConfigFiles(Path(scratch) / CONFIG))
        if (Path(scratch) / CONFIG).read_bytes() != original:
            return "a restore after the kill did not give back the original bytes"
    return None


def main(directory: Path, rounds: int, seed: int) -> dict:
    rng = random.Random(seed)
    config = directory / CONFIG
    original = config.read_bytes()
    value = jsonc.loads(original.decode())
    sidecar = jsonc.loads((directory / "quota-sentinel.jsonc").read_text())
    allowed = {value["model"], value["small_model"], value["agent"]["build"]["model"]}
    allowed |= {m for chain in sidecar["fallback_models"].values() for m in chain}
    allowed |= set(sidecar["model_fallbacks"]) | set(sidecar["small_model_fallbacks"])
    failures: list[str] = []
    writes = killed = 0
    for n in range(rounds):
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # the switcher
            os.close(read_end)
            try:
                _child(config, write_end)
            finally:
                os._exit(3)
        os.close(write_end)
        early = b""
        if n % EVERY_NTH_AFTER_A_WRITE == 0:
            # Some rounds kill only after a first finished write, however slow the machine:
            # then the kills are sure to land among writes, not only before the first one.
            ready, _, _ = select.select([read_end], [], [], FIRST_WRITE_WITHIN_S)
            if ready:
                early = os.read(read_end, 1)
        time.sleep(rng.uniform(0.001, 0.03))
        os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        with os.fdopen(read_end, "rb") as pipe:
            writes += len(early) + len(pipe.read())
        if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL:
            killed += 1
        else:
            failures.append(f"round {n}: the switcher died by itself (status {status})")
        problem = _check(directory, original, allowed)
        if problem:
            failures.append(f"round {n}: {problem}")
    apply.run(ConfigFiles(config), decider(hold=1, zai="RED", deepseek="GREEN"))
    apply.restore(ConfigFiles(config))
    if config.read_bytes() != original:
        failures.append("the final restore did not give back the original bytes")
    leftovers = sorted(p.name for p in directory.iterdir() if p.name.endswith(".qs-tmp"))
    if leftovers:
        failures.append(f"temp files left after a clean write: {leftovers}")
    return {"rounds": rounds, "killed": killed, "writes": writes, "failures": failures}


if __name__ == "__main__":
    result = main(Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]))
    print(json.dumps(result))
