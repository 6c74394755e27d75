"""Every key the store writes expires, except the documented indexes (docs/architecture.md §5)."""

from __future__ import annotations

from tests.api.helpers import heartbeat, poll_now
from tests.factories import DEEPSEEK_TEST_KEY, register

INDEXES = {"insts", "due"}


def test_every_key_has_a_ttl_except_the_indexes(
    zai, deepseek, claude, client, ctx, clock, drain, redis_client
):
    claude.add_token("at-ttl")
    claude.refresh_token = "rt-ttl"
    reg = register(
        client,
        auth={
            "opencode_auth": {"zai": {"key": "zai-test-key"}, "deepseek": DEEPSEEK_TEST_KEY},
            "claude_credentials": {"accessToken": "at-ttl", "refreshToken": "rt-ttl"},
        },
    )
    poll_now(client, reg["api_key"], drain)
    clock.advance(30)
    fresh = {"opencode_auth": {"zai": "zai-test-key"}}
    assert heartbeat(client, reg, state="idle", auth=fresh).status_code == 200
    poll_now(client, reg["api_key"], drain)

    prefix = ctx.store.keys.prefix
    keys = sorted(redis_client.scan_iter(ctx.store.keys.pattern()))
    without_ttl = {k[len(prefix) :] for k in keys if redis_client.ttl(k) < 0}

    assert without_ttl == INDEXES
    kinds = {k[len(prefix) :].split(":")[0] for k in keys}
    assert {"inst", "apikey", "acct", "insts", "due", "lastpoll"} <= kinds
    assert zai.upstream.count() == 2
    assert deepseek.upstream.count() == 2
    assert claude.upstream.count("/api/oauth/usage") == 2
    for fp in ctx.store.instances.get(reg["instance_id"]).accounts.values():
        for key in (ctx.store.keys.account(fp), ctx.store.keys.snapshot(fp)):
            assert redis_client.ttl(key) > 0, key
        assert redis_client.exists(ctx.store.keys.snapshot(fp)), fp
