"""providers.deepseek against the fake DeepSeek balance endpoint."""

from __future__ import annotations

import json
from typing import Any

import pytest

from quota_sentinel.providers import deepseek
from quota_sentinel.providers.base import AuthFailed, BadPayload
from tests.providers.support import ProviderCase
from tests.upstreams.deepseek import BALANCE_PATH, DEEPSEEK_FAILURE_MODES, DeepSeekFake

KEY = "sk-deepseek-test-0000abcd"

# The fake: a balance of 10 USD. Its 401 echoes the last four characters of the key.
CASE = ProviderCase.keyed(
    deepseek.fetch,
    DeepSeekFake,
    KEY,
    window="balance",
    names=("DeepSeek",),
    modes=DEEPSEEK_FAILURE_MODES,
    errors={"error_envelope": BadPayload},
    reads=("balance_infos",),
    unreadable=(
        {"is_available": True, "balance_infos": [{"currency": "USD", "total_balance": "?"}]},
        "balance_infos[0].total_balance",
    ),
)


def test_first_poll_takes_the_balance_as_reference(fake: DeepSeekFake, poll) -> None:
    result = poll()
    window = result.windows["balance"]
    assert list(result.windows) == ["balance"]
    assert (window.utilization, window.resets_at) == (0.0, None)
    assert window.metadata == {
        "total_balance": 10.0,
        "currency": "USD",
        "is_available": True,
        "reference_balance": 10.0,
        "other_balances": {},
    }
    assert result.state == {"reference_balance": 10.0, "currency": "USD"}
    assert fake.upstream.last(BALANCE_PATH).headers["authorization"] == f"Bearer {KEY}"


def test_spending_against_the_stored_reference_climbs(fake: DeepSeekFake, poll) -> None:
    state = poll().state
    fake.set_balance(7.5)
    result = poll(state=state)
    assert result.windows["balance"].utilization == pytest.approx(25.0)
    assert result.state == {"reference_balance": 10.0, "currency": "USD"}


def test_usd_is_preferred_and_other_currencies_go_to_metadata(fake: DeepSeekFake, poll) -> None:
    fake.set_balances({"CNY": 86.4, "USD": 3.15})
    window = poll().windows["balance"]
    assert (window.metadata["currency"], window.metadata["total_balance"]) == ("USD", 3.15)
    assert window.metadata["other_balances"] == {"CNY": 86.4}


def test_configured_currency_wins(fake: DeepSeekFake, poll) -> None:
    fake.set_balances({"USD": 3.15, "CNY": 86.4})
    result = poll(currency="cny")
    assert result.windows["balance"].metadata["currency"] == "CNY"
    assert result.windows["balance"].metadata["other_balances"] == {"USD": 3.15}
    assert result.state == {"reference_balance": 86.4, "currency": "CNY"}


def test_first_currency_when_usd_is_absent(fake: DeepSeekFake, poll) -> None:
    fake.set_balances({"CNY": 50.0, "EUR": 5.0})
    assert poll().windows["balance"].metadata["currency"] == "CNY"


def test_configured_reference_balance(fake: DeepSeekFake, poll) -> None:
    fake.set_balance(5.0)
    result = poll(reference_balance="20", state={"reference_balance": 6.0})
    assert result.windows["balance"].utilization == pytest.approx(75.0)
    assert result.state == {"reference_balance": 20.0, "currency": "USD"}


def test_top_up_raises_the_reference(fake: DeepSeekFake, poll) -> None:
    fake.set_balance(25.0)
    result = poll(state={"reference_balance": 10.0, "currency": "USD"})
    assert result.windows["balance"].utilization == 0.0
    assert result.state == {"reference_balance": 25.0, "currency": "USD"}


def test_reference_stored_for_another_currency_is_ignored(fake: DeepSeekFake, poll) -> None:
    fake.set_balance(4.0)
    result = poll(state={"reference_balance": 500.0, "currency": "CNY"})
    assert result.windows["balance"].utilization == 0.0
    assert result.state == {"reference_balance": 4.0, "currency": "USD"}


def test_unavailable_account_is_fully_used(fake: DeepSeekFake, poll) -> None:
    fake.set_available(False)
    window = poll().windows["balance"]
    assert window.utilization == 100.0 and window.metadata["is_available"] is False


