"""providers.claude against the fake Claude usage and token endpoints."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import pytest
import requests

from quota_sentinel.providers import claude
from quota_sentinel.providers.base import (
    AuthFailed,
    BadPayload,
    CredentialsExpired,
    ProviderError,
    RateLimitedUpstream,
    UpstreamUnavailable,
)
from tests.providers.support import NOW, ProviderCase
from tests.upstreams.claude import (
    CLAUDE_FAILURE_MODES,
    CLIENT_ID,
    OAUTH_BETA,
    TOKEN_PATH,
    USAGE_PATH,
    ClaudeFake,
    weekly_lanes_body,
)

ACCESS = "sk-ant-oat01-PLANTED-access-7c1e5a"
REFRESH = "sk-ant-ort01-PLANTED-refresh-9d2f4b"
JUNE_1 = datetime(2026, 6, 1, tzinfo=UTC).timestamp()
AT_18H = datetime(2026, 5, 14, 18, 0, tzinfo=UTC).timestamp()
SERVER = {"refresh": "server"}

# `poll()` sends tokens that never expire; Claude waits at least five minutes after a 429.
CASE = ProviderCase(
    name="claude",
    fetch=claude.fetch,
    fake=lambda: ClaudeFake(ACCESS, REFRESH, now=NOW),
    credentials={"access_token": ACCESS, "refresh_token": REFRESH, "expires_at_ms": None},
    secrets=(ACCESS, REFRESH),
    window="five_hour",
    names=("Claude", claude.SCOPE_SENTENCE),
    modes=CLAUDE_FAILURE_MODES,
    errors={
        "scope_403": AuthFailed,
        "429_zero": RateLimitedUpstream,
        "error_envelope": ProviderError,
    },
    retry_after_s={"429": 300.0, "429_no_retry_after": 300.0, "429_zero": 300.0},
    secret_field=None,
    oauth=True,
    reads=("five_hour", "seven_day", "limits"),
    unreadable=({"five_hour": {"utilization": "busy"}}, "five_hour.utilization"),
)


def _creds(expires_in_s: float | None, access: str | None = ACCESS) -> dict[str, Any]:
    expires = None if expires_in_s is None else int((NOW + expires_in_s) * 1000)
    return {"access_token": access, "refresh_token": REFRESH, "expires_at_ms": expires}


def _window(util: Any, resets_at: Any = "2026-05-14T18:00:00Z") -> dict[str, Any]:
    return {"utilization": util, "resets_at": resets_at}


# -- the happy shape and its variants ----------------------------------------------------------


def test_reads_the_documented_windows(poll) -> None:
    result = poll()
    assert set(result.windows) == {
        "five_hour",
        "seven_day",
        "seven_day_sonnet",
        "seven_day_opus",
        "extra_usage",
    }
    windows = result.windows
    assert (windows["five_hour"].utilization, windows["five_hour"].resets_at) == (37.0, NOW + 7200)
    assert (windows["seven_day"].utilization, windows["seven_day"].resets_at) == (
        12.0,
        NOW + 4 * 86400,
    )
    assert windows["seven_day_sonnet"].utilization == 4.0
    # The flat seven_day_opus is null; the scoped weekly limit in limits[] stands in for it.
    assert windows["seven_day_opus"].utilization == 6.0
    assert windows["seven_day_opus"].metadata == {"model": "Opus"}
    extra = windows["extra_usage"]
    assert (extra.utilization, extra.resets_at) == (24.8, JUNE_1)
    assert extra.metadata == {"limit": 50.0, "used": 12.4, "currency": "USD"}
    assert result.credentials is None and result.plan is None and result.state is None


def test_sends_the_oauth_headers_and_a_claude_code_user_agent(fake: ClaudeFake, poll) -> None:
    poll()
    headers = fake.upstream.last(USAGE_PATH).headers
    assert headers["authorization"] == f"Bearer {ACCESS}"
    assert headers["anthropic-beta"] == OAUTH_BETA
    assert headers["user-agent"] == f"claude-code/{claude.CLAUDE_CODE_VERSION}"
    assert headers["accept"] == "application/json"
    assert headers["content-type"] == "application/json"


@pytest.mark.parametrize(
    ("version", "sent"),
    [("2.2.0", "2.2.0"), ("", claude.CLAUDE_CODE_VERSION), ("1.0\r\nX-Evil: 1", "2.1.69")],
)
def test_claude_code_version_option(fake: ClaudeFake, poll, version: str, sent: str) -> None:
    poll(claude_code_version=version)
    assert fake.upstream.last(USAGE_PATH).headers["user-agent"] == f"claude-code/{sent}"


@pytest.mark.parametrize(
    ("resets_at", "expected"),
    [
        ("2026-05-14T18:00:00.412233+00:00", AT_18H + 0.412233),
        ("2026-05-14T18:00:00Z", AT_18H),
        ("2026-05-14T18:00:00.412Z", AT_18H + 0.412),
        ("2026-05-14T18:00:00.412233", AT_18H + 0.412233),  # naive means UTC
        ("2026-05-14T20:00:00+02:00", AT_18H),
        (AT_18H, AT_18H),
        (int(AT_18H * 1000), AT_18H),
        (str(int(AT_18H)), AT_18H),
        (None, None),
        ("soon", None),
    ],
)
def test_every_resets_at_form(fake: ClaudeFake, poll, resets_at: Any, expected: Any) -> None:
    fake.set_usage({"five_hour": _window(10, resets_at)})
    window = poll().windows["five_hour"]
    assert window.resets_at == (pytest.approx(expected) if expected is not None else None)


def test_absent_resets_at_is_none(fake: ClaudeFake, poll) -> None:
    fake.set_usage({"five_hour": {"utilization": 3}})
    assert poll().windows["five_hour"].resets_at is None


def test_numbers_may_be_strings_and_are_clamped(fake: ClaudeFake, poll) -> None:
    fake.set_usage(
        {
            "five_hour": _window("52.5"),
            "seven_day": _window(130),
            "seven_day_sonnet": _window(-2),
            "seven_day_opus": _window(None),
        }
    )
    windows = poll().windows
    assert {n: w.utilization for n, w in windows.items()} == {
        "five_hour": 52.5,
        "seven_day": 100.0,
        "seven_day_sonnet": 0.0,
    }


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"five_hour": _window("n/a")}, "five_hour.utilization with text"),
        ({"seven_day": "12 %"}, "seven_day with text, not an object"),
        ({"seven_day_cowork": _window([3])}, "seven_day_cowork.utilization with a list"),
        ({"limits": [{"kind": "session", "percent": {}}]}, "limits[0].percent with an object"),
    ],
)
def test_an_unreadable_utilization_is_an_error_naming_the_field(
    fake: ClaudeFake, poll, body: dict[str, Any], field: str
) -> None:
    fake.set_usage(body)
    with pytest.raises(BadPayload) as err:
        poll()
    assert f"Claude answered {field}" in err.value.message


def test_every_seven_day_lane_with_a_utilization_is_read(fake: ClaudeFake, poll) -> None:
    fake.set_usage(weekly_lanes_body(NOW))
    windows = poll().windows
    assert {n: w.utilization for n, w in windows.items() if n.startswith("seven_day")} == {
        "seven_day": 12.0,
        "seven_day_sonnet": 4.0,
        "seven_day_opus": 6.0,
        "seven_day_cowork": 63.0,
        "seven_day_routines": 20.0,
    }
    assert windows["seven_day_cowork"].resets_at == NOW + 4 * 86400


def test_an_answer_with_only_an_extra_weekly_lane_is_read(fake: ClaudeFake, poll) -> None:
    fake.set_usage({"seven_day_cowork": _window(10)})
    assert set(poll().windows) == {"seven_day_cowork"}


def test_all_null_windows_give_no_window_rather_than_zero(fake: ClaudeFake, poll) -> None:
    fake.set_usage({k: None for k in (*claude.FLAT_WINDOWS, "extra_usage", "limits")})
    assert poll().windows == {}


def test_scoped_limits_become_seven_day_model_windows(fake: ClaudeFake, poll) -> None:
    def scoped(name: Any, percent: Any) -> dict[str, Any]:
        model = {"id": None, "display_name": name}
        return {"kind": "weekly_scoped", "percent": percent, "scope": {"model": model}}

    fake.set_usage(
        {
            "five_hour": _window(1),
            "seven_day_sonnet": _window(9),
            "limits": [
                scoped("Sonnet", 50),  # the flat key exists: it wins
                scoped("Opus 4.1", "7"),
                scoped("Opus 4.1", 99),  # a second row of one model: the first wins
                scoped(None, 5),
                {"kind": "weekly_scoped", "percent": 5, "scope": None},
                {"kind": "something_new", "percent": 80},
                "not a row",
            ],
        }
    )
    windows = poll().windows
    assert {n: w.utilization for n, w in windows.items()} == {
        "five_hour": 1.0,
        "seven_day_sonnet": 9.0,
        "seven_day_opus_4_1": 7.0,
    }
    assert windows["seven_day_opus_4_1"].metadata == {"model": "Opus 4.1"}


def test_session_and_weekly_limits_stand_in_for_missing_flat_windows(
    fake: ClaudeFake, poll
) -> None:
    fake.set_usage(
        {
            "limits": [
                {"kind": "session", "percent": 37, "resets_at": "2026-05-14T18:00:00Z"},
                {"kind": "weekly_all", "percent": "12", "resets_at": None},
            ]
        }
    )
    windows = poll().windows
    assert (windows["five_hour"].utilization, windows["five_hour"].resets_at) == (37.0, AT_18H)
    assert windows["seven_day"].utilization == 12.0


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({"is_enabled": False}, None),
        ({"is_enabled": False, "monthly_limit": None, "used_credits": None}, None),
        ({"is_enabled": True, "monthly_limit": 0, "used_credits": 10}, None),
        ({"is_enabled": True, "monthly_limit": None}, None),
        ({"is_enabled": True, "monthly_limit": 5000}, None),
        (
            {"is_enabled": True, "monthly_limit": 2050, "used_credits": 1025},
            (50.0, {"limit": 20.5, "used": 10.25, "currency": "USD"}),
        ),
        (
            {
                "is_enabled": True,
                "monthly_limit": "10000",
                "used_credits": "2500",
                "currency": "EUR",
            },
            (25.0, {"limit": 100.0, "used": 25.0, "currency": "EUR"}),
        ),
        (
            {"is_enabled": True, "monthly_limit": 1000, "utilization": 120},
            (100.0, {"limit": 10.0, "currency": "USD"}),
        ),
    ],
)
def test_extra_usage_variants(fake: ClaudeFake, poll, extra: Any, expected: Any) -> None:
    fake.set_usage({"five_hour": _window(1), "extra_usage": extra})
    window = poll().windows.get("extra_usage")
    if expected is None:
        assert window is None
    else:
        assert (window.utilization, dict(window.metadata)) == expected
        assert window.resets_at == JUNE_1


def test_extra_usage_resets_on_the_first_of_next_month_across_a_year_end(poll) -> None:
    result = poll(now=datetime(2026, 12, 31, 23, 0, tzinfo=UTC).timestamp())
    assert result.windows["extra_usage"].resets_at == datetime(2027, 1, 1, tzinfo=UTC).timestamp()


@pytest.mark.parametrize("body", [[], {}, {"account": {"uuid": "x"}}, "text"])
def test_an_answer_without_usage_keys_is_a_bad_payload(fake: ClaudeFake, poll, body: Any) -> None:
    fake.set_usage(body)
    with pytest.raises(BadPayload, match="^Claude answered"):
        poll()


def test_an_error_envelope_with_http_200_is_a_provider_error(fake: ClaudeFake, poll) -> None:
    fake.fail("error_envelope")
    with pytest.raises(ProviderError) as err:
        poll()
    assert err.value.message == "Claude reported an error: Internal server error."


# -- what the fake enforces (as the real endpoint does) ----------------------------------------


def test_fake_refuses_requests_without_the_beta_header_or_claude_code_ua(fake: ClaudeFake) -> None:
    auth = {"Authorization": f"Bearer {ACCESS}"}
    no_beta = requests.get(fake.url + USAGE_PATH, headers=auth, timeout=5)
    assert no_beta.status_code == 400
    assert no_beta.json()["error"]["type"] == "invalid_request_error"
    browser = requests.get(
        fake.url + USAGE_PATH,
        headers={**auth, "anthropic-beta": OAUTH_BETA, "User-Agent": "Mozilla/5.0"},
        timeout=5,
    )
    assert (browser.status_code, browser.headers["retry-after"]) == (429, "0")


def test_fake_token_endpoint_accepts_form_bodies_and_rotates(fake: ClaudeFake) -> None:
    form = {"grant_type": "refresh_token", "refresh_token": REFRESH, "client_id": CLIENT_ID}
    first = requests.post(fake.url + TOKEN_PATH, data=form, timeout=5)
    assert first.status_code == 200 and first.json()["refresh_token"] != REFRESH
    again = requests.post(fake.url + TOKEN_PATH, json=form, timeout=5)
    assert (again.status_code, again.json()["error"]) == (400, "invalid_grant")


# -- failures ----------------------------------------------------------------------------------


def test_401_tells_the_user_to_send_a_fresh_token(fake: ClaudeFake, poll) -> None:
    fake.revoke(ACCESS)
    with pytest.raises(AuthFailed) as err:
        poll()
    assert "HTTP 401" in err.value.message
    assert "heartbeat sends a fresh token" in err.value.message
    assert err.value.credentials is None
    assert fake.token_calls == 0


def test_403_scope_error_says_relogin_with_full_scope(fake: ClaudeFake, poll) -> None:
    fake.add_token("sk-ant-oat01-setup-token-only", scope_limited=True)
    with pytest.raises(AuthFailed) as err:
        poll(_creds(None, access="sk-ant-oat01-setup-token-only"))
    assert err.value.message == claude.SCOPE_SENTENCE
    assert "user:profile" in err.value.message and "`claude login`" in err.value.message


@pytest.mark.parametrize(
    ("mode", "retry_after", "expected_s"),
    [
        ("429", "900", 900.0),
        ("429", "30", 300.0),
        ("429_zero", "", 300.0),
        ("429_no_retry_after", "", 300.0),
    ],
)
def test_429_waits_at_least_five_minutes(
    fake: ClaudeFake, poll, mode: str, retry_after: str, expected_s: float
) -> None:
    fake.fail(mode, retry_after=retry_after)
    with pytest.raises(RateLimitedUpstream) as err:
        poll()
    assert err.value.retry_after_s == expected_s
    assert f"{expected_s:g} s" in err.value.message


# -- credentials: never refresh by default (docs/providers.md, Claude) ------------------------


def test_expired_token_is_reported_without_calling_claude(fake: ClaudeFake, poll) -> None:
    with pytest.raises(CredentialsExpired) as err:
        poll(_creds(-60))
    assert err.value.message.startswith("The Claude access token expired at 2026-05-14 14:45 UTC;")
    assert 'provider_config.claude.refresh = "server"' in err.value.message
    assert err.value.code == "credentials_expired"
    assert (fake.calls, fake.token_calls) == (0, 0)


def test_missing_access_token_is_credentials_expired(fake: ClaudeFake, poll) -> None:
    with pytest.raises(CredentialsExpired, match="No Claude access token"):
        poll(_creds(None, access=None))
    assert (fake.calls, fake.token_calls) == (0, 0)


def test_default_mode_uses_a_token_about_to_expire_and_never_refreshes(
    fake: ClaudeFake, poll
) -> None:
    assert "five_hour" in poll(_creds(60)).windows
    fake.revoke(ACCESS)
    with pytest.raises(AuthFailed):
        poll(_creds(60))
    assert fake.token_calls == 0


# -- credentials: opt-in server-side refresh ---------------------------------------------------


def test_server_mode_refreshes_an_expired_token_once_and_returns_the_rotated_one(
    fake: ClaudeFake, poll
) -> None:
    fake.revoke(ACCESS)
    result = poll(_creds(-60), **SERVER)
    assert fake.token_calls == 1
    assert result.credentials == {
        "access_token": "sk-ant-oat01-fake-access-1",
        "refresh_token": "sk-ant-ort01-fake-refresh-1",
        "expires_at_ms": int((NOW + 28800) * 1000),
    }
    sent = fake.upstream.last(TOKEN_PATH)
    assert sent.json() == {
        "grant_type": "refresh_token",
        "refresh_token": REFRESH,
        "client_id": CLIENT_ID,
    }
    assert sent.headers["user-agent"].startswith("claude-code/")
    usage = fake.upstream.last(USAGE_PATH).headers["authorization"]
    assert usage == "Bearer sk-ant-oat01-fake-access-1"
    assert "five_hour" in result.windows

    # The old refresh token is spent: using it again is invalid_grant.
    with pytest.raises(AuthFailed) as err:
        poll(_creds(-60), **SERVER)
    assert err.value.message == claude.REFRESH_REJECTED
    assert "another client may have used it" in err.value.message
    assert err.value.credentials is None
    assert fake.token_calls == 2


def test_server_mode_refreshes_within_five_minutes_of_expiry(fake: ClaudeFake, poll) -> None:
    assert poll(_creds(120), **SERVER).credentials is not None
    assert fake.token_calls == 1


def test_server_mode_leaves_a_fresh_token_alone(fake: ClaudeFake, poll) -> None:
    assert poll(_creds(3600), **SERVER).credentials is None
    assert fake.token_calls == 0


def test_server_mode_gives_up_after_one_refresh_and_keeps_the_rotated_token(
    fake: ClaudeFake, poll
) -> None:
    fake.fail("401")
    with pytest.raises(AuthFailed, match="after a refresh") as err:
        poll(_creds(None), **SERVER)
    assert err.value.credentials["refresh_token"] == "sk-ant-ort01-fake-refresh-1"
    assert (fake.calls, fake.token_calls) == (2, 1)


def test_server_mode_usage_failure_after_refresh_still_carries_the_new_tokens(
    fake: ClaudeFake, poll
) -> None:
    fake.fail("503")
    with pytest.raises(UpstreamUnavailable) as err:
        poll(_creds(-60), **SERVER)
    assert err.value.credentials["access_token"] == "sk-ant-oat01-fake-access-1"


def test_server_mode_does_not_refresh_on_a_scope_error(fake: ClaudeFake, poll) -> None:
    fake.fail("scope_403")
    with pytest.raises(AuthFailed, match="user:profile"):
        poll(_creds(None), **SERVER)
    assert fake.token_calls == 0


def test_server_mode_keeps_the_refresh_token_when_the_answer_omits_it(poll_of) -> None:
    with ClaudeFake(ACCESS, REFRESH, now=NOW, rotate=False, expires_in_s=3600) as fake:
        result = poll_of(fake)(_creds(-1), **SERVER)
    assert result.credentials["refresh_token"] == REFRESH
    assert result.credentials["expires_at_ms"] == int((NOW + 3600) * 1000)


def test_server_mode_without_a_refresh_token_reports_the_expiry(fake: ClaudeFake, poll) -> None:
    creds = {**_creds(-60), "refresh_token": None}
    with pytest.raises(CredentialsExpired):
        poll(creds, **SERVER)
    assert (fake.calls, fake.token_calls) == (0, 0)


def test_token_endpoint_trouble_is_not_a_rejection(fake: ClaudeFake, poll) -> None:
    fake.upstream.script(TOKEN_PATH, method="POST", status=502, json={"error": "bad gateway"})
    with pytest.raises(UpstreamUnavailable) as err:
        poll(_creds(-60), **SERVER)
    assert err.value.credentials is None


def test_token_answer_without_access_token_is_a_bad_payload(fake: ClaudeFake, poll) -> None:
    fake.upstream.script(TOKEN_PATH, method="POST", json={"token_type": "Bearer"})
    with pytest.raises(BadPayload, match="without an access token"):
        poll(_creds(-60), **SERVER)


# -- secrets -----------------------------------------------------------------------------------


def test_no_token_reaches_a_message_or_a_log_line(
    fake: ClaudeFake, poll, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    messages: list[str] = []
    fake.revoke(ACCESS)
    for run in (
        lambda: poll(),
        lambda: poll(_creds(-60)),
        lambda: poll(_creds(-60), **SERVER),  # refresh OK, then usage with the new token
        lambda: poll(_creds(-60), **SERVER),  # the spent refresh token: invalid_grant
    ):
        try:
            run()
        except ProviderError as exc:
            messages.append(exc.message)
    fake.fail("html")
    with pytest.raises(BadPayload) as err:
        poll(fake.credentials())
    messages.append(err.value.message)
    assert len(messages) == 4
    secrets = [ACCESS, REFRESH, "fake-access-1", "fake-refresh-1", "sk-ant-o"]
    for secret in secrets:
        assert secret not in caplog.text
        assert all(secret not in message for message in messages)
