"""Receivers from QUOTA_SENTINEL_WEBHOOKS, their filters, each service's format on the wire, and
`quota-sentinel alerts test` against real loopback receivers."""

from __future__ import annotations

import time

import pytest
from click.testing import CliRunner

from quota_sentinel.alerts.delivery import DeliveryFailed, send
from quota_sentinel.alerts.payloads import sign, verify
from quota_sentinel.alerts.receivers import parse_receivers
from quota_sentinel.cli import main
from quota_sentinel.config import Settings
from quota_sentinel.errors import ConfigError
from quota_sentinel.services.alerts import sample_alert
from tests.alerts.conftest import HOOK, SECRET


def test_prefixes_pick_the_format_and_the_fragment_holds_the_filters():
    hooks = parse_receivers(
        "https://example.test/a,slack+https://hooks.slack.test/services/T/B/x#min=warning,"
        " discord+https://discord.test/api/webhooks/1/y#providers=zai+claude,"
        "ntfy+https://ntfy.test/topic#min=critical&providers=deepseek"
    )

    assert [h.kind for h in hooks] == ["generic", "slack", "discord", "ntfy"]
    assert hooks[1].url == "https://hooks.slack.test/services/T/B/x"
    assert hooks[1].label == "slack hooks.slack.test"
    assert hooks[1].wants("warning", "zai") and not hooks[1].wants("info", "zai")
    assert hooks[2].wants("info", "claude") and not hooks[2].wants("critical", "kimi")
    assert hooks[3].wants("critical", "deepseek") and not hooks[3].wants("warning", "deepseek")
    assert "services" not in repr(hooks[1])


@pytest.mark.parametrize(
    "value",
    ["ftp://x.test/hook", "slack+hooks.slack.test/secret", "https://x.test/h#min=loud"],
)
def test_a_bad_webhook_stops_start_up_without_repeating_the_url(value):
    with pytest.raises(ConfigError) as raised:
        Settings.from_env({"QUOTA_SENTINEL_WEBHOOKS": "https://ok.test/h," + value})

    assert raised.value.message.startswith("QUOTA_SENTINEL_WEBHOOKS entry 2 ")
    assert "x.test" not in raised.value.message and "secret" not in raised.value.message


def test_each_format_on_the_wire(receivers):
    base = receivers.ok.url + HOOK
    hooks = parse_receivers(f"slack+{base},discord+{base},ntfy+{base},{base}")
    now = time.time()
    alert = sample_alert(now)

    for hook in hooks:
        assert send(hook, alert, SECRET, 5, now) == 200

    slack, discord, ntfy, generic = receivers.posts(receivers.ok)
    assert slack.json()["text"].endswith(alert["message"])
    assert discord.json() == {"content": alert["message"], "allowed_mentions": {"parse": []}}
    assert ntfy.body.decode() == alert["message"]
    assert ntfy.headers["title"] == "quota-sentinel: zai 5h YELLOW"
    assert ntfy.headers["priority"] == "4"
    assert generic.json() == alert
    signature = generic.headers["x-quota-sentinel-signature"]
    assert verify(SECRET, signature, generic.body, now)
    assert not verify(SECRET, signature, generic.body + b" ", now)
    assert not verify(SECRET, signature, generic.body, now + 301)  # outside the replay window
    assert not verify("other", signature, generic.body, now)
    for request in (slack, discord, ntfy):
        assert "x-quota-sentinel-signature" not in request.headers


def test_signature_is_hmac_sha256_of_timestamp_dot_body():
    # Computed independently: printf '1700000000.{}' | openssl dgst -sha256 -hmac k
    expected = "c6ef4734033cee2367414a0939385eca0397754aa7a59716da7463a9298b5146"

    assert sign("k", b"{}", 1700000000) == f"t=1700000000,v1={expected}"


def test_a_receiver_that_answers_an_error_or_redirect_is_a_failure(receivers):
    receivers.ok.script(HOOK, method="POST", status=302, headers={"Location": "http://x.test/"})
    (hook,) = parse_receivers(receivers.ok.url + HOOK)

    with pytest.raises(DeliveryFailed, match=r"^generic 127\.0\.0\.1 answered HTTP 302$"):
        send(hook, sample_alert(time.time()), None, 5, time.time())


def test_alerts_test_sends_a_sample_to_each_and_says_which_failed(receivers, monkeypatch):
    monkeypatch.setenv(
        "QUOTA_SENTINEL_WEBHOOKS",
        f"{receivers.ok.url}{HOOK},ntfy+{receivers.flaky.url}{HOOK},{receivers.down_url}",
    )
    monkeypatch.setenv("QUOTA_SENTINEL_WEBHOOK_SECRET", SECRET)

    result = CliRunner().invoke(main, ["alerts", "test"])

    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0] == "ok      generic 127.0.0.1 (HTTP 200)"
    assert lines[1] == "failed  ntfy 127.0.0.1 answered HTTP 503"
    assert lines[2] == "failed  generic 127.0.0.1 could not be reached"
    (sample,) = receivers.posts(receivers.ok)
    assert sample.json()["test"] is True and sample.json()["event"] == "window.status_changed"
    assert receivers.down_url not in result.output