def test_zero_reference_is_fully_used_when_empty(fake: DeepSeekFake, poll) -> None:
    fake.set_balance(0.0)
    assert poll(reference_balance=0).windows["balance"].utilization == 100.0


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"is_available": True, "balance_infos": []}, "balance_infos without any balance"),
        ({"is_available": True}, "the fields quota-sentinel reads (balance_infos)"),
        (
            {"is_available": True, "balance_infos": [{"currency": "USD", "total_balance": "n/a"}]},
            "balance_infos[0].total_balance with text, not a number",
        ),
        ({"error": {"message": "Service overloaded"}}, "quota-sentinel reads (balance_infos)"),
    ],
)
def test_no_readable_balance_is_a_bad_payload_naming_the_field(
    fake: DeepSeekFake, poll, body: Any, says: str
) -> None:
    fake.upstream.script(BALANCE_PATH, json=body)
    with pytest.raises(BadPayload) as err:
        poll()
    assert err.value.message.startswith("DeepSeek answered ")
    assert says in err.value.message


def test_a_funded_currency_is_read_beside_an_empty_usd(fake: DeepSeekFake, poll) -> None:
    fake.set_balances({"USD": 0.0, "CNY": 160.13})
    result = poll()
    window = result.windows["balance"]
    assert window.metadata["currency"] == "CNY" and window.metadata["other_balances"] == {
        "USD": 0.0
    }
    assert window.utilization == 0.0
    assert result.state == {"reference_balance": 160.13, "currency": "CNY"}
    fake.set_balances({"USD": 0.0, "CNY": 40.03})
    spent = poll(state=result.state).windows["balance"].utilization
    assert spent == pytest.approx(100 - 40.03 / 160.13 * 100)


def test_a_zero_reference_is_never_stored_and_a_stored_one_is_ignored(
    fake: DeepSeekFake, poll
) -> None:
    fake.set_balances({"USD": 0.0})
    empty = poll()
    assert empty.windows["balance"].utilization == 100.0
    assert empty.state == {"currency": "USD"}
    # The money arrives (and an older version had stored a reference of 0): read against it.
    fake.set_balances({"USD": 12.0})
    funded = poll(state={"reference_balance": 0.0, "currency": "USD"})
    assert funded.windows["balance"].utilization == 0.0
    assert funded.state == {"reference_balance": 12.0, "currency": "USD"}
    # A USD 0.00 remembered from the broken read does not hold the account in USD.
    fake.set_balances({"USD": 0.0, "CNY": 160.13})
    moved = poll(state={"reference_balance": 0.0, "currency": "USD"})
    assert moved.windows["balance"].metadata["currency"] == "CNY"
    assert moved.windows["balance"].utilization == 0.0


def test_rejected_key_does_not_leak_the_masked_key(fake: DeepSeekFake, poll) -> None:
    wrong = "sk-wrong-key-9999wxyz"
    with pytest.raises(AuthFailed) as err:
        poll(wrong)
    assert fake.upstream.last(BALANCE_PATH).headers["authorization"] == f"Bearer {wrong}"
    assert err.value.message == (
        "DeepSeek rejected the credential (HTTP 401); check the key or replace it."
    )
    assert "wxyz" not in str(err.value) and "****" not in str(err.value)


def test_stored_bearer_prefix_is_not_doubled(fake: DeepSeekFake, poll) -> None:
    poll(f"Bearer {KEY}")
    assert fake.upstream.last(BALANCE_PATH).headers["authorization"] == f"Bearer {KEY}"


def test_reference_survives_a_restart_as_plain_json(fake: DeepSeekFake, poll_of) -> None:
    first = poll_of(fake)()
    stored = json.loads(json.dumps(first.state))  # what Redis keeps between processes
    fake.set_balance(4.0)
    result = poll_of(fake)(state=stored)  # a fresh client, as after a restart
    assert result.windows["balance"].utilization == pytest.approx(60.0)


def test_after_a_top_up_spending_counts_against_the_new_reference(fake: DeepSeekFake, poll) -> None:
    state = poll().state  # reference 10
    fake.set_balance(5.0)
    state = poll(state=state).state
    fake.set_balance(40.0)  # topped up by 35
    topped = poll(state=state)
    assert topped.windows["balance"].utilization == 0.0
    assert topped.state == {"reference_balance": 40.0, "currency": "USD"}
    fake.set_balance(30.0)
    assert poll(state=topped.state).windows["balance"].utilization == pytest.approx(25.0)


def test_numbers_lower_case_currency_and_string_flags(fake: DeepSeekFake, poll) -> None:
    fake.upstream.script(
        BALANCE_PATH,
        json={
            "is_available": "false",
            "balance_infos": [
                {"currency": "cny", "total_balance": 86.4},
                {"currency": "usd", "total_balance": 3},
                {"currency": "USD", "total_balance": "999"},
            ],
        },
    )
    window = poll().windows["balance"]
    assert (window.metadata["currency"], window.metadata["total_balance"]) == ("USD", 3.0)
    assert window.metadata["other_balances"] == {"CNY": 86.4}
    assert window.utilization == 100.0 and window.metadata["is_available"] is False
