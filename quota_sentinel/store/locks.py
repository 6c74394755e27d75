"""Short locks: SET NX with an expiry and an owner token, released only by their owner.

A lock held for work of unknown length is kept alive by a keeper thread that renews it while
the work runs: if the process dies, renewals stop and the lock expires within its short TTL,
so others can tell abandoned work from work in progress.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import redis

log = logging.getLogger(__name__)

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('EXPIRE', KEYS[1], ARGV[2]) end
return 0
"""


class Locks:
    def __init__(self, r: redis.Redis) -> None:
        self.r = r
        self._release = r.register_script(_RELEASE)
        self._renew = r.register_script(_RENEW)

    def acquire(self, key: str, ttl_s: int) -> str | None:
        """Takes the lock `key` for `ttl_s` seconds; returns the owner token, or None if held."""
        token = secrets.token_hex(8)
        return token if self.r.set(key, token, nx=True, ex=ttl_s) else None

    def release(self, key: str, token: str) -> bool:
        """Releases the lock if `token` still owns it."""
        return bool(self._release(keys=[key], args=[token]))

    def renew(self, key: str, token: str, ttl_s: int) -> bool:
        """Extends the lock to `ttl_s` seconds from now if `token` still owns it."""
        return bool(self._renew(keys=[key], args=[token, ttl_s]))

    def held(self, key: str) -> bool:
        return bool(self.r.exists(key))

    @contextmanager
    def kept(self, key: str, token: str, ttl_s: int) -> Iterator[None]:
        """Renews the lock every third of `ttl_s` while the block runs."""
        done = threading.Event()

        def keep() -> None:
            while not done.wait(ttl_s / 3):
                try:
                    if not self.renew(key, token, ttl_s):
                        log.warning("lock %s was lost while held", key)
                        return
                except redis.RedisError as exc:  # tried again at the next beat
                    log.debug("could not renew lock %s: %s", key, exc)

        keeper = threading.Thread(target=keep, name=f"keep {key}", daemon=True)
        keeper.start()
        try:
            yield
        finally:
            done.set()
            keeper.join(timeout=ttl_s)
