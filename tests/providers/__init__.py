"""Tests of quota_sentinel.providers against loopback fake upstreams."""
