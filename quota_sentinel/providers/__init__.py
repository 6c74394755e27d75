"""Provider modules: each turns one vendor's usage endpoint into a UsageResult.

Contract of every provider module (e.g. `zai`, `deepseek`):

- `NAME`: the provider name used in settings, window caps and the registry.
- `fetch(credentials, options, http, state, now) -> UsageResult`, where `http` is a callable
  `http(base_key: str) -> HttpClient` (see `providers.http.ClientFactory`); the base key names
  a `QUOTA_SENTINEL_<KEY>_BASE_URL` host, so a provider with regional hosts picks its own.
- Outbound HTTP and its error mapping live in `providers.http`; modules only parse and raise
  the `ProviderError` subclass that fits (`providers.base`).
"""
