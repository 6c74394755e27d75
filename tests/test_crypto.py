"""Secret key handling, credential encryption and fingerprints."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from quota_sentinel.config import Settings
from quota_sentinel.crypto import Vault, hash_api_key, new_api_key, resolve_secret_key
from quota_sentinel.errors import ConfigError


def test_embedded_mode_generates_the_key_once_with_mode_0600(tmp_path: Path):
    settings = Settings.from_env({"QUOTA_SENTINEL_DATA_DIR": str(tmp_path)})
    first = resolve_secret_key(settings)
    path = tmp_path / "secret.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert resolve_secret_key(settings) == first
    Vault(first)  # a valid Fernet key


def test_redis_url_without_secret_key_is_refused(tmp_path: Path):
    settings = Settings.from_env(
        {"REDIS_URL": "redis://127.0.0.1:1/0", "QUOTA_SENTINEL_DATA_DIR": str(tmp_path)}
    )
    with pytest.raises(ConfigError, match="QUOTA_SENTINEL_SECRET_KEY must be set"):
        resolve_secret_key(settings)
    assert not (tmp_path / "secret.key").exists()


def test_a_malformed_secret_key_is_refused_with_a_hint():
    with pytest.raises(ConfigError, match="QUOTA_SENTINEL_SECRET_KEY is not a Fernet key"):
        Vault("not-a-key")


def test_encrypted_credentials_round_trip_and_hide_the_secret():
    vault = Vault(Fernet.generate_key().decode())
    token = vault.encrypt({"key": "sk-planted-secret"})
    assert "sk-planted-secret" not in token
    assert vault.decrypt(token) == {"key": "sk-planted-secret"}


def test_another_key_cannot_decrypt_and_says_why():
    token = Vault(Fernet.generate_key().decode()).encrypt({"key": "x"})
    with pytest.raises(ConfigError, match="was QUOTA_SENTINEL_SECRET_KEY changed"):
        Vault(Fernet.generate_key().decode()).decrypt(token)


def test_fingerprints_are_stable_per_secret_and_separate_providers():
    key = Fernet.generate_key().decode()
    a, b = Vault(key), Vault(key)
    assert a.fingerprint("zai", "k1") == b.fingerprint("zai", "k1")
    assert len(a.fingerprint("zai", "k1")) == 16
    assert a.fingerprint("zai", "k1") != a.fingerprint("zai", "k2")
    assert a.fingerprint("zai", "k1") != a.fingerprint("deepseek", "k1")
    assert Vault(Fernet.generate_key().decode()).fingerprint("zai", "k1") != a.fingerprint(
        "zai", "k1"
    )


def test_api_keys_are_long_random_and_hashed():
    keys = {new_api_key() for _ in range(100)}
    assert len(keys) == 100
    for key in keys:
        assert key.startswith("qs_") and len(key) >= 3 + 32
        assert set(key[3:]) <= set(
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
        )
    key = keys.pop()
    assert hash_api_key(key) != key and len(hash_api_key(key)) == 64
