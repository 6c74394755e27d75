"""providers.codex against the fake ChatGPT usage and OpenAI token endpoints."""

from __future__ import annotations

import base64
import json
import logging
from typing import Any

import pytest

from quota_sentinel.providers import codex
from quota_sentinel.providers.base import AuthFailed, BadPayload, CredentialsExpired, ProviderError
from tests.providers.support import NOW, ProviderCase
from tests.upstreams.codex import CLIENT_ID, TOKEN_PATH, USAGE_PATH, CodexFake

ACCESS = "codex-PLANTED-access-3b9e71"
REFRESH = "codex-PLANTED-refresh-c04d22"
ACCOUNT = "acct-fake-0001"
SERVER = {"refresh": "server"}


def _creds(expires_in_s: float | None, **changes: Any) -> dict[str, Any]:
    expires = None if expires_in_s is None else int((NOW + expires_in_s) * 1000)
    creds = {
        "access_token": ACCESS,
        "refresh_token": REFRESH,
        "expires_at_ms": expires,
        "account_id": ACCOUNT,
    }
    return {**creds, **changes}


# `poll()` sends tokens that never expire.
CASE = ProviderCase(
    name="codex",
    fetch=codex.fetch,
    fake=lambda: CodexFake(ACCESS, REFRESH, account_id=ACCOUNT, now=NOW),
    credentials=_creds(None),
    secrets=(ACCESS, REFRESH),
    window="5h",
    names=("ChatGPT",),
    secret_field=None,
    oauth=True,
    reads=("rate_limit", "spend_control"),
    unreadable=(
        {"rate_limit": {"primary_window": {"used_percent": "n/a", "limit_window_seconds": 18000}}},
        "rate_limit.primary_window.used_percent",
    ),
)


def _jwt(claims: dict[str, Any]) -> str:
    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    return f"{part({'alg': 'none'})}.{part(claims)}.c2ln"


def _rate(primary: Any = None, secondary: Any = None) -> dict[str, Any]:
    rate: dict[str, Any] = {"allowed": True, "limit_reached": False}
    if primary is not None:
        rate["primary_window"] = primary
    if secondary is not None:
        rate["secondary_window"] = secondary
    return rate


def _only(fake: CodexFake, rate: Any) -> None:
    """Serve an answer with this rate_limit and nothing else."""
    fake.set_usage({"plan_type": "plus", "rate_limit": rate})


def _win(used: Any, seconds: Any, **fields: Any) -> dict[str, Any]:
    return {"used_percent": used, "limit_window_seconds": seconds, **fields}


# -- the happy shape and its variants ----------------------------------------------------------


def test_reads_the_documented_windows(poll) -> None:
    result = poll()
    windows = result.windows
    assert set(windows) == {"5h", "weekly", "gpt_5_3_codex_spark_5h"}
    assert (windows["5h"].utilization, windows["5h"].resets_at) == (23.0, int(NOW) + 7410)
    assert (windows["weekly"].utilization, windows["weekly"].resets_at) == (
        41.0,
        int(NOW) + 301200,
    )
    assert windows["weekly"].metadata == {"window_s": 604800.0}
    assert windows["gpt_5_3_codex_spark_5h"].utilization == 10.0
    assert result.plan == "plus"
    assert result.credentials is None


def test_sends_bearer_and_account_id(fake: CodexFake, poll) -> None:
    poll()
    headers = fake.upstream.last(USAGE_PATH).headers
    assert headers["authorization"] == f"Bearer {ACCESS}"
    assert headers["chatgpt-account-id"] == ACCOUNT
    assert headers["accept"] == "application/json"


def test_windows_are_named_by_length_not_slot(fake: CodexFake, poll) -> None:
    _only(fake, _rate(_win(60, 604800, reset_at=1), _win("7", "18000")))
    windows = poll().windows
    assert {n: w.utilization for n, w in windows.items()} == {"weekly": 60.0, "5h": 7.0}


@pytest.mark.parametrize(
    ("seconds", "name"),
    [
        (18000, "5h"),
        (86400, "daily"),
        (604800, "weekly"),
        (2628000, "monthly"),
        (2592000, "monthly"),
        (7200, "2h"),
        (1209600, "14d"),
        (1000, "1000s"),
        (None, "slot"),
        (0, "slot"),
    ],
)
def test_window_names(seconds: Any, name: str) -> None:
    assert codex.window_name(seconds, "slot") == name


def test_missing_window_length_falls_back_to_the_slot(fake: CodexFake, poll) -> None:
    _only(fake, _rate({"used_percent": 5}, {"used_percent": 6}))
    assert {n: w.utilization for n, w in poll().windows.items()} == {"5h": 5.0, "weekly": 6.0}


