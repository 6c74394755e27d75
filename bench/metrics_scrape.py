"""What a /v1/metrics scrape and the alert check after each poll cost, beside the team view.

Starts an embedded Redis and a loopback fake Z.ai (any key), registers --accounts instances with
distinct keys (one account each), polls each account once in-process (poll_account, which runs
the alert check), then times in one run, alternating: GET /v1/metrics and GET /v1/team through
the app, and, per account, poll_account against the instant fake versus the alert check alone
(detect_transitions on the stored outcome).

    .venv/bin/python bench/metrics_scrape.py                 # 200 accounts, 20 rounds
    .venv/bin/python bench/metrics_scrape.py --accounts 1000 --rounds 10

Prints one JSON line: medians in ms and the ratios metrics/team and check/poll.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from cryptography.fernet import Fernet

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.load import QUOTA_PATH, quota_reply  # noqa: E402
from quota_sentinel.app import create_app  # noqa: E402
from quota_sentinel.config import Settings  # noqa: E402
from quota_sentinel.embedded import EmbeddedRedis  # noqa: E402
from quota_sentinel.services.alerts import detect_transitions  # noqa: E402
from quota_sentinel.services.context import Context  # noqa: E402
from quota_sentinel.services.instances import register_instance  # noqa: E402
from tests.upstreams.server import FakeUpstream, Reply  # noqa: E402
from workers import runtime  # noqa: E402
from workers.polling import poll_account  # noqa: E402


def _ms(run) -> float:
    began = time.perf_counter()
    run()
    return (time.perf_counter() - began) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="qs-metrics-bench-") as data:
        server = EmbeddedRedis(Path(data))
        fake = FakeUpstream({("GET", QUOTA_PATH): lambda r: Reply(json=quota_reply())}).start()
        env = {
            "REDIS_URL": server.start(),
            "QUOTA_SENTINEL_SECRET_KEY": Fernet.generate_key().decode(),
            "QUOTA_SENTINEL_LOG_LEVEL": "WARNING",
            "QUOTA_SENTINEL_REGISTER_RATE": "1000000",
            "QUOTA_SENTINEL_MIN_POLL_GAP": "0",
            "QUOTA_SENTINEL_ZAI_BASE_URL": fake.url,
        }
        ctx = Context.build(Settings.from_env(env))
        runtime.install(ctx)
        try:
            fps = []
            for i in range(args.accounts):
                body = {
                    "project_name": f"p{i}",
                    "auth": {"opencode_auth": {"zai": {"key": f"k{i}"}}},
                }
                reg = register_instance(ctx, body, "bench", time.time())
                fps.append(ctx.store.instances.get(reg.instance_id).accounts["zai"])
            for fp in fps:
                poll_account(fp)
            client = create_app(ctx.settings, ctx).test_client()
            scrape, team, poll, check = [], [], [], []
            for r in range(args.rounds):
                scrape.append(_ms(lambda: client.get("/v1/metrics")))
                team.append(_ms(lambda: client.get("/v1/team")))
                fp = fps[r % len(fps)]
                poll.append(_ms(lambda fp=fp: poll_account(fp)))
                check.append(
                    _ms(lambda fp=fp: detect_transitions(ctx, "zai", fp, 300, time.time()))
                )
            result = {
                "accounts": args.accounts,
                "metrics_ms": round(statistics.median(scrape), 1),
                "team_ms": round(statistics.median(team), 1),
                "metrics/team": round(statistics.median(scrape) / statistics.median(team), 2),
                "poll_ms": round(statistics.median(poll), 2),
                "alert_check_ms": round(statistics.median(check), 2),
                "check/poll": round(statistics.median(check) / statistics.median(poll), 2),
            }
            print(json.dumps(result))
        finally:
            runtime.reset()
            ctx.close()
            fake.stop()
            server.stop()


if __name__ == "__main__":
    main()
