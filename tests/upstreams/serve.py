"""A runnable dev fake: Z.ai and DeepSeek on ONE loopback port, steered by a small control API.

For trying quota-sentinel by hand (README, development section)::

    python -m tests.upstreams.serve --port 9100
    QUOTA_SENTINEL_ZAI_BASE_URL=http://127.0.0.1:9100 \\
    QUOTA_SENTINEL_DEEPSEEK_BASE_URL=http://127.0.0.1:9100 make run

Both providers' real paths are served on the same port (their paths differ), so one process and
one base URL cover both:

    GET  /api/monitor/usage/quota/limit   Z.ai quota windows (docs/providers.md (Z.ai))
    GET  /user/balance                    DeepSeek balance (docs/providers.md (DeepSeek))

Any non-empty key is accepted unless `--zai-key` / `--deepseek-key` name the only valid one.

Control endpoints (JSON bodies; each answers with the state of both fakes):

    GET  /_fake                      the current state
    POST /_fake/zai                  {"five_hour": 85, "weekly": 40, "mcp_used": 300,
                                      "ramp_per_min": 2, "reset_5h_in_min": 240,
                                      "reset_weekly_in_min": 5000}
    POST /_fake/zai/fail             {"mode": "500", "retry_after": "30", "hang_s": 30}
    POST /_fake/zai/ok               answer normally again
    POST /_fake/deepseek             {"balance": 3.5, "currency": "USD", "available": true,
                                      "drain_per_min": 0.5}
    POST /_fake/deepseek/fail        {"mode": "401"}
    POST /_fake/deepseek/ok

`ramp_per_min` makes the 5h utilization climb by that many points per minute from the value
set with it (until 100), and `drain_per_min` lowers the balance likewise: the way to watch a
provider go GREEN → YELLOW → RED, since YELLOW needs a measured burn rate. Failure modes are
those of tests/upstreams (401, 403, 429, 429_no_retry_after, 500, 502, 503, html, malformed,
empty, hang, and auth_envelope / error_envelope for Z.ai, error_envelope for DeepSeek).
"""

from __future__ import annotations

import argparse
import signal
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from tests.upstreams.deepseek import BALANCE_PATH, DEEPSEEK_FAILURE_MODES, DeepSeekFake
from tests.upstreams.server import FakeUpstream, Reply, Request
from tests.upstreams.zai import QUOTA_PATH, ZAI_FAILURE_MODES, ZaiFake

DEFAULT_PORT = 9100
_MIN_S = 60.0

Clock = Callable[[], float]


class BadControl(ValueError):
    """A control request that cannot be applied; its text is sent back with HTTP 400."""


class DevZai(ZaiFake):
    """The Z.ai fake with a dev-friendly key rule, clock-relative resets and a climbing 5h window.

    Args:
        key: the only key accepted, or None to accept any non-empty one.
        clock: epoch seconds now (time.time; tests pass their settable clock).
    """

    def __init__(self, key: str | None = None, clock: Clock = time.time) -> None:
        super().__init__(key or "")
        self.accept_any = key is None
        self.clock = clock
        now = clock()
        self.reset_5h_ms = int((now + 5 * 3600) * 1000)
        self.reset_weekly_ms = int((now + 6 * 86400) * 1000)
        self.reset_mcp_ms = int((now + 25 * 86400) * 1000)
        self.ramp_per_min = 0.0
        self._ramp_from = (self.five_hour, now)

    def set_ramp(self, per_min: float) -> None:
        """Climb the 5h window by `per_min` points per minute from its current value."""
        with self._lock:
            self.five_hour = self.current_five_hour()
            self.ramp_per_min = per_min
            self._ramp_from = (self.five_hour, self.clock())

    def set_five_hour(self, value: float) -> None:
        """Set the 5h utilization now; a running ramp continues from this value."""
        with self._lock:
            self.five_hour = value
            self._ramp_from = (value, self.clock())

    def current_five_hour(self) -> float:
        with self._lock:
            start, since = self._ramp_from
            if not self.ramp_per_min:
                return self.five_hour
            climbed = start + self.ramp_per_min * (self.clock() - since) / _MIN_S
            return max(0.0, min(100.0, climbed))

    def limits(self) -> list[Any]:
        with self._lock:
            self.five_hour = self.current_five_hour()
            return super().limits()

    def _authorized(self, request: Request) -> bool:
        if not self.accept_any:
            return super()._authorized(request)
        value = request.headers.get("authorization", "").strip()
        return bool(value.removeprefix("Bearer ").strip())


