"""Loopback fake provider servers for tests (FakeUpstream and one fake per provider).

- `server.FakeUpstream`: generic threaded HTTP server on 127.0.0.1 with routes, scripted
  replies and a request log.
- `zai.zai_upstream()`, `deepseek.deepseek_upstream()`: started provider fakes whose `.url`
  goes into QUOTA_SENTINEL_<PROVIDER>_BASE_URL; `.fail(mode)` / `.ok()` switch failures.
"""
