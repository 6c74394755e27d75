"""Loopback fake provider servers for tests (FakeUpstream and one fake per provider).

- `server.FakeUpstream`: generic threaded HTTP server on 127.0.0.1 with routes, scripted
  replies and a request log.
- `provider_fake.ProviderFake`: the life cycle and failure switch every provider fake shares.
- `oauth.OAuthFake`: the usage endpoint and rotating OAuth token endpoint of the Claude and
  Codex fakes.
- `zai.zai_upstream()`, `deepseek.deepseek_upstream()`, …: started provider fakes whose `.url`
  goes into QUOTA_SENTINEL_<PROVIDER>_BASE_URL; `.fail(mode)` / `.ok()` switch failures.
"""
