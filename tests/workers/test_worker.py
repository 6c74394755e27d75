"""`quota-sentinel worker --burst` as a real process: it drains a queued poll against the fake."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from tests.workers.support import ZAI_KEY, fp_of, register_instance

ROOT = Path(__file__).resolve().parents[2]


def _command() -> list[str]:
    script = Path(sys.executable).with_name("quota-sentinel")
    if script.exists():
        return [str(script), "worker", "--burst"]
    return [sys.executable, "-m", "quota_sentinel", "worker", "--burst"]


def test_worker_process_drains_a_queued_poll(zai, env, client, ctx, clock) -> None:
    # The worker process reads the wall clock, so the test clock starts there too.
    clock.now = time.time()
    fp = fp_of(ctx, register_instance(client))
    assert ctx.jobs.enqueue_poll(fp)
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("QUOTA_SENTINEL_")}

    done = subprocess.run(
        _command(),
        env={**inherited, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 0, done.stderr
    assert zai.calls == 1
    snap = ctx.store.snapshots.get(fp)
    assert snap is not None and snap.error is None
    assert snap.windows["5h"].utilization == 41
    assert ctx.jobs.queue("poll").count == 0
    assert "zai polled" in done.stdout + done.stderr
    assert ZAI_KEY not in done.stdout + done.stderr
