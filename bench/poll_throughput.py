"""Polls per second one worker sustains against a fake Z.ai upstream answering in 200 ms.

Starts an embedded Redis and a loopback fake whose quota endpoint sleeps --latency seconds,
registers --accounts instances with distinct keys (one account each), claims them all with the
scheduler's tick, then times one `quota-sentinel worker --burst` subprocess (RQ's forking
Worker, as deployed) draining the poll jobs.

    .venv/bin/python bench/poll_throughput.py [--accounts 100] [--latency 0.2]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cryptography.fernet import Fernet

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from quota_sentinel.config import Settings  # noqa: E402
from quota_sentinel.embedded import EmbeddedRedis  # noqa: E402
from quota_sentinel.services.context import Context  # noqa: E402
from quota_sentinel.services.instances import register_instance  # noqa: E402
from tests.upstreams.server import FakeUpstream, Reply  # noqa: E402
from workers import runtime  # noqa: E402
from workers.ticking import enqueue_due_polls  # noqa: E402

QUOTA = {
    "code": 200,
    "success": True,
    "data": {
        "level": "pro",
        "limits": [
            {
                "type": "TOKENS_LIMIT",
                "unit": 3,
                "number": 5,
                "percentage": 41,
                "nextResetTime": int(time.time() * 1000) + 3_600_000,
            },
        ],
    },
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100)
    parser.add_argument("--latency", type=float, default=0.2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="qs-bench-") as data:
        server = EmbeddedRedis(Path(data))
        url = server.start()
        fake = FakeUpstream(name="zai")
        fake.route(
            "GET",
            "/api/monitor/usage/quota/limit",
            lambda request: Reply(json=QUOTA, delay_s=args.latency),
        )
        fake.start()
        try:
            env = {
                "REDIS_URL": url,
                "QUOTA_SENTINEL_SECRET_KEY": Fernet.generate_key().decode(),
                "QUOTA_SENTINEL_ZAI_BASE_URL": fake.url,
                "QUOTA_SENTINEL_LOG_LEVEL": "WARNING",
                "QUOTA_SENTINEL_REGISTER_RATE": "1000000",
            }
            ctx = Context.build(Settings.from_env(env))
            runtime.install(ctx)
            now = time.time()
            for i in range(args.accounts):
                body = {
                    "project_name": f"p{i}",
                    "auth": {"opencode_auth": {"zai": {"key": f"bench-key-{i}"}}},
                }
                register_instance(ctx, body, "bench", now)
            claimed = enqueue_due_polls()
            began = time.monotonic()
            subprocess.run(
                [sys.executable, "-m", "quota_sentinel", "worker", "--burst"],
                env={**os.environ, **env},
                check=True,
            )
            elapsed = time.monotonic() - began
            polled = fake.count("/api/monitor/usage/quota/limit")
        finally:
            fake.stop()
            server.stop()
    print(
        f"one forking RQ worker, upstream latency {args.latency * 1000:.0f} ms: "
        f"{claimed} accounts claimed, {polled} upstream calls in {elapsed:.1f} s = "
        f"{polled / elapsed:.2f} polls/s ({elapsed / max(polled, 1) * 1000:.0f} ms per poll)"
    )


if __name__ == "__main__":
    main()