class DevDeepSeek(DeepSeekFake):
    """The DeepSeek fake with a dev-friendly key rule and an optional steady spend.

    Args:
        key: the only key accepted, or None to accept any non-empty one.
        clock: epoch seconds now.
    """

    def __init__(self, key: str | None = None, clock: Clock = time.time) -> None:
        super().__init__(key or "")
        self.accept_any = key is None
        self.clock = clock
        self.drain_per_min = 0.0
        self.currency = "USD"
        self._drain_from = (self.balances[self.currency], clock())

    def set_spend(self, balance: float, currency: str, drain_per_min: float) -> None:
        with self._lock:
            self.currency = currency
            self.balances[currency] = balance
            self.drain_per_min = drain_per_min
            self._drain_from = (balance, self.clock())

    def current_balance(self) -> float:
        with self._lock:
            start, since = self._drain_from
            if not self.drain_per_min:
                return self.balances.get(self.currency, start)
            return max(0.0, start - self.drain_per_min * (self.clock() - since) / _MIN_S)

    def _healthy(self, request: Request) -> Reply:
        with self._lock:
            self.balances[self.currency] = self.current_balance()
            return super()._healthy(request)

    def _authorized(self, request: Request) -> bool:
        if not self.accept_any:
            return super()._authorized(request)
        value = request.headers.get("authorization", "")
        return bool(value.removeprefix("Bearer ").strip())


def _number(body: dict[str, Any], name: str, low: float, high: float) -> float | None:
    if name not in body:
        return None
    value = body[name]
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise BadControl(f"{name} must be a number from {low:g} to {high:g}.")
    return float(value)