def test_reset_after_seconds_when_reset_at_is_missing(fake: CodexFake, poll) -> None:
    fake.set_usage(
        rate_limit=_rate(
            _win(1, 18000, reset_after_seconds="600"), _win(2, 604800, reset_at=str(int(NOW)))
        )
    )
    windows = poll().windows
    assert windows["5h"].resets_at == NOW + 600
    assert windows["weekly"].resets_at == NOW


def test_used_percent_as_string_is_clamped_and_null_is_skipped(fake: CodexFake, poll) -> None:
    _only(fake, _rate(_win("104.5", 18000), _win(None, 604800)))
    assert {n: w.utilization for n, w in poll().windows.items()} == {"5h": 100.0}


@pytest.mark.parametrize(
    ("rate", "field"),
    [
        (_rate(_win("n/a", 18000)), "rate_limit.primary_window.used_percent with text"),
        (_rate(_win(5, "5h")), "rate_limit.primary_window.limit_window_seconds with text"),
        ("limited", "rate_limit with text, not an object"),
    ],
)
def test_an_unreadable_window_is_an_error_naming_the_field(
    fake: CodexFake, poll, rate: Any, field: str
) -> None:
    _only(fake, rate)
    with pytest.raises(BadPayload) as err:
        poll()
    assert f"ChatGPT answered {field}" in err.value.message


def test_a_zero_length_window_is_a_placeholder_not_a_5h_window(fake: CodexFake, poll) -> None:
    fake.set_shape("placeholder")
    assert {n: w.utilization for n, w in poll().windows.items()} == {"weekly": 41.0}


@pytest.mark.parametrize(
    ("limit", "utilization"),
    [
        ({"used_percent": 42.5, "reached": False, "reset_after_seconds": 3600}, 42.5),
        ({"used_percent": "42.5", "reached": True}, 100.0),
        ({"remaining_percent": 35, "used_percent": 70}, 65.0),
    ],
)
def test_a_spend_limit_given_as_used_percent_is_read(
    fake: CodexFake, poll, limit: dict[str, Any], utilization: float
) -> None:
    fake.set_usage(rate_limit=None, spend_control={"individual_limit": limit})
    window = poll().windows["spend_limit"]
    assert window.utilization == utilization
    assert window.metadata == {"reached": limit.get("reached") is True}


def test_the_spend_limit_shape_of_the_fake(fake: CodexFake, poll) -> None:
    fake.set_shape("spend_used_percent")
    result = poll()
    assert {n: w.utilization for n, w in result.windows.items()} == {"spend_limit": 42.5}
    assert result.windows["spend_limit"].resets_at == NOW + 7200


def test_two_windows_of_one_length_both_survive(fake: CodexFake, poll) -> None:
    _only(fake, _rate(_win(1, 604800), _win(2, 604800)))
    assert {n: w.utilization for n, w in poll().windows.items()} == {
        "weekly": 1.0,
        "weekly_2": 2.0,
    }


def test_additional_limits_fall_back_to_the_limit_name(fake: CodexFake, poll) -> None:
    fake.set_usage(
        additional_rate_limits=[
            {"limit_name": "GPT-5 Pro", "rate_limit": _rate(_win(30, 604800))},
            {"metered_feature": "x", "rate_limit": None},
            "junk",
        ]
    )
    assert poll().windows["gpt_5_pro_weekly"].utilization == 30.0


def test_monthly_business_window(fake: CodexFake, poll) -> None:
    fake.set_usage(plan_type="business", rate_limit=_rate(_win(12, 2628000)))
    result = poll()
    assert result.windows["monthly"].utilization == 12.0
    assert result.plan == "business"


def test_spend_control_when_rate_limit_is_null(fake: CodexFake, poll) -> None:
    fake.set_usage(
        {
            "plan_type": "business",
            "rate_limit": None,
            "spend_control": {
                "individual_limit": {"remaining_percent": "35", "reset_after_seconds": 3600}
            },
        }
    )
    result = poll()
    assert set(result.windows) == {"spend_limit"}
    assert result.windows["spend_limit"].utilization == 65.0
    assert result.windows["spend_limit"].resets_at == NOW + 3600


@pytest.mark.parametrize("body", [{}, [], {"plan_type": "plus"}])
def test_an_answer_without_limits_is_a_bad_payload(fake: CodexFake, poll, body: Any) -> None:
    fake.set_usage(body)
    with pytest.raises(BadPayload, match="^ChatGPT answered wham/usage"):
        poll()


