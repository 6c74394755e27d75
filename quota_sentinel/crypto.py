"""Credentials at rest: Fernet encryption, HMAC fingerprints, API-key hashes, the secret key."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken

from quota_sentinel.config import Settings
from quota_sentinel.datadir import private_dir, private_file
from quota_sentinel.errors import ConfigError

SECRET_KEY_FILE = "secret.key"
API_KEY_PREFIX = "qs_"


class Vault:
    """Encrypts credential dicts and fingerprints credentials with one secret key."""

    def __init__(self, secret_key: str) -> None:
        try:
            self._fernet = Fernet(secret_key.encode())
        except (ValueError, TypeError):
            raise ConfigError(
                "QUOTA_SENTINEL_SECRET_KEY is not a Fernet key (32 url-safe base64-encoded bytes); "
                "make one with: python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())'"
            ) from None
        # The fingerprint key is derived, so the encryption key itself is never used for HMAC.
        self._fp_key = hashlib.sha256(
            b"quota-sentinel fingerprint\0" + secret_key.encode()
        ).digest()

    def encrypt(self, credentials: dict[str, Any]) -> str:
        """Returns the Fernet token (text) of the JSON of `credentials`."""
        return self._fernet.encrypt(json.dumps(credentials, sort_keys=True).encode()).decode()

    def decrypt(self, token: str) -> dict[str, Any]:
        """Inverse of encrypt.

        Raises:
            ConfigError: the token was written with another secret key.
        """
        try:
            return json.loads(self._fernet.decrypt(token.encode()))
        except InvalidToken:
            raise ConfigError(
                "stored credentials cannot be decrypted with the current secret key; "
                "was QUOTA_SENTINEL_SECRET_KEY changed?"
            ) from None

    def fingerprint(self, provider: str, credential: str) -> str:
        """HMAC-SHA256(secret, provider + ":" + credential), first 16 hex characters."""
        mac = hmac.new(self._fp_key, f"{provider}:{credential}".encode(), hashlib.sha256)
        return mac.hexdigest()[:16]


def new_api_key() -> str:
    """A fresh instance API key: `qs_` + 43 url-safe characters (256 bits)."""
    return API_KEY_PREFIX + secrets.token_urlsafe(32)


def hash_api_key(api_key: str) -> str:
    """SHA-256 hex of an API key: the only form in which keys are stored."""
    return hashlib.sha256(api_key.encode()).hexdigest()


def resolve_secret_key(settings: Settings) -> str:
    """The Fernet key: from settings, or (embedded mode only) generated once into the data dir.

    Raises:
        ConfigError: REDIS_URL is set but QUOTA_SENTINEL_SECRET_KEY is not.
    """
    if settings.secret_key:
        return settings.secret_key
    if not settings.embedded:
        raise ConfigError(
            "QUOTA_SENTINEL_SECRET_KEY must be set when REDIS_URL is set: every process that "
            "shares the Redis needs the same key to read the stored credentials."
        )
    path = private_dir(Path(settings.data_dir)) / SECRET_KEY_FILE
    if path.exists():
        private_file(path)
        return path.read_text().strip()
    key = Fernet.generate_key().decode()
    try:
        # O_EXCL: two processes starting together agree on the first key written.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(key + "\n")
    return key
