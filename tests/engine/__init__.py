"""Tests of the pure engine; no Redis, no network."""
