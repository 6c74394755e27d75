"""Fake DeepSeek balance endpoint (GET /user/balance), shapes of docs/providers.md (DeepSeek).

    fake = deepseek_upstream(key="sk-deepseek-test")   # started; stop() it or use `with`
    env = {"QUOTA_SENTINEL_DEEPSEEK_BASE_URL": fake.url}
    fake.set_balance(7.5)                # USD total the next poll sees (spending = climbing usage)
    fake.set_balances({"USD": 3.15, "CNY": 86.4})
    fake.fail("401"); fake.ok()

Only `Authorization: Bearer <key>` is accepted; anything else gets the OpenAI-style 401 body,
which echoes the last four characters of the key that was sent, as the real API does.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tests.upstreams.provider_fake import FAILURE_MODES, ProviderFake
from tests.upstreams.server import Reply, Request

BALANCE_PATH = "/user/balance"

# HTTP 200 whose body is an error object instead of a balance (a proxy or an API change).
DEEPSEEK_FAILURE_MODES = FAILURE_MODES + ("error_envelope",)


class DeepSeekFake(ProviderFake):
    """A DeepSeek account with one balance per currency.

    Args:
        key: the API key the fake accepts after "Bearer ".
        balances: currency → total balance, in answer order; default {"USD": 10.0}.
        is_available: the `is_available` flag.
    """

    path = BALANCE_PATH
    name = "deepseek"

    def __init__(
        self,
        key: str = "sk-deepseek-test-0000abcd",
        *,
        balances: Mapping[str, float] | None = None,
        is_available: bool = True,
    ) -> None:
        super().__init__()
        self.key = key
        self.balances: dict[str, float] = dict(balances or {"USD": 10.0})
        self.is_available = is_available

    def set_balance(self, total: float, currency: str = "USD") -> None:
        """Set one currency's total balance (added at the end if new)."""
        with self._lock:
            self.balances[currency] = total

    def set_balances(self, balances: Mapping[str, float]) -> None:
        """Replace every balance; the order is the answer order."""
        with self._lock:
            self.balances = dict(balances)

    def set_available(self, available: bool) -> None:
        """Set the `is_available` flag."""
        with self._lock:
            self.is_available = available

    def _healthy(self, request: Request) -> Reply:
        with self._lock:
            infos = [
                {
                    "currency": currency,
                    "total_balance": f"{total:.2f}",
                    "granted_balance": "0.00",
                    "topped_up_balance": f"{total:.2f}",
                }
                for currency, total in self.balances.items()
            ]
            return Reply(json={"is_available": self.is_available, "balance_infos": infos})

    def _authorized(self, request: Request) -> bool:
        return request.headers.get("authorization", "") == f"Bearer {self.key}"

    def _unauthorized(self, request: Request) -> Reply:
        sent = request.headers.get("authorization", "").removeprefix("Bearer ")
        message = f"Authentication Fails, Your api key: ****{sent[-4:]} is invalid"
        return Reply(
            status=401,
            json={
                "error": {
                    "message": message,
                    "type": "authentication_error",
                    "code": "invalid_request_error",
                }
            },
        )

    def _extra_failure(self, mode: str) -> Reply | None:
        if mode == "error_envelope":
            return Reply(json={"error": {"message": "Service overloaded", "type": "server_error"}})
        return None


def deepseek_upstream(key: str = "sk-deepseek-test-0000abcd", **kwargs: Any) -> DeepSeekFake:
    """Build and start a DeepSeekFake (keywords as in DeepSeekFake); the caller stops it."""
    return DeepSeekFake(key, **kwargs).start()
