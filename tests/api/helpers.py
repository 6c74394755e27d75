"""Helpers shared by the API and store tests: envelope checks, Redis dumps, the Z.ai fake."""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable, Iterable
from typing import Any

import redis

from tests.factories import key_header

ENVELOPE_KEYS = {"error", "message", "details"}
# Our own API keys: `qs_` + at least 32 url-safe characters.
API_KEY_RE = re.compile(r"qs_[A-Za-z0-9_\-]{32,}")


def assert_envelope(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    """Asserts `response` is the error envelope with `status` (and `code`); returns the body."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.is_json, response.get_data(as_text=True)
    body = response.get_json()
    assert isinstance(body, dict)
    assert {"error", "message"} <= set(body) <= ENVELOPE_KEYS, body
    assert isinstance(body["error"], str) and re.fullmatch(r"[a-z_]+", body["error"]), body
    message = body["message"]
    assert isinstance(message, str) and len(message) > 10, body
    assert message[0].isupper() and message.rstrip()[-1] in ".!?", body
    if "details" in body:
        assert isinstance(body["details"], dict) and body["details"], body
    if code is not None:
        assert body["error"] == code, body
    text = response.get_data(as_text=True)
    assert "Traceback" not in text and 'File "' not in text
    return body


def redis_dump(r: redis.Redis) -> str:
    """Every key of the database and its whole value, whatever the type, as one text.

    RQ keeps job data and error text zlib-compressed, so compressed values are also expanded.
    """
    pool = r.connection_pool
    kwargs = {**pool.connection_kwargs, "decode_responses": False}
    raw = redis.Redis(connection_pool=redis.ConnectionPool(pool.connection_class, **kwargs))
    blobs: list[bytes] = []
    try:
        for key in raw.scan_iter(count=500):
            kind = raw.type(key).decode()
            blobs.append(key + b" " + kind.encode())
            if kind == "string":
                blobs.append(raw.get(key) or b"")
            elif kind == "hash":
                for field, value in raw.hgetall(key).items():
                    blobs += [field, value]
            elif kind == "zset":
                blobs += [m for m, _ in raw.zrange(key, 0, -1, withscores=True)]
            elif kind == "list":
                blobs += raw.lrange(key, 0, -1)
            elif kind == "set":
                blobs += list(raw.smembers(key))
            elif kind == "stream":
                for _, entry in raw.xrange(key):
                    for field, value in entry.items():
                        blobs += [field, value]
            else:
                raise AssertionError(f"unexpected Redis type {kind} of {key!r}")
    finally:
        raw.close()
    texts = []
    for blob in blobs:
        texts.append(blob.decode("utf-8", "replace"))
        inflated = _inflated(blob)
        if inflated is not None:
            texts.append(inflated.decode("utf-8", "replace"))
    return "\n".join(texts)


def _inflated(blob: bytes) -> bytes | None:
    """`blob` zlib-decompressed, or None when it is not zlib data."""
    try:
        return zlib.decompress(blob)
    except zlib.error:
        return None


def assert_absent(secrets: Iterable[str], *texts: str) -> None:
    """Asserts none of `secrets` occurs in any of `texts` (also as bytes-repr escapes)."""
    for secret in secrets:
        for text in texts:
            assert secret not in text, f"a planted secret leaked: {secret[:6]}…"


def fingerprints(client: Any, api_key: str) -> dict[str, str]:
    """provider → account fingerprint of the instance with `api_key`, from /v1/status."""
    response = client.get("/v1/status", headers=key_header(api_key))
    assert response.status_code == 200, response.get_json()
    return {p: a["fingerprint"] for p, a in response.get_json()["allocation"].items()}


def poll_now(client: Any, api_key: str, drain: Callable[[], int]) -> dict[str, Any]:
    """POST /v1/poll with `api_key`, then runs the queued jobs; returns the poll answer."""
    response = client.post("/v1/poll", headers=key_header(api_key))
    assert response.status_code == 202, response.get_json()
    drain()
    return response.get_json()


def heartbeat(client: Any, reg: dict[str, Any], **body: Any) -> Any:
    """PATCH the heartbeat of the registration `reg` (its own key) with `body`."""
    return client.patch(
        f"/v1/instances/{reg['instance_id']}/heartbeat",
        json=body,
        headers=key_header(reg["api_key"]),
    )


CLAUDE_FLAT = {
    "accessToken": "sk-ant-oat01-access-one",
    "refreshToken": "sk-ant-ort01-refresh-one",
    "expiresAt": 1_790_003_600_000,
}
CLAUDE_SECRET = {
    "access_token": "sk-ant-oat01-access-one",
    "refresh_token": "sk-ant-ort01-refresh-one",
    "expires_at_ms": 1_790_003_600_000,
}


def stored_secret(ctx: Any, fp: str) -> dict[str, Any]:
    """The decrypted credentials of the account `fp`."""
    account = ctx.store.accounts.get(fp)
    assert account is not None
    return ctx.vault.decrypt(account.credentials)


def account_hashes(ctx: Any, redis_client: redis.Redis) -> list[str]:
    """Names of every `acct:{fp}` hash (one per account) in Redis."""
    prefix = ctx.store.keys.account("")
    return [k for k in redis_client.scan_iter(prefix + "*") if ":" not in k[len(prefix) :]]