class DevServer:
    """Both dev fakes and the control API behind one FakeUpstream on a chosen address.

    Args:
        host: bind address.
        port: TCP port; 0 picks a free one (see `url` after `start()`).
        zai_key / deepseek_key: the only key each accepts, or None for any non-empty key.
        clock: epoch seconds now, for ramps and resets.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = DEFAULT_PORT,
        *,
        zai_key: str | None = None,
        deepseek_key: str | None = None,
        clock: Clock = time.time,
    ) -> None:
        self.address = (host, port)
        self.clock = clock
        self.zai = DevZai(zai_key, clock)
        self.deepseek = DevDeepSeek(deepseek_key, clock)
        self.upstream = FakeUpstream(name="dev-fake")
        routes: dict[tuple[str, str], Callable[[Request], Reply]] = {
            ("GET", QUOTA_PATH): self.zai._serve,
            ("GET", BALANCE_PATH): self.deepseek._serve,
            ("GET", "/_fake"): lambda request: Reply(json=self.state()),
            ("POST", "/_fake/zai"): self._control(self._set_zai),
            ("POST", "/_fake/zai/fail"): self._control(self._fail(self.zai, ZAI_FAILURE_MODES)),
            ("POST", "/_fake/zai/ok"): self._control(lambda body: self.zai.ok()),
            ("POST", "/_fake/deepseek"): self._control(self._set_deepseek),
            ("POST", "/_fake/deepseek/fail"): self._control(
                self._fail(self.deepseek, DEEPSEEK_FAILURE_MODES)
            ),
            ("POST", "/_fake/deepseek/ok"): self._control(lambda body: self.deepseek.ok()),
        }
        for (method, path), handler in routes.items():
            self.upstream.route(method, path, handler)

    # -- life cycle ----------------------------------------------------------------------------

    def start(self) -> DevServer:
        """Bind the address and serve in a daemon thread; returns self."""
        self.upstream.serve_on(self.address)
        return self

    def stop(self) -> None:
        self.upstream.stop()

    def __enter__(self) -> DevServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        host = self.address[0]
        shown = "127.0.0.1" if host in ("", "0.0.0.0") else host
        return f"http://{shown}:{self.upstream.port}"

    # -- control -------------------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        zai, deepseek = self.zai, self.deepseek
        return {
            "zai": {
                "five_hour": round(zai.current_five_hour(), 2),
                "weekly": zai.weekly,
                "mcp_used": zai.mcp_used,
                "ramp_per_min": zai.ramp_per_min,
                "reset_5h_in_min": round((zai.reset_5h_ms / 1000 - self.clock()) / _MIN_S, 1),
                "failure": zai._mode,
                "calls": self.upstream.count(QUOTA_PATH),
            },
            "deepseek": {
                "balance": round(deepseek.current_balance(), 4),
                "currency": deepseek.currency,
                "available": deepseek.is_available,
                "drain_per_min": deepseek.drain_per_min,
                "failure": deepseek._mode,
                "calls": self.upstream.count(BALANCE_PATH),
            },
        }

    def _control(self, apply: Callable[[dict[str, Any]], None]) -> Callable[[Request], Reply]:
        def handle(request: Request) -> Reply:
            try:
                body = request.json() if request.body.strip() else {}
            except ValueError:
                return Reply(status=400, json={"error": "The body must be JSON."})
            if not isinstance(body, dict):
                return Reply(status=400, json={"error": "The body must be a JSON object."})
            try:
                apply(body)
            except BadControl as exc:
                return Reply(status=400, json={"error": str(exc)})
            return Reply(json=self.state())

        return handle

    def _set_zai(self, body: dict[str, Any]) -> None:
        five_hour = _number(body, "five_hour", 0, 100)
        weekly = _number(body, "weekly", 0, 100)
        mcp_used = _number(body, "mcp_used", 0, self.zai.mcp_total)
        ramp = _number(body, "ramp_per_min", -100, 100)
        now = self.clock()
        resets = {}
        for name in ("reset_5h_in_min", "reset_weekly_in_min"):
            minutes = _number(body, name, 0, 60 * 24 * 31)
            if minutes is not None:
                resets[name] = int((now + minutes * _MIN_S) * 1000)
        self.zai.set_usage(
            weekly=weekly,
            mcp_used=int(mcp_used) if mcp_used is not None else None,
            reset_5h_ms=resets.get("reset_5h_in_min"),
            reset_weekly_ms=resets.get("reset_weekly_in_min"),
        )
        if five_hour is not None:
            self.zai.set_five_hour(five_hour)
        if ramp is not None:
            self.zai.set_ramp(ramp)

    def _set_deepseek(self, body: dict[str, Any]) -> None:
        balance = _number(body, "balance", 0, 1e9)
        drain = _number(body, "drain_per_min", 0, 1e6)
        currency = body.get("currency", self.deepseek.currency)
        if not isinstance(currency, str) or not currency.strip():
            raise BadControl("currency must be a code such as USD or CNY.")
        if "available" in body:
            if not isinstance(body["available"], bool):
                raise BadControl("available must be true or false.")
            self.deepseek.set_available(body["available"])
        current = self.deepseek.current_balance()
        self.deepseek.set_spend(
            current if balance is None else balance,
            currency.strip().upper(),
            self.deepseek.drain_per_min if drain is None else drain,
        )

    @staticmethod
    def _fail(fake: ZaiFake | DeepSeekFake, modes: Sequence[str]):
        def apply(body: dict[str, Any]) -> None:
            mode = body.get("mode")
            if mode not in modes:
                raise BadControl(f"mode must be one of: {', '.join(modes)}.")
            retry_after = str(body.get("retry_after", "30"))
            hang_s = _number(body, "hang_s", 0, 3600)
            fake.fail(mode, retry_after=retry_after, hang_s=30.0 if hang_s is None else hang_s)

        return apply


def main(argv: Sequence[str] | None = None) -> None:
    """`python -m tests.upstreams.serve [--host H] [--port P] [--zai-key K] [--deepseek-key K]`."""
    parser = argparse.ArgumentParser(
        prog="python -m tests.upstreams.serve",
        description="Fake Z.ai and DeepSeek upstreams on one port, with a /_fake control API.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="port; 0 picks a free one")
    parser.add_argument("--zai-key", help="the only Z.ai key accepted (default: any)")
    parser.add_argument("--deepseek-key", help="the only DeepSeek key accepted (default: any)")
    args = parser.parse_args(argv)
    server = DevServer(
        args.host, args.port, zai_key=args.zai_key, deepseek_key=args.deepseek_key
    ).start()
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    print(f"fake upstreams on {server.url}", flush=True)
    print(f"  QUOTA_SENTINEL_ZAI_BASE_URL={server.url}", flush=True)
    print(f"  QUOTA_SENTINEL_DEEPSEEK_BASE_URL={server.url}", flush=True)
    print(
        f"  steer: curl -X POST {server.url}/_fake/zai -d '{{\"five_hour\": 85}}'",
        flush=True,
    )
    try:
        stop.wait()
    finally:
        server.stop()


if __name__ == "__main__":
    main()
