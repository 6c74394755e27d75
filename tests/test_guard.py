"""`quota-sentinel guard`: one line and an exit code per recommendation, against the app served
over real HTTP; 2 whenever the sentinel cannot answer."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from click.testing import CliRunner, Result

from quota_sentinel.cli import main
from quota_sentinel.exits import Exit
from tests.api.helpers import poll_now
from tests.dashboard.live import serving
from tests.factories import DEEPSEEK_TEST_KEY, ZAI_TEST_KEY, register
from tests.upstreams.server import FakeUpstream, Reply

BOTH = {"opencode_auth": {"zai-coding-plan": {"key": ZAI_TEST_KEY}, "deepseek": DEEPSEEK_TEST_KEY}}
DEEPSEEK_ONLY = {"opencode_auth": {"deepseek": DEEPSEEK_TEST_KEY}}


@pytest.fixture
def live_url(app) -> Iterator[str]:
    with serving(app) as url:
        yield url


def guard(url: str, *args: str) -> Result:
    return CliRunner().invoke(main, ["guard", "--url", url, *args])


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def burning(zai, deepseek, client, clock, drain):
    """Polls twice, ten minutes apart: zai's 5h at 41 % stays far from its cap, DeepSeek spends
    15 points of its reference balance (90 %/h: its cap is ~47 min away, YELLOW)."""

    def run(**registration) -> str:
        reg = register(client, **registration)
        zai.set_usage(five_hour=40, reset_5h_ms=int((clock.now + 3 * 3600) * 1000))
        poll_now(client, reg["api_key"], drain)
        clock.advance(600)
        zai.set_usage(five_hour=41)
        deepseek.set_balance(8.5)
        poll_now(client, reg["api_key"], drain)
        return reg["api_key"]

    return run


def test_proceed_exits_0(zai, client, clock, drain, live_url):
    reg = register(client)
    zai.set_usage(five_hour=20, reset_5h_ms=int((clock.now + 3600) * 1000))
    poll_now(client, reg["api_key"], drain)

    result = guard(live_url, "--api-key", reg["api_key"])

    assert result.exit_code == Exit.PROCEED == 0
    assert result.stdout == "PROCEED: No provider is near its cap; proceed.\n"


def test_proceed_exits_0_before_any_data(client, live_url):
    reg = register(client)

    result = guard(live_url, "--api-key", reg["api_key"])

    assert result.exit_code == 0
    assert result.stdout.startswith("PROCEED: There is no current quota data")


def test_proceed_small_only_exits_10(burning, live_url):
    key = burning(framework="claude", auth=DEEPSEEK_ONLY)

    result = guard(live_url, "--api-key", key)

    assert result.exit_code == Exit.PROCEED_SMALL_ONLY == 10
    assert result.stdout == "PROCEED_SMALL_ONLY: deepseek is YELLOW; take on small tasks only.\n"


def test_stop_exits_20(burning, live_url):
    # A low hard cap makes zai RED at once: 41 % is over a 30 % cap.
    key = burning(framework="claude", auth=BOTH, hard_caps={"zai_default": 30})

    result = guard(live_url, "--api-key", key)

    assert result.exit_code == Exit.STOP == 20
    assert result.stdout.startswith("STOP: zai is RED")
    assert len(result.stdout.splitlines()) == 1


def test_provider_judges_one_provider_strictly_whatever_the_framework(burning, live_url):
    # opencode may fall back from a RED zai to a YELLOW deepseek: the instance goes small...
    key = burning(framework="opencode", auth=BOTH, hard_caps={"zai_default": 30})
    assert guard(live_url, "--api-key", key).exit_code == Exit.PROCEED_SMALL_ONLY

    zai_only = guard(live_url, "--api-key", key, "--provider", "zai")
    deepseek_only = guard(live_url, "--api-key", key, "--provider", "deepseek")

    # ...but a run that needs zai must stop, and one on deepseek must go small.
    assert zai_only.exit_code == Exit.STOP
    assert zai_only.stdout == "STOP: zai is RED; stop until its window resets.\n"
    assert deepseek_only.exit_code == Exit.PROCEED_SMALL_ONLY


def test_provider_green_proceeds(burning, live_url):
    key = burning(framework="claude", auth=BOTH)

    result = guard(live_url, "--api-key", key, "--provider", "zai")

    assert result.exit_code == Exit.PROCEED
    assert result.stdout == "PROCEED: No provider is near its cap; proceed.\n"


def test_provider_the_instance_lacks_exits_2(client, live_url):
    reg = register(client)

    result = guard(live_url, "--api-key", reg["api_key"], "--provider", "claude")

    assert result.exit_code == Exit.NO_ANSWER == 2
    assert "no 'claude' account; its providers are: zai." in result.stderr
    assert result.stdout == ""


def test_unreachable_sentinel_exits_2():
    result = guard(f"http://127.0.0.1:{_free_port()}", "--api-key", "qs_whatever")

    assert result.exit_code == Exit.NO_ANSWER
    assert "nothing answers at" in result.stderr and result.stdout == ""


def test_unknown_key_exits_2_and_says_so(live_url):
    result = guard(live_url, "--api-key", "qs_" + "x" * 40)

    assert result.exit_code == Exit.NO_ANSWER
    assert "refused this API key (HTTP 401)" in result.stderr
    assert "register again" in result.stderr


@pytest.mark.parametrize(
    ("reply", "said"),
    [
        (
            Reply(status=503, json={"error": "redis_unavailable", "message": "No Redis."}),
            "cannot answer now (HTTP 503): No Redis.",
        ),
        (Reply(status=502, body="<html>Bad Gateway</html>", content_type="text/html"), "answered"),
    ],
)
def test_a_failing_sentinel_exits_2(reply, said):
    with FakeUpstream({("GET", "/v1/status"): lambda request: reply}, name="sentinel") as fake:
        result = guard(fake.url, "--api-key", "qs_whatever")

    assert result.exit_code == Exit.NO_ANSWER
    assert said in result.stderr


def test_guard_needs_a_key():
    result = CliRunner(env={"QUOTA_SENTINEL_API_KEY": None}).invoke(main, ["guard"])

    assert result.exit_code == 2 and "--api-key" in result.output
