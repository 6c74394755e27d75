"""Short locks: SET NX with an expiry and an owner token, released only by their owner."""

from __future__ import annotations

import secrets

import redis

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class Locks:
    def __init__(self, r: redis.Redis) -> None:
        self.r = r
        self._release = r.register_script(_RELEASE)

    def acquire(self, key: str, ttl_s: int) -> str | None:
        """Takes the lock `key` for `ttl_s` seconds; returns the owner token, or None if held."""
        token = secrets.token_hex(8)
        return token if self.r.set(key, token, nx=True, ex=ttl_s) else None

    def release(self, key: str, token: str) -> bool:
        """Releases the lock if `token` still owns it."""
        return bool(self._release(keys=[key], args=[token]))