# -- account id --------------------------------------------------------------------------------


def test_account_id_comes_from_the_jwt_when_not_stored(fake: CodexFake, poll) -> None:
    token = _jwt({"https://api.openai.com/auth": {"chatgpt_account_id": ACCOUNT}})
    fake.add_token(token)
    poll(_creds(None, access_token=token, account_id=None))
    assert fake.upstream.last(USAGE_PATH).headers["chatgpt-account-id"] == ACCOUNT


def test_no_account_id_sends_no_header(poll_of) -> None:
    with CodexFake(ACCESS, REFRESH, account_id=ACCOUNT, require_account=False, now=NOW) as fake:
        poll_of(fake)(_creds(None, account_id=None))
        assert "chatgpt-account-id" not in fake.upstream.last(USAGE_PATH).headers


def test_wrong_account_id_is_auth_failed(fake: CodexFake, poll) -> None:
    with pytest.raises(AuthFailed, match="HTTP 403"):
        poll(_creds(None, account_id="acct-other"))


# -- failures ----------------------------------------------------------------------------------


def test_401_tells_the_user_to_send_a_fresh_token(fake: CodexFake, poll) -> None:
    fake.revoke(ACCESS)
    with pytest.raises(AuthFailed) as err:
        poll()
    assert "HTTP 401" in err.value.message and "heartbeat sends a fresh token" in err.value.message
    assert fake.token_calls == 0


# -- credentials -------------------------------------------------------------------------------


def test_expired_token_is_reported_without_calling_chatgpt(fake: CodexFake, poll) -> None:
    with pytest.raises(CredentialsExpired) as err:
        poll(_creds(-60))
    assert err.value.message.startswith("The Codex (ChatGPT) access token expired at 2026-05-14")
    assert 'provider_config.codex.refresh = "server"' in err.value.message
    assert (fake.calls, fake.token_calls) == (0, 0)


def test_expiry_is_read_from_the_jwt_when_not_stored(fake: CodexFake, poll) -> None:
    token = _jwt({"exp": int(NOW) - 10})
    with pytest.raises(CredentialsExpired, match="expired at 2026-05-14 14:46 UTC"):
        poll(_creds(None, access_token=token))
    assert fake.calls == 0


def test_server_mode_refreshes_once_and_rotation_spends_the_old_token(
    fake: CodexFake, poll
) -> None:
    result = poll(_creds(-60), **SERVER)
    assert result.credentials == {
        "access_token": "codex-fake-access-1",
        "refresh_token": "codex-fake-refresh-1",
        "expires_at_ms": int((NOW + 864000) * 1000),
        "account_id": ACCOUNT,
    }
    assert fake.upstream.last(TOKEN_PATH).json() == {
        "grant_type": "refresh_token",
        "refresh_token": REFRESH,
        "client_id": CLIENT_ID,
        "scope": "openid profile email",
    }
    assert fake.upstream.last(USAGE_PATH).headers["authorization"] == "Bearer codex-fake-access-1"
    with pytest.raises(AuthFailed, match="rejected the Codex refresh token") as err:
        poll(_creds(-60), **SERVER)
    assert err.value.credentials is None
    assert fake.token_calls == 2


def test_server_mode_failure_after_refresh_carries_the_new_tokens(fake: CodexFake, poll) -> None:
    fake.fail("401")
    with pytest.raises(AuthFailed) as err:
        poll(_creds(None), **SERVER)
    assert err.value.credentials["refresh_token"] == "codex-fake-refresh-1"
    assert "codex login" in err.value.message
    assert fake.token_calls == 1


def test_refresh_without_expires_in_reads_the_new_jwt(poll_of) -> None:
    with CodexFake(ACCESS, REFRESH, account_id=None, now=NOW, expires_in_s=None) as fake:
        result = poll_of(fake)(_creds(-60, account_id=None), **SERVER)
    assert result.credentials["expires_at_ms"] is None  # the fake's tokens are opaque
    assert result.credentials["account_id"] is None


def test_no_token_reaches_a_message_or_a_log_line(
    fake: CodexFake, poll, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    messages: list[str] = []
    fake.revoke(ACCESS)
    for creds, options in (
        (_creds(None), {}),
        (_creds(-60), {}),
        (_creds(-60), SERVER),
        (_creds(-60), SERVER),
    ):
        try:
            poll(creds, **options)
        except ProviderError as exc:
            messages.append(exc.message)
    assert len(messages) == 3
    for secret in (ACCESS, REFRESH, "codex-fake-access-1", "codex-fake-refresh-1"):
        assert secret not in caplog.text
        assert all(secret not in message for message in messages)
