"""poll_account under provider trouble: recorded, not raised; last good data kept; backoff."""

from __future__ import annotations

import json

import pytest
from rq.registry import FailedJobRegistry

from quota_sentinel.store.accounts import Account
from tests.upstreams.deepseek import DEEPSEEK_FAILURE_MODES
from tests.upstreams.zai import ZAI_FAILURE_MODES
from tests.workers.support import (
    DEEPSEEK_KEY,
    HOUR_S,
    ZAI_KEY,
    deepseek_auth,
    fp_of,
    heartbeat,
    is_sentence,
    ms,
    providers_view,
    register_instance,
    sample_count,
)
from workers.polling import BACKOFF_CAP_FACTOR, JITTER_FRACTION, poll_account
from workers.ticking import enqueue_due_polls

# The error code each failure mode of the fakes must be recorded as.
EXPECTED_CODE = {
    "401": "auth_failed",
    "403": "auth_failed",
    "auth_envelope": "auth_failed",
    "429": "rate_limited",
    "429_no_retry_after": "rate_limited",
    "500": "unavailable",
    "502": "unavailable",
    "503": "unavailable",
    "hang": "unavailable",
    "html": "bad_payload",
    "malformed": "bad_payload",
    "empty": "bad_payload",
}
ZAI_CODES = {**EXPECTED_CODE, "error_envelope": "provider_error"}
# DeepSeek's HTTP-200 error object carries no balance: it is a payload that cannot be read.
DEEPSEEK_CODES = {**EXPECTED_CODE, "error_envelope": "bad_payload"}
# A hang outlasts the (short) read timeout of each attempt, without slowing the suite much.
HANG_S = 1.5

INTERVAL_S = 60


def _fail(fake, mode: str, *, retry_after: str = "30") -> None:
    fake.fail(mode, retry_after=retry_after, hang_s=HANG_S)


def _assert_recorded(ctx, fp: str, code: str, good_windows: dict, ok_at: float, now: float):
    snap = ctx.store.snapshots.get(fp)
    assert snap.error is not None and snap.error["code"] == code
    assert is_sentence(snap.error["message"]), snap.error["message"]
    assert snap.windows == good_windows, "the last good data must be kept"
    assert snap.ok_at == ok_at and snap.polled_at == now
    assert snap.failures == 1
    return snap


def _assert_api_shows_stale(client, reg, provider: str, snap, window: str, utilization: float):
    # One failed poll: the last good data still grades the provider (marked stale), so a
    # provider in trouble does not turn into "no data, proceed".
    view = providers_view(client, reg)[provider]
    assert view["status"] in {"GREEN", "YELLOW", "RED"}
    assert view["stale"] is True and view["windows"][window]["stale"] is True
    assert view["error"] == snap.error["message"]
    assert view["error_code"] == snap.error["code"]
    assert view["windows"][window]["utilization"] == pytest.approx(utilization)


def _recover(ctx, clock, client, reg, fake, fp: str, provider: str) -> None:
    fake.ok()
    clock.now = ctx.store.due.due_at(fp)
    assert poll_account(fp) == "ok"
    snap = ctx.store.snapshots.get(fp)
    assert snap.failures == 0 and snap.error is None and snap.ok_at == clock.now
    view = providers_view(client, reg)[provider]
    assert view["status"] == "GREEN" and view["stale"] is False and view["error"] is None


def _run_failure(ctx, clock, client, reg, fake, fp, provider, mode, code, window, utilization):
    """Good poll, failed poll (checked), recovery (checked); returns the failed snapshot."""
    assert poll_account(fp) == "ok"
    good = ctx.store.snapshots.get(fp)
    clock.now = ctx.store.due.due_at(fp)
    _fail(fake, mode)

    assert poll_account(fp) == f"error:{code}"

    snap = _assert_recorded(ctx, fp, code, good.windows, good.ok_at, clock.now)
    assert sample_count(ctx, fp) == 1, "a failed poll adds no sample"
    assert ctx.store.due.due_at(fp) >= clock.now + INTERVAL_S
    _assert_api_shows_stale(client, reg, provider, snap, window, utilization)
    _recover(ctx, clock, client, reg, fake, fp, provider)
    return snap


