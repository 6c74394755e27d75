"""providers.copilot against the fake copilot_internal/user and billing report endpoints."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import pytest

from quota_sentinel.providers import copilot
from quota_sentinel.providers.base import (
    AuthFailed,
    BadPayload,
    ProviderError,
    RateLimitedUpstream,
    UpstreamUnavailable,
)
from tests.providers.support import ProviderCase
from tests.upstreams.copilot import (
    COPILOT_FAILURE_MODES,
    SHAPES,
    USER_PATH,
    CopilotFake,
    billing_path,
)

TOKEN = "gho_PLANTEDcopilotToken5e8a1f"
USER = "octo-dev"
JUNE_1 = datetime(2026, 6, 1, tzinfo=UTC).timestamp()
FALLBACK = {"github_username": USER, "plan": "pro"}

# The fake: a paid (pro) seat; "404" is copilot_internal/user without a seat.
CASE = ProviderCase.keyed(
    copilot.fetch,
    lambda key: CopilotFake(key, username=USER, period=(2026, 5)),
    TOKEN,
    window="monthly",
    names=("GitHub",),
    modes=COPILOT_FAILURE_MODES,
    errors={"404": ProviderError},
    secret_field="token",
    missing="No GitHub token",
    reads=("quota_snapshots", "monthly_quotas", "limited_user_quotas", "copilot_plan"),
    unreadable=(
        {"quota_snapshots": {"premium_interactions": {"entitlement": "n/a", "remaining": 3}}},
        "quota_snapshots.premium_interactions.entitlement",
    ),
)


def _user(**buckets: Any) -> dict[str, Any]:
    return {"copilot_plan": "pro", "quota_reset_date": "2026-06-01", "quota_snapshots": buckets}


# -- copilot_internal/user ---------------------------------------------------------------------


def test_paid_plan_gives_the_monthly_premium_window(fake: CopilotFake, poll) -> None:
    result = poll()
    assert set(result.windows) == {"monthly"}
    monthly = result.windows["monthly"]
    assert monthly.utilization == pytest.approx(42.9)
    assert monthly.resets_at == JUNE_1
    assert monthly.metadata == {
        "entitlement": 300.0,
        "remaining": 171.0,
        "overage_count": 0.0,
        "plan": "pro",
    }
    assert result.plan == "pro"
    assert fake.billing_calls == 0


def test_sends_the_vs_code_client_headers(fake: CopilotFake, poll) -> None:
    poll()
    headers = fake.upstream.last(USER_PATH).headers
    assert headers["authorization"] == f"token {TOKEN}"
    assert headers["accept"] == "application/json"
    assert headers["editor-version"] == "vscode/1.96.2"
    assert headers["editor-plugin-version"] == "copilot-chat/0.26.7"
    assert headers["user-agent"] == "GitHubCopilotChat/0.26.7"
    assert headers["x-github-api-version"] == "2025-04-01"


@pytest.mark.parametrize("stored", [f"token {TOKEN}", f"Bearer {TOKEN}", f"  {TOKEN} "])
def test_a_stored_scheme_prefix_is_not_doubled(fake: CopilotFake, poll, stored: str) -> None:
    poll(stored)
    assert fake.upstream.last(USER_PATH).headers["authorization"] == f"token {TOKEN}"


def test_free_plan_meters_chat_and_completions_but_not_the_placeholder(
    fake: CopilotFake, poll
) -> None:
    fake.set_shape("free")
    result = poll()
    assert {n: w.utilization for n, w in result.windows.items()} == {
        "chat": 25.0,
        "completions": 25.0,
    }
    assert result.windows["chat"].resets_at == JUNE_1  # a bare date means midnight UTC
    assert result.windows["chat"].metadata == {"entitlement": 200.0, "remaining": 150.0}
    assert result.plan == "free"


@pytest.mark.parametrize("shape", ["org_placeholder", "unlimited"])
def test_unlimited_and_placeholder_buckets_are_not_zero_percent_used(
    fake: CopilotFake, poll, shape: str
) -> None:
    fake.set_shape(shape)
    result = poll()
    assert result.windows == {}
    assert result.plan == SHAPES[shape]["copilot_plan"]
    assert fake.billing_calls == 0


def test_legacy_free_shape(fake: CopilotFake, poll) -> None:
    fake.set_shape("legacy_free")
    result = poll()
    assert {n: w.utilization for n, w in result.windows.items()} == {
        "chat": 80.0,
        "completions": 25.0,
    }
    assert result.windows["completions"].resets_at == JUNE_1
    assert result.plan == "free_limited_copilot"


def test_utilization_from_counts_when_percent_is_missing(fake: CopilotFake, poll) -> None:
    fake.set_body(
        _user(
            premium_interactions={"entitlement": "300", "remaining": "75", "unlimited": False},
            chat={"entitlement": 50, "quota_remaining": 12.5},
        )
    )
    windows = poll().windows
    assert windows["monthly"].utilization == 75.0
    assert windows["chat"].utilization == 75.0


def test_numbers_as_strings(fake: CopilotFake, poll) -> None:
    fake.set_body(
        _user(
            premium_interactions={
                "entitlement": "1500",
                "remaining": "600",
                "percent_remaining": "40",
                "overage_count": "4",
                "unlimited": False,
            },
        )
    )
    window = poll().windows["monthly"]
    assert window.utilization == 60.0
    assert window.metadata["overage_count"] == 4.0


def test_over_quota_reads_above_100_percent_not_unlimited(fake: CopilotFake, poll) -> None:
    fake.set_shape("overage")
    window = poll().windows["monthly"]
    assert window.utilization == pytest.approx(100.333)
    assert window.metadata["overage"] == 1.0
    fake.set_body(
        _user(premium_interactions={"entitlement": 300, "remaining": -75, "unlimited": False})
    )
    assert poll().windows["monthly"].utilization == pytest.approx(125.0)


def test_only_unlimited_true_means_unlimited(fake: CopilotFake, poll) -> None:
    fake.set_body(
        _user(
            premium_interactions={"entitlement": 300, "remaining": -1, "unlimited": True},
            chat={"entitlement": -1, "remaining": -1, "percent_remaining": 100},
        )
    )
    assert poll().windows == {}


@pytest.mark.parametrize(
    ("bucket", "field"),
    [
        ({"entitlement": "lots", "remaining": 3}, "premium_interactions.entitlement with text"),
        ({"entitlement": 300, "percent_remaining": []}, "interactions.percent_remaining with a"),
        ({"entitlement": 300}, "premium_interactions without percent_remaining"),
        ("300", "quota_snapshots.premium_interactions with text, not an object"),
    ],
)
def test_an_unreadable_bucket_is_an_error_naming_the_field(
    fake: CopilotFake, poll, bucket: Any, field: str
) -> None:
    fake.set_body(_user(premium_interactions=bucket))
    with pytest.raises(BadPayload) as err:
        poll()
    assert field in err.value.message


@pytest.mark.parametrize(
    ("dates", "expected"),
    [
        ({"quota_reset_date_utc": "2026-06-01T00:00:00.000Z", "quota_reset_date": "x"}, JUNE_1),
        ({"quota_reset_date": "2026-06-01T00:00:00Z"}, JUNE_1),
        ({"quota_reset_date": "2026-06-01"}, JUNE_1),
        ({"limited_user_reset_date": "2026-06-01"}, JUNE_1),
        ({}, None),
    ],
)
def test_reset_date_variants(fake: CopilotFake, poll, dates: dict, expected: Any) -> None:
    bucket = {"entitlement": 300, "remaining": 30, "percent_remaining": 10}
    fake.set_body(
        {"copilot_plan": "pro", **dates, "quota_snapshots": {"premium_interactions": bucket}}
    )
    assert poll().windows["monthly"].resets_at == expected


@pytest.mark.parametrize("body", [{"login": "octo-dev"}, [], "ok"])
def test_an_answer_without_quota_fields_is_a_bad_payload(
    fake: CopilotFake, poll, body: Any
) -> None:
    fake.set_body(body)
    with pytest.raises(BadPayload, match="^GitHub answered copilot_internal/user"):
        poll()


# -- the billing report fallback ---------------------------------------------------------------


def test_404_without_fallback_config_says_what_to_configure(fake: CopilotFake, poll) -> None:
    fake.fail("404")
    with pytest.raises(ProviderError) as err:
        poll()
    assert type(err.value) is ProviderError
    assert "github_username and plan" in err.value.message
    assert fake.billing_calls == 0


def test_404_falls_back_to_the_billing_report(fake: CopilotFake, poll) -> None:
    fake.fail("404")
    result = poll(**FALLBACK)
    monthly = result.windows["monthly"]
    assert monthly.utilization == pytest.approx(243 / 300 * 100)
    assert monthly.resets_at == JUNE_1
    assert monthly.metadata == {
        "used": 243.0,
        "entitlement": 300.0,
        "source": "billing_report",
        "plan": "pro",
    }
    sent = fake.upstream.last(billing_path(USER))
    assert sent.query == {"year": "2026", "month": "5"}
    assert sent.headers["authorization"] == f"Bearer {TOKEN}"
    assert sent.headers["accept"] == "application/vnd.github+json"
    assert sent.headers["x-github-api-version"] == "2026-03-10"


def test_placeholder_bucket_falls_back_when_configured(fake: CopilotFake, poll) -> None:
    fake.set_shape("org_placeholder")
    result = poll(github_username=USER, plan="business")
    assert result.windows["monthly"].utilization == pytest.approx(81.0)
    assert result.plan == "business"
    assert fake.billing_calls == 1


def test_free_plan_keeps_chat_windows_and_adds_the_billing_monthly(fake: CopilotFake, poll) -> None:
    fake.set_shape("free")
    fake.set_items([{"grossQuantity": 10}])
    windows = poll(github_username=USER, plan="free").windows
    assert set(windows) == {"chat", "completions", "monthly"}
    assert windows["monthly"].utilization == 20.0


def test_a_metered_primary_never_calls_the_billing_report(fake: CopilotFake, poll) -> None:
    poll(**FALLBACK)
    assert fake.billing_calls == 0


def test_billing_report_period_follows_now_in_utc(fake: CopilotFake, poll) -> None:
    fake.fail("404")
    new_year = datetime(2026, 12, 31, 23, 59, tzinfo=UTC).timestamp()
    window = poll(now=new_year, **FALLBACK).windows["monthly"]
    assert fake.upstream.last(billing_path(USER)).query == {"year": "2026", "month": "12"}
    assert window.utilization == 0.0  # the fake has items for May only
    assert window.resets_at == datetime(2027, 1, 1, tzinfo=UTC).timestamp()


def test_billing_report_snake_case_variant(fake: CopilotFake, poll) -> None:
    fake.fail("404")
    fake.upstream.script(
        billing_path(USER),
        json={"usage_items": [{"gross_quantity": "30"}, {"gross_quantity": 15}, {"x": 1}]},
    )
    assert poll(github_username=USER, plan="50").windows["monthly"].utilization == 90.0


@pytest.mark.parametrize(
    ("plan", "allowance"),
    [
        ("free", 50),
        ("pro", 300),
        ("Pro_Plus", 1500),
        ("pro+", 1500),
        ("business", 300),
        ("enterprise", 1000),
        ("750", 750),
        (600, 600),
        ("gold", None),
        ("0", None),
        (None, None),
    ],
)
def test_plan_allowances(plan: Any, allowance: float | None) -> None:
    assert copilot.plan_allowance(plan) == allowance


def test_unknown_plan_disables_the_fallback(fake: CopilotFake, poll) -> None:
    fake.fail("404")
    with pytest.raises(ProviderError, match="github_username and plan"):
        poll(github_username=USER, plan="gold")


def test_billing_report_refusal_is_auth_failed_with_the_permission_needed(
    fake: CopilotFake, poll
) -> None:
    fake.fail("404")
    fake.upstream.script(billing_path(USER), status=403, json={"message": "Forbidden"})
    with pytest.raises(AuthFailed) as err:
        poll(**FALLBACK)
    assert "HTTP 403" in err.value.message and '"Plan: read"' in err.value.message


def test_billing_report_for_another_user_is_a_404_sentence(fake: CopilotFake, poll) -> None:
    fake.fail("404")
    with pytest.raises(ProviderError, match="no premium-request billing report for someone"):
        poll(github_username="someone", plan="pro")


def test_billing_report_without_items_is_a_bad_payload(fake: CopilotFake, poll) -> None:
    fake.fail("404")
    fake.upstream.script(billing_path(USER), json={"timePeriod": {"year": 2026}})
    with pytest.raises(BadPayload, match="usageItems"):
        poll(**FALLBACK)


# -- failures ----------------------------------------------------------------------------------


def test_wrong_token_is_auth_failed_with_a_sentence(fake: CopilotFake, poll) -> None:
    with pytest.raises(AuthFailed) as err:
        poll("gho_someone_else")
    assert "HTTP 401" in err.value.message and "gh auth token" in err.value.message


def test_403_names_the_likely_causes(fake: CopilotFake, poll) -> None:
    fake.fail("403")
    with pytest.raises(AuthFailed) as err:
        poll(**FALLBACK)
    assert "no Copilot access" in err.value.message and "gho_" in err.value.message
    assert fake.billing_calls == 0


@pytest.mark.parametrize(
    ("mode", "error"),
    [
        ("429", RateLimitedUpstream),
        ("500", UpstreamUnavailable),
        ("502", UpstreamUnavailable),
        ("html", BadPayload),
        ("malformed", BadPayload),
        ("empty", BadPayload),
    ],
)
def test_upstream_trouble_is_the_mapped_error(
    fake: CopilotFake, poll, mode: str, error: type[ProviderError]
) -> None:
    # test_every_provider checks each mode's error and the recovery; here, with the billing
    # report fallback configured, trouble on copilot_internal/user must not fall back to it.
    fake.fail(mode)
    with pytest.raises(error):
        poll(**FALLBACK)
    assert fake.billing_calls == 0


def test_no_token_reaches_a_message_or_a_log_line(
    fake: CopilotFake, poll, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    messages: list[str] = []
    poll()
    fake.fail("404")
    poll(**FALLBACK)
    for mode in ("403", "404", "html"):
        fake.fail(mode)
        with pytest.raises(ProviderError) as err:
            poll()
        messages.append(err.value.message)
    fake.ok()
    with pytest.raises(AuthFailed) as err:
        poll(f"{TOKEN}-wrong")
    messages.append(err.value.message)
    assert len(messages) == 4
    assert TOKEN not in caplog.text
    assert all(TOKEN not in message for message in messages)


def test_a_registered_github_username_stays_one_path_segment(fake: CopilotFake, poll) -> None:
    # docs/security.md: a registration cannot steer the server to another upstream URL.
    fake.fail("404")
    evil = "../../octo-dev/x?year=1#frag"
    with pytest.raises(ProviderError):
        poll(github_username=evil, plan="pro", now=JUNE_1 - 86400)
    sent = fake.upstream.last()
    assert sent.path == billing_path(quote(evil, safe=""))
    assert sent.query == {"year": "2026", "month": "5"}
