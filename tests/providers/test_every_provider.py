"""What every provider must do, run once per provider from the CASE of its test module."""

from __future__ import annotations

import importlib

import pytest

from quota_sentinel.providers.base import AuthFailed, BadPayload
from quota_sentinel.providers.registry import PROVIDERS
from tests.providers.support import (
    FAILURE_ERRORS,
    Poller,
    ProviderCase,
    assert_actionable,
    check_failure_mode,
)
from tests.upstreams.provider_fake import FAILURE_MODES

# Every provider with a poller has a tests/providers/test_<name>.py with a CASE.
CASES: list[ProviderCase] = [
    importlib.import_module(f"tests.providers.test_{name}").CASE
    for name, info in sorted(PROVIDERS.items())
    if info.module
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_every_mode_has_an_expectation(case: ProviderCase) -> None:
    assert set(FAILURE_MODES) <= set(case.modes)
    assert set(case.modes) <= set(FAILURE_ERRORS) | set(case.errors)
    assert set(case.errors) <= set(case.modes)


@pytest.mark.parametrize(
    ("case", "mode"),
    [pytest.param(case, mode, id=f"{case}-{mode}") for case in CASES for mode in case.modes],
)
def test_every_failure_mode_is_a_typed_error_without_the_key(
    case: ProviderCase, mode: str, poller: Poller, caplog: pytest.LogCaptureFixture
) -> None:
    check_failure_mode(case, mode, poller, caplog)


@pytest.mark.parametrize(
    ("case", "blank"),
    [
        pytest.param(case, blank, id=f"{case}-{label}")
        for case in CASES
        if case.missing
        for label, blank in (("empty", ""), ("space", " "), ("spaces", "  "))
    ],
)
def test_a_missing_key_is_auth_failed_without_a_request(
    case: ProviderCase, blank: str, poller: Poller
) -> None:
    with case.fake() as fake:
        with pytest.raises(AuthFailed) as err:
            poller(case, fake)(blank)
        assert fake.calls == 0
    assert type(err.value) is AuthFailed
    assert_actionable(err.value.message, (case.missing,))


@pytest.mark.parametrize("case", [case for case in CASES if case.oauth], ids=str)
def test_server_mode_refreshes_once_after_a_401(case: ProviderCase, poller: Poller) -> None:
    with case.fake() as fake:
        fake.revoke(case.credentials["access_token"])
        result = poller(case, fake)(refresh="server")
        assert result.credentials["access_token"] == f"{fake.access_prefix}1"
        assert (fake.calls, fake.token_calls) == (2, 1)


# An answer of HTTP 200 that carries none of the fields any provider reads.
UNKNOWN_SHAPE = {"hello": "world", "items": [1, 2, 3], "ok": True}


@pytest.mark.parametrize("case", CASES, ids=str)
def test_an_answer_without_any_known_field_is_an_error_naming_them(
    case: ProviderCase, poller: Poller
) -> None:
    # docs/providers.md, "One rule for every provider": never an empty window set.
    assert case.reads, f"{case} declares no fields it reads"
    with case.fake() as fake:
        fake.serve_body(UNKNOWN_SHAPE)
        with pytest.raises(BadPayload) as err:
            poller(case, fake)()
    message = err.value.message
    assert_actionable(message, case.names)
    assert "without any of the fields quota-sentinel reads" in message
    assert all(field in message for field in case.reads), message


@pytest.mark.parametrize("case", CASES, ids=str)
def test_a_known_field_with_an_unreadable_value_is_an_error_naming_it(
    case: ProviderCase, poller: Poller
) -> None:
    # docs/providers.md, "One rule for every provider": never an invented 0 %.
    assert case.unreadable, f"{case} declares no unreadable answer"
    body, field = case.unreadable
    with case.fake() as fake:
        fake.serve_body(body)
        with pytest.raises(BadPayload) as err:
            poller(case, fake)()
    assert_actionable(err.value.message, case.names)
    assert f"answered {field} with " in err.value.message, err.value.message
