"""Credentials through the worker: rotated OAuth tokens are stored (encrypted) with the poll."""

from __future__ import annotations

from quota_sentinel.store.keys import Keys
from tests.upstreams.claude import ClaudeFake
from tests.workers.support import fp_of, register_instance
from workers.polling import poll_account


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