@pytest.mark.parametrize("mode", [m for m in ZAI_FAILURE_MODES if m != "hang"])
def test_zai_failure_is_recorded_and_the_last_good_data_kept(
    mode: str, zai, client, ctx, clock, caplog
) -> None:
    zai.set_usage(five_hour=41, reset_5h_ms=ms(clock.now + 4 * HOUR_S))
    reg = register_instance(client, poll_interval=INTERVAL_S)
    fp = fp_of(ctx, reg)

    snap = _run_failure(ctx, clock, client, reg, zai, fp, "zai", mode, ZAI_CODES[mode], "5h", 41)

    assert ZAI_KEY not in snap.to_json()
    assert ZAI_KEY not in json.dumps(providers_view(client, reg))
    assert ZAI_KEY not in caplog.text


@pytest.mark.parametrize("mode", [m for m in DEEPSEEK_FAILURE_MODES if m != "hang"])
def test_deepseek_failure_is_recorded_and_the_last_good_data_kept(
    mode: str, deepseek, client, ctx, clock, caplog
) -> None:
    reg = register_instance(client, auth=deepseek_auth(), poll_interval=INTERVAL_S)
    fp = fp_of(ctx, reg, "deepseek")
    code = DEEPSEEK_CODES[mode]

    snap = _run_failure(ctx, clock, client, reg, deepseek, fp, "deepseek", mode, code, "balance", 0)

    # The 401 body echoes the key's last four characters; nothing of the key may be kept.
    assert DEEPSEEK_KEY not in snap.to_json() and DEEPSEEK_KEY[-4:] not in snap.error["message"]
    assert DEEPSEEK_KEY not in caplog.text


def test_zai_hang_past_the_timeout_is_recorded_as_unavailable(
    short_http_timeout, zai, client, ctx, clock
) -> None:
    reg = register_instance(client, poll_interval=INTERVAL_S)
    fp = fp_of(ctx, reg)

    snap = _run_failure(ctx, clock, client, reg, zai, fp, "zai", "hang", "unavailable", "5h", 41)

    assert f"{short_http_timeout:g} s" in snap.error["message"]


def test_deepseek_hang_past_the_timeout_is_recorded_as_unavailable(
    short_http_timeout, deepseek, client, ctx, clock
) -> None:
    reg = register_instance(client, auth=deepseek_auth(), poll_interval=INTERVAL_S)
    fp = fp_of(ctx, reg, "deepseek")

    snap = _run_failure(
        ctx, clock, client, reg, deepseek, fp, "deepseek", "hang", "unavailable", "balance", 0
    )

    assert "did not answer" in snap.error["message"]


def test_failure_before_any_good_poll_has_no_windows(zai, client, ctx) -> None:
    reg = register_instance(client)
    fp = fp_of(ctx, reg)
    zai.fail("500")

    assert poll_account(fp) == "error:unavailable"

    snap = ctx.store.snapshots.get(fp)
    assert snap.windows == {} and snap.ok_at is None and snap.failures == 1
    view = providers_view(client, reg)["zai"]
    assert view["status"] == "UNKNOWN" and view["stale"] is True
    assert is_sentence(view["error"])


def test_failed_poll_through_rq_finishes_instead_of_failing(zai, client, ctx, drain) -> None:
    fp = fp_of(ctx, register_instance(client))
    zai.fail("malformed")

    assert ctx.jobs.enqueue_poll(fp)
    assert drain() == 1

    assert FailedJobRegistry(ctx.jobs.names["poll"], connection=ctx.jobs.r).count == 0
    assert ctx.store.snapshots.get(fp).error["code"] == "bad_payload"


