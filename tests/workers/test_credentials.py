"""Credentials through the worker: rotated OAuth tokens are stored (encrypted) with the poll."""

from __future__ import annotations

from quota_sentinel.store.keys import Keys
from tests.upstreams.claude import ClaudeFake
from tests.workers.support import fp_of, register_instance
from workers.polling import poll_account
from workers.ticking import enqueue_due_polls


def _claude_auth(fake: ClaudeFake, expires_at_ms: int) -> dict:
    return {
        "claude_credentials": {
            "accessToken": fake.access_token,
            "refreshToken": fake.refresh_token,
            "expiresAt": expires_at_ms,
        }
    }


def _stored(ctx, fp: str) -> dict:
    return ctx.vault.decrypt(ctx.store.accounts.get(fp).credentials)


def test_server_side_refresh_stores_the_rotated_tokens(claude, client, ctx, clock):
    expired = int((clock.now - 60) * 1000)
    reg = register_instance(
        client,
        framework="claude",
        auth=_claude_auth(claude, expired),
        provider_config={"claude": {"refresh": "server"}},
    )
    fp = fp_of(ctx, reg, "claude")

    assert poll_account(fp) == "ok"

    assert claude.token_calls == 1
    stored = _stored(ctx, fp)
    assert stored["access_token"] == claude.access_token == "sk-ant-oat01-fake-access-1"
    assert stored["refresh_token"] == claude.refresh_token == "sk-ant-ort01-fake-refresh-1"
    raw = ctx.store.r.hget(Keys(ctx.settings.key_prefix).account(fp), "credentials")
    assert "fake-refresh-1" not in raw  # encrypted at rest

    # The next poll uses the stored (rotated) token: no second refresh, no invalid_grant.
    clock.advance(ctx.settings.min_poll_gap_s + 1)
    assert poll_account(fp) == "ok"
    assert claude.token_calls == 1
    assert ctx.store.snapshots.get(fp).error is None


def test_rotated_tokens_are_kept_when_the_usage_call_then_fails(claude, client, ctx, clock):
    reg = register_instance(
        client,
        framework="claude",
        auth=_claude_auth(claude, int((clock.now - 60) * 1000)),
        provider_config={"claude": {"refresh": "server"}},
    )
    fp = fp_of(ctx, reg, "claude")
    claude.fail("500")

    assert poll_account(fp) == "error:unavailable"

    assert claude.token_calls == 1
    assert _stored(ctx, fp)["refresh_token"] == "sk-ant-ort01-fake-refresh-1"


def test_default_mode_never_refreshes_and_says_what_to_do(claude, client, ctx, clock):
    reg = register_instance(
        client, framework="claude", auth=_claude_auth(claude, int((clock.now - 60) * 1000))
    )
    fp = fp_of(ctx, reg, "claude")

    assert poll_account(fp) == "error:credentials_expired"

    assert claude.token_calls == 0
    assert claude.calls == 0
    snap = ctx.store.snapshots.get(fp)
    assert "fresh token" in snap.error["message"] or "refresh" in snap.error["message"]
    assert _stored(ctx, fp)["refresh_token"] == "sk-ant-ort01-fake-refresh-0"


def test_a_fresh_token_in_a_heartbeat_replaces_an_expired_one_and_polls_soon(
    claude, client, ctx, clock, drain
):
    reg = register_instance(
        client, framework="claude", auth=_claude_auth(claude, int((clock.now - 60) * 1000))
    )
    fp = fp_of(ctx, reg, "claude")
    assert poll_account(fp) == "error:credentials_expired"
    assert ctx.store.due.due_at(fp) > clock.now + 60  # backed off

    # The user's Claude Code refreshed its token; the switcher/agent sends it with a heartbeat.
    claude.add_token("sk-ant-oat01-fresh-from-claude-code")
    fresh = {
        "claude_credentials": {
            "accessToken": "sk-ant-oat01-fresh-from-claude-code",
            "refreshToken": claude.refresh_token,
            "expiresAt": int((clock.now + 3600) * 1000),
        }
    }
    clock.advance(ctx.settings.min_poll_gap_s + 1)
    response = client.patch(
        f"/v1/instances/{reg.instance_id}/heartbeat", json={"auth": fresh}, headers=reg.headers
    )
    assert response.status_code == 200 and response.get_json()["refreshed"] == ["claude"]
    assert fp_of(ctx, reg, "claude") == fp  # same account
    assert ctx.store.due.due_at(fp) <= clock.now  # polled at the next tick, not after backoff

    assert enqueue_due_polls() == 1 and drain() == 1
    snap = ctx.store.snapshots.get(fp)
    assert snap.error is None and "five_hour" in snap.windows
    assert claude.token_calls == 0  # the server never refreshed it itself
