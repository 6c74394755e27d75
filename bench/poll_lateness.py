"""Do polls stay on schedule? Lateness of every poll of many accounts with a slow upstream.

Starts an embedded Redis, a loopback fake Z.ai whose quota endpoint answers in --latency
seconds, the scheduler and --workers `quota-sentinel worker` processes (RQ's forking workers, as
deployed), then registers --accounts instances with distinct keys (one account each) at an even
pace over the first interval, as agents arriving, and lets everything run for --duration
seconds. At each upstream request the fake reads the account's snapshot: the poll's lateness is
the request time minus the `next_poll_at` the previous poll set (for the first poll, minus the
registration time).

    .venv/bin/python bench/poll_lateness.py                  # 1000 accounts, 60 s, 4 workers
    .venv/bin/python bench/poll_lateness.py --accounts 200 --duration 120

Prints one JSON line (and appends it to --out when given): polls, accounts polled, p50/p90/p99/
max lateness in seconds, over every poll and over the polls after the first interval.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from cryptography.fernet import Fernet

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.load import QUOTA_PATH, quota_reply  # noqa: E402
from quota_sentinel.config import Settings  # noqa: E402
from quota_sentinel.embedded import EmbeddedRedis  # noqa: E402
from quota_sentinel.services.context import Context  # noqa: E402
from quota_sentinel.services.instances import register_instance  # noqa: E402
from tests.upstreams.server import FakeUpstream, Reply  # noqa: E402


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)


def summary(values: list[float]) -> dict[str, float | None]:
    return {
        "p50_s": percentile(values, 0.5),
        "p90_s": percentile(values, 0.9),
        "p99_s": percentile(values, 0.99),
        "max_s": round(max(values), 2) if values else None,
        "mean_s": round(statistics.fmean(values), 2) if values else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--interval", type=int, default=60, help="poll interval, seconds")
    parser.add_argument("--latency", type=float, default=0.2, help="upstream answer time, s")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--duration", type=float, default=240.0, help="seconds, from the start")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="qs-lateness-") as data:
        server = EmbeddedRedis(Path(data))
        url = server.start()
        env = {
            "REDIS_URL": url,
            "QUOTA_SENTINEL_SECRET_KEY": Fernet.generate_key().decode(),
            "QUOTA_SENTINEL_LOG_LEVEL": "WARNING",
            "QUOTA_SENTINEL_REGISTER_RATE": "1000000",
        }
        fake = FakeUpstream(name="zai-lateness")
        ctx: Context | None = None
        registered: dict[str, tuple[str, float]] = {}  # key → (fingerprint, registration time)
        lateness: list[tuple[str, float, float]] = []  # (key, request time, lateness s)
        lock = threading.Lock()

        def answer(request) -> Reply:
            at = time.time()
            key = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
            entry = registered.get(key)
            if entry is not None and ctx is not None:
                fp, registered_at = entry
                snap = ctx.store.snapshots.get(fp)
                due = snap.next_poll_at if snap and snap.next_poll_at else registered_at
                with lock:
                    lateness.append((key, at, at - due))
            return Reply(json=quota_reply(), delay_s=args.latency)

        fake.route("GET", QUOTA_PATH, answer)
        fake.start()
        env["QUOTA_SENTINEL_ZAI_BASE_URL"] = fake.url
        ctx = Context.build(Settings.from_env(env))
        child_env = {**os.environ, **env}
        py = [sys.executable, "-m", "quota_sentinel"]
        procs = [subprocess.Popen([*py, "scheduler"], env=child_env)]
        procs += [subprocess.Popen([*py, "worker"], env=child_env) for _ in range(args.workers)]
        began = time.time()
        try:
            pace = args.interval / args.accounts
            for i in range(args.accounts):
                key = f"lateness-key-{i:05d}"
                body = {
                    "project_name": f"p{i}",
                    "poll_interval": args.interval,
                    "auth": {"opencode_auth": {"zai": {"key": key}}},
                }
                now = time.time()
                reg = register_instance(ctx, body, "bench", now)
                fp = ctx.store.instances.get(reg.instance_id).accounts["zai"]
                registered[key] = (fp, now)
                time.sleep(max(0.0, began + (i + 1) * pace - time.time()))
            while time.time() - began < args.duration:
                # Keep the instances alive (the heartbeat factor is 3 intervals: plenty).
                time.sleep(1)
        finally:
            for proc in procs:
                proc.send_signal(signal.SIGTERM)
            for proc in procs:
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
            fake.stop()
            ctx.close()
            server.stop()
    with lock:
        rows = list(lateness)
    steady = [late for _, at, late in rows if at >= began + args.interval * 1.5]
    result = {
        "kind": "poll_lateness",
        "accounts": args.accounts,
        "interval_s": args.interval,
        "latency_s": args.latency,
        "workers": args.workers,
        "duration_s": args.duration,
        "polls": len(rows),
        "accounts_polled": len({key for key, _, _ in rows}),
        "all": summary([late for _, _, late in rows]),
        "after_first_interval": {"polls": len(steady), **summary(steady)},
    }
    line = json.dumps(result)
    print(line)
    if args.out:
        with args.out.open("a") as f:
            f.write(line + "\n")


if __name__ == "__main__":
    main()
