"""DeepSeek prepaid balance from /user/balance as one pseudo-utilization window.

See docs/providers.md (DeepSeek). A balance has no window and no reset, so `balance` reports how
much of a reference balance has been spent: `100 - total / reference * 100`. The currency read is
the configured `currency`, else the one remembered in the account state while it still holds
money, else USD when it holds money, else the currency holding the most. The reference is the
configured `reference_balance`, else the one remembered in the account state, else the first
balance seen; a top-up (balance above the reference) moves the reference up. A zero reference is
never stored: an empty account is 100 % spent until money arrives, which then becomes the
reference.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from quota_sentinel.providers.base import BadPayload, UsageResult, WindowUsage
from quota_sentinel.providers.http import HttpFactory
from quota_sentinel.providers.parsing import (
    api_key_from,
    clamp_pct,
    no_known_fields,
    to_float,
    unreadable,
)

NAME = "deepseek"
BALANCE_PATH = "/user/balance"
WINDOW = "balance"
DEFAULT_CURRENCY = "USD"


def fetch(
    credentials: Mapping[str, Any],
    options: Mapping[str, Any],
    http: HttpFactory,
    state: Mapping[str, Any],
    now: float,
) -> UsageResult:
    """Poll the DeepSeek balance once.

    Args:
        credentials: `{"key": "<API key>"}`; a stored "Bearer " prefix is tolerated.
        options: optional `currency` ("USD", "CNY") and `reference_balance` (amount in that
            currency that counts as 0 % used).
        http: factory `http(base_key) -> HttpClient`; DeepSeek uses base key "deepseek".
        state: the previous UsageResult.state: `{"reference_balance", "currency"}`, or {}.
        now: current time, epoch seconds (unused).

    Returns:
        One `balance` window (utilization in percent spent, resets_at None) and
        `state = {"reference_balance": <amount>, "currency": <code>}` for the caller to store.

    Raises:
        AuthFailed: no key stored, or HTTP 401/403.
        BadPayload: no readable `balance_infos`.
        ProviderError: other HTTP trouble (mapped by providers.http).
    """
    key = api_key_from(credentials, "DeepSeek")
    body = http("deepseek").get_json(
        BALANCE_PATH, headers={"Authorization": f"Bearer {key}", "Accept": "application/json"}
    )
    return parse_balance(body, options, state)


def parse_balance(body: Any, options: Mapping[str, Any], state: Mapping[str, Any]) -> UsageResult:
    """Turn a /user/balance answer into the `balance` window.

    Args:
        body: the decoded JSON answer.
        options: as in `fetch`.
        state: as in `fetch`.

    Returns:
        The UsageResult (see `fetch`).

    Raises:
        BadPayload: no currency with a readable `total_balance`.
    """
    balances = _balances(body)
    currency = _pick_currency(balances, options.get("currency"), state.get("currency"))
    total = balances[currency]
    reference = _reference(total, currency, options, state)
    available = _is_available(body)
    if not available:
        utilization = 100.0
    elif reference <= 0:
        utilization = 100.0 if total <= 0 else 0.0
    else:
        utilization = clamp_pct(100 - total / reference * 100)
    metadata = {
        "total_balance": total,
        "currency": currency,
        "is_available": available,
        "reference_balance": reference,
        # Amounts in different currencies are never added together.
        "other_balances": {cur: amount for cur, amount in balances.items() if cur != currency},
    }
    # A zero reference would read every later balance as "100 % spent" for good.
    state_out = {"currency": currency}
    if reference > 0:
        state_out["reference_balance"] = reference
    return UsageResult(
        windows={WINDOW: WindowUsage(utilization=utilization, resets_at=None, metadata=metadata)},
        state=state_out,
    )


def _balances(body: Any) -> dict[str, float]:
    infos = body.get("balance_infos") if isinstance(body, Mapping) else None
    if not isinstance(infos, list):
        raise no_known_fields("DeepSeek", "/user/balance", ("balance_infos",))
    balances: dict[str, float] = {}
    for index, info in enumerate(infos):
        if not isinstance(info, Mapping):
            raise unreadable("DeepSeek", f"balance_infos[{index}]", info, "an object")
        currency = str(info.get("currency") or "").strip().upper()
        value = info.get("total_balance")
        total = to_float(value)  # a decimal string such as "3.15"
        if total is None:
            raise unreadable("DeepSeek", f"balance_infos[{index}].total_balance", value)
        if currency and currency not in balances:
            balances[currency] = total
    if not balances:
        raise BadPayload(
            "DeepSeek answered balance_infos without any balance in a named currency; the API "
            "may have changed (`quota-sentinel probe --raw` shows the answer)."
        )
    return balances


def _pick_currency(balances: Mapping[str, float], wanted: Any, remembered: Any) -> str:
    if isinstance(wanted, str) and wanted.strip().upper() in balances:
        return wanted.strip().upper()
    # Read the currency that holds the money: a USD 0.00 beside CNY 160.13 is a funded account.
    if isinstance(remembered, str) and balances.get(remembered, 0.0) > 0:
        return remembered
    if balances.get(DEFAULT_CURRENCY, 0.0) > 0:
        return DEFAULT_CURRENCY
    funded = [(amount, cur) for cur, amount in balances.items() if amount > 0]
    if funded:
        return max(funded)[1]
    return DEFAULT_CURRENCY if DEFAULT_CURRENCY in balances else next(iter(balances))


def _reference(
    total: float, currency: str, options: Mapping[str, Any], state: Mapping[str, Any]
) -> float:
    reference = to_float(options.get("reference_balance"))
    if reference is None:
        # A remembered reference in another currency means nothing for this one.
        stored_currency = state.get("currency")
        if stored_currency in (None, currency):
            reference = to_float(state.get("reference_balance"))
    if reference is None or reference <= 0:
        reference = total
    return max(reference, total)


def _is_available(body: Mapping[str, Any]) -> bool:
    # Only an explicit "false" marks the account unusable; a missing flag is not evidence.
    value = body.get("is_available")
    return not (value is False or (isinstance(value, str) and value.strip().lower() == "false"))
