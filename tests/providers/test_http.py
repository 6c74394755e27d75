"""providers.http against a real loopback server: decoding, retries and the error mapping."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from email.utils import format_datetime

import pytest

import quota_sentinel
from quota_sentinel.providers.base import (
    AuthFailed,
    BadPayload,
    ProviderError,
    RateLimitedUpstream,
    UpstreamUnavailable,
)
from quota_sentinel.providers.http import ClientFactory, HttpClient, client_for, parse_retry_after
from tests.upstreams.server import FakeUpstream, Reply

SECRET = "sk-planted-secret-7f3a9c"
PATH = "/api/usage"


@pytest.fixture
def fake(upstream: FakeUpstream) -> FakeUpstream:
    upstream.route("GET", PATH, lambda request: Reply(json={"ok": True, "n": 1}))
    upstream.route("POST", PATH, lambda request: Reply(json={"echo": request.json()}))
    return upstream


@pytest.fixture
def client(fake: FakeUpstream) -> Iterator[HttpClient]:
    with HttpClient("zai", fake.url, 2.0) as http:
        yield http


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_get_json_returns_the_decoded_body(client: HttpClient, fake: FakeUpstream) -> None:
    assert client.get_json(PATH, params={"a": "1"}) == {"ok": True, "n": 1}
    assert fake.last(PATH).query == {"a": "1"}


def test_post_json_sends_a_json_body(client: HttpClient) -> None:
    assert client.post_json(PATH, json={"x": [1, 2]}) == {"echo": {"x": [1, 2]}}


def test_default_user_agent_names_the_project_and_version(
    client: HttpClient, fake: FakeUpstream
) -> None:
    client.get_json(PATH)
    assert fake.last().headers["user-agent"] == f"quota-sentinel/{quota_sentinel.__version__}"


def test_user_agent_can_be_replaced(fake: FakeUpstream) -> None:
    with HttpClient("claude", fake.url, 2.0, user_agent="claude-code/2.1.69") as http:
        http.get_json(PATH)
    assert fake.last().headers["user-agent"] == "claude-code/2.1.69"


def test_timeout_maps_to_unavailable_when_upstream_hangs(fake: FakeUpstream) -> None:
    fake.script(PATH, json={"ok": True}, delay_s=2.0)
    started = time.monotonic()
    with HttpClient("deepseek", fake.url, 0.3) as http, pytest.raises(UpstreamUnavailable) as err:
        http.get_json(PATH)
    assert err.value.message == "DeepSeek did not answer within 0.3 s."
    # Three attempts cut at 0.3 s each plus 0.4 s backoff (~1.3 s); three full hangs would be 6 s.
    assert time.monotonic() - started < 4.0
    assert fake.count(PATH) == 3


def test_connection_refused_names_host_and_port_only() -> None:
    port = _free_port()
    with HttpClient("zai", f"http://127.0.0.1:{port}", 1.0) as http:
        with pytest.raises(UpstreamUnavailable) as err:
            http.get_json("/private/path", params={"token": SECRET})
    assert f"127.0.0.1:{port}" in err.value.message
    assert "could not be reached" in err.value.message
    assert "/private" not in err.value.message and SECRET not in err.value.message


@pytest.mark.parametrize("status", [401, 403])
def test_rejected_credential_maps_to_auth_failed(
    client: HttpClient, fake: FakeUpstream, status: int
) -> None:
    fake.script(PATH, status=status, json={"error": "nope"})
    with pytest.raises(AuthFailed) as err:
        client.get_json(PATH)
    assert err.value.message == (
        f"Z.ai rejected the credential (HTTP {status}); check the key or replace it."
    )
    assert fake.count(PATH) == 1


@pytest.mark.parametrize(("header", "expected"), [("17", 17.0), ("0", 0.0), (None, None)])
def test_429_maps_to_rate_limited_with_retry_after(
    client: HttpClient, fake: FakeUpstream, header: str | None, expected: float | None
) -> None:
    fake.script(PATH, status=429, json={}, headers={"Retry-After": header} if header else {})
    with pytest.raises(RateLimitedUpstream) as err:
        client.get_json(PATH)
    assert err.value.retry_after_s == expected
    # The scheduler owns the backoff for 429; the session does not retry it.
    assert fake.count(PATH) == 1


def test_500_maps_to_unavailable_without_retry(client: HttpClient, fake: FakeUpstream) -> None:
    fake.script(PATH, status=500, json={"error": "boom"})
    with pytest.raises(UpstreamUnavailable) as err:
        client.get_json(PATH)
    assert "HTTP 500" in err.value.message
    assert fake.count(PATH) == 1


def test_503_is_retried_twice_then_maps_to_unavailable(
    client: HttpClient, fake: FakeUpstream
) -> None:
    fake.script(PATH, status=503, json={})
    with pytest.raises(UpstreamUnavailable) as err:
        client.get_json(PATH)
    assert "HTTP 503" in err.value.message
    assert fake.count(PATH) == 3


def test_a_single_502_is_absorbed_by_the_retry(client: HttpClient, fake: FakeUpstream) -> None:
    fake.script(PATH, status=502, json={}, times=1)
    assert client.get_json(PATH) == {"ok": True, "n": 1}
    assert fake.count(PATH) == 2


def test_post_is_not_retried_on_503(client: HttpClient, fake: FakeUpstream) -> None:
    fake.script(PATH, method="POST", status=503, json={})
    with pytest.raises(UpstreamUnavailable):
        client.post_json(PATH, json={})
    assert fake.count(PATH, method="POST") == 1


def test_other_4xx_maps_to_provider_error_with_status(client: HttpClient) -> None:
    with pytest.raises(ProviderError) as err:
        client.get_json("/no/such/route")
    assert type(err.value) is ProviderError
    assert err.value.message == "Z.ai refused the request with HTTP 404."
    assert err.value.status == 404


def test_a_redirect_is_not_followed_and_reads_as_a_rejected_credential(
    client: HttpClient, fake: FakeUpstream
) -> None:
    fake.route("GET", "/login", lambda request: Reply(body="<html>log in</html>"))
    fake.script(PATH, status=302, headers={"Location": fake.url + "/login"}, json=None)
    with pytest.raises(AuthFailed) as err:
        client.get_json(PATH)
    assert err.value.status == 302
    assert "redirected the request (HTTP 302)" in err.value.message
    assert fake.count("/login") == 0


@pytest.mark.parametrize(
    ("body", "content_type", "described"),
    [
        ("<!DOCTYPE html><html><body>Just a moment…</body></html>", "text/html", "looks like HTML"),
        (b"", "application/json", "an empty body"),
        ('{"limits": [{"type": "TOK', "application/json", "malformed or truncated JSON"),
    ],
)
def test_non_json_2xx_maps_to_bad_payload(
    client: HttpClient, fake: FakeUpstream, body: str | bytes, content_type: str, described: str
) -> None:
    fake.script(PATH, body=body, content_type=content_type)
    with pytest.raises(BadPayload) as err:
        client.get_json(PATH)
    assert err.value.message.startswith(
        f"Z.ai answered with something that is not JSON ({described})"
    )


@pytest.mark.parametrize(
    "reply",
    [
        Reply(status=401, json={"error": f"bad key {SECRET}"}),
        Reply(status=429, json={"error": SECRET}, headers={"Retry-After": "5"}),
        Reply(status=500, body=f"Internal error for {SECRET}", content_type="text/plain"),
        Reply(status=200, body=f"<html>{SECRET}</html>", content_type="text/html"),
        Reply(status=200, json={"ok": True}, delay_s=1.0),
    ],
    ids=["401", "429", "500", "html", "timeout"],
)
def test_planted_credential_never_reaches_messages_or_logs(
    fake: FakeUpstream, caplog: pytest.LogCaptureFixture, reply: Reply
) -> None:
    caplog.set_level(logging.DEBUG)
    fake.script(PATH, reply)
    with HttpClient("zai", fake.url, 0.3) as http, pytest.raises(ProviderError) as err:
        http.get_json(PATH, headers={"Authorization": f"Bearer {SECRET}"})
    assert fake.last(PATH).headers["authorization"] == f"Bearer {SECRET}"
    assert SECRET not in str(err.value) and SECRET not in err.value.message
    assert SECRET not in caplog.text
    assert any(r.name == "quota_sentinel.providers.http" for r in caplog.records)


def test_query_string_stays_out_of_our_messages_and_log_lines(
    fake: FakeUpstream, caplog: pytest.LogCaptureFixture
) -> None:
    # urllib3 itself logs request lines with their query at DEBUG, so only our own logger is
    # checked here; no provider puts a credential in a query string.
    caplog.set_level(logging.DEBUG)
    fake.script(PATH, status=503, json={})
    with HttpClient("zai", fake.url, 1.0) as http, pytest.raises(UpstreamUnavailable) as err:
        http.get_json(PATH, params={"k": SECRET})
    ours = [r.getMessage() for r in caplog.records if r.name.startswith("quota_sentinel")]
    assert ours and not any(SECRET in line or "?" in line for line in ours)
    assert SECRET not in err.value.message


def test_planted_credential_stays_out_of_connection_errors(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    with HttpClient("zai", f"http://127.0.0.1:{_free_port()}", 0.5) as http:
        with pytest.raises(UpstreamUnavailable) as err:
            http.get_json(PATH, headers={"Authorization": SECRET})
    assert SECRET not in str(err.value) and SECRET not in caplog.text


def test_client_for_reads_base_url_and_timeout_from_settings(make_settings, fake) -> None:
    settings = make_settings(zai_cn=fake.url)
    with client_for("zai", settings, base_key="zai_cn") as http:
        assert http.base_url == fake.url
        assert http.timeout == (2.0, 2.0)
        assert http.get_json(PATH) == {"ok": True, "n": 1}
    with client_for("deepseek", settings) as http:
        assert http.base_url == "https://api.deepseek.com"


def test_connect_timeout_is_capped_at_three_seconds() -> None:
    with HttpClient("zai", "http://127.0.0.1:9", 10.0) as http:
        assert http.timeout == (3.0, 10.0)


def test_client_factory_reuses_one_client_per_base_key(make_settings, fake) -> None:
    factory = ClientFactory("zai", make_settings(zai=fake.url))
    try:
        assert factory("zai") is factory("zai")
        assert factory("zai") is not factory("zai_cn")
        assert factory("zai_cn").base_url == "https://open.bigmodel.cn"
    finally:
        factory.close()


def test_parse_retry_after_reads_seconds_and_http_dates() -> None:
    now = datetime(2026, 5, 14, 12, 0, tzinfo=UTC).timestamp()
    later = format_datetime(datetime(2026, 5, 14, 12, 1, 30, tzinfo=UTC), usegmt=True)
    earlier = format_datetime(datetime(2026, 5, 14, 11, 0, tzinfo=UTC), usegmt=True)
    assert parse_retry_after(" 120 ", now) == 120.0
    assert parse_retry_after(later, now) == 90.0
    assert parse_retry_after(earlier, now) == 0.0
    assert parse_retry_after(None, now) is None
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after("-5", now) is None