def test_backoff_doubles_per_failure_up_to_eight_intervals(zai, client, ctx, clock) -> None:
    reg = register_instance(client, poll_interval=INTERVAL_S)
    fp = fp_of(ctx, reg)
    assert poll_account(fp) == "ok"
    zai.fail("500")

    delays = []
    for failures in range(1, 7):
        clock.now = ctx.store.due.due_at(fp)
        heartbeat(client, reg)  # the instance stays alive through 8-interval gaps
        assert poll_account(fp) == "error:unavailable"
        snap = ctx.store.snapshots.get(fp)
        assert snap.failures == failures
        delay = ctx.store.due.due_at(fp) - clock.now
        assert snap.next_poll_at == pytest.approx(clock.now + delay)
        delays.append(delay)

    assert delays == [INTERVAL_S * f for f in (1, 2, 4, 8, 8, 8)]
    assert BACKOFF_CAP_FACTOR == 8
    assert zai.calls == 7

    zai.ok()
    clock.now = ctx.store.due.due_at(fp)
    heartbeat(client, reg)
    assert poll_account(fp) == "ok"
    snap = ctx.store.snapshots.get(fp)
    assert snap.failures == 0 and snap.error is None
    delay = ctx.store.due.due_at(fp) - clock.now
    assert INTERVAL_S * (1 - JITTER_FRACTION) <= delay <= INTERVAL_S
    assert providers_view(client, reg)["zai"]["status"] == "GREEN"


def test_scheduler_does_not_poll_before_the_backoff_ends(zai, client, ctx, clock, drain) -> None:
    fp = fp_of(ctx, register_instance(client, poll_interval=INTERVAL_S))
    zai.fail("503")
    assert enqueue_due_polls() == 1
    drain()
    calls = zai.calls
    for _ in range(2):  # failures 1 and 2: the second waits 2 intervals
        due = ctx.store.due.due_at(fp)
        clock.now = due - 1
        assert enqueue_due_polls() == 0
        assert drain() == 0
        assert zai.calls == calls
        clock.now = due
        assert enqueue_due_polls() == 1
        assert drain() == 1
        assert zai.calls > calls
        calls = zai.calls
    assert ctx.store.snapshots.get(fp).failures == 3


@pytest.mark.parametrize(
    ("retry_after", "expected"),
    [
        ("300", 300),  # longer than the backoff: honoured
        ("10", INTERVAL_S),  # shorter than the backoff: the backoff wins
        ("100000", BACKOFF_CAP_FACTOR * INTERVAL_S),  # never past the cap
    ],
)
def test_retry_after_is_honoured_when_larger(
    retry_after: str, expected: float, zai, client, ctx, clock
) -> None:
    fp = fp_of(ctx, register_instance(client, poll_interval=INTERVAL_S))
    zai.fail("429", retry_after=retry_after)

    assert poll_account(fp) == "error:rate_limited"

    assert ctx.store.due.due_at(fp) - clock.now == expected
    assert "429" in ctx.store.snapshots.get(fp).error["message"]


def test_rate_limit_without_retry_after_backs_off_by_the_interval(zai, client, ctx, clock) -> None:
    fp = fp_of(ctx, register_instance(client, poll_interval=INTERVAL_S))
    zai.fail("429_no_retry_after")

    assert poll_account(fp) == "error:rate_limited"
    assert ctx.store.due.due_at(fp) - clock.now == INTERVAL_S
    clock.now = ctx.store.due.due_at(fp)
    assert poll_account(fp) == "error:rate_limited"
    assert ctx.store.due.due_at(fp) - clock.now == 2 * INTERVAL_S


def test_provider_without_a_poller_is_recorded_as_not_supported(zai, client, ctx) -> None:
    # An account of a provider the registry has no poller for. (A real one, e.g. copilot via
    # github_token, would start calling its real host once its poller lands; so the account's
    # provider is rewritten to a name that will never have one.)
    reg = register_instance(client)
    fp = fp_of(ctx, reg)
    stored = ctx.store.accounts.get(fp)
    pipe = ctx.store.pipeline()
    ctx.store.accounts.upsert(Account(fp, "acme", stored.credentials, {}), pipe)
    pipe.execute()

    assert poll_account(fp) == "error:not_supported"

    assert zai.calls == 0
    snap = ctx.store.snapshots.get(fp)
    assert snap.error["code"] == "not_supported" and snap.failures == 1
    assert is_sentence(snap.error["message"]) and "not implemented" in snap.error["message"]
    assert ZAI_KEY not in snap.to_json()
    view = providers_view(client, reg)["zai"]
    assert view["status"] == "UNKNOWN" and view["error"] == snap.error["message"]
    assert ctx.store.due.due_at(fp) > ctx.clock()
