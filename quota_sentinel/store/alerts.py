"""Alert state per account, one stored body per alert (its dedup key), the recent list, and the
webhook receivers given up on."""

from __future__ import annotations

import json
from typing import Any

import redis

from quota_sentinel.store.keys import ALERT_TTL_S, RECENT_ALERTS_MAX, Keys

# Compare-and-set of an account's alert state, in one atomic step: every field whose stored
# value differs from the new one is overwritten and reported as [field, old value or ''].
# Two workers judging the same outcome therefore see a transition once between them. The hash
# expires with the account; nothing is written once the account is gone.
_TRANSITIONS = """
local ttl = redis.call('TTL', KEYS[2])
if ttl < 1 then return {} end
local changed = {}
for i = 1, #ARGV, 2 do
  local old = redis.call('HGET', KEYS[1], ARGV[i])
  if old ~= ARGV[i + 1] then
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
    table.insert(changed, {ARGV[i], old or ''})
  end
end
redis.call('EXPIRE', KEYS[1], ttl)
return changed
"""


class AlertStore:
    def __init__(self, r: redis.Redis, keys: Keys) -> None:
        self.r = r
        self.keys = keys
        self._transitions = r.register_script(_TRANSITIONS)

    def transitions(self, fp: str, state: dict[str, str]) -> list[tuple[str, str | None, str]]:
        """Stores the account's new alert state and returns what changed.

        Args:
            fp: account fingerprint.
            state: field (a window name, `credentials`, `polling`) → its value now.

        Returns:
            (field, previous value or None when first seen, new value) for each change.
        """
        if not state:
            return []
        args = [item for pair in sorted(state.items()) for item in pair]
        changed = self._transitions(
            keys=[self.keys.alert_state(fp), self.keys.account(fp)], args=args
        )
        return [(name, old or None, state[name]) for name, old in changed]

    def claim(self, alert_id: str, body: dict[str, Any]) -> bool:
        """Stores an alert unless one with this id exists: True for the one caller that wins."""
        text = json.dumps(body, sort_keys=True)
        return bool(self.r.set(self.keys.alert(alert_id), text, nx=True, ex=ALERT_TTL_S))

    def get(self, alert_id: str) -> dict[str, Any] | None:
        text = self.r.get(self.keys.alert(alert_id))
        return json.loads(text) if text else None

    def push_recent(self, body: dict[str, Any]) -> None:
        """Adds an alert to the front of the recent list, capped and expiring."""
        key = self.keys.recent_alerts()
        pipe = self.r.pipeline()
        pipe.lpush(key, json.dumps(body, sort_keys=True))
        pipe.ltrim(key, 0, RECENT_ALERTS_MAX - 1)
        pipe.expire(key, ALERT_TTL_S)
        pipe.execute()

    def recent(self, limit: int = RECENT_ALERTS_MAX) -> list[dict[str, Any]]:
        """The latest alerts, newest first."""
        return [json.loads(t) for t in self.r.lrange(self.keys.recent_alerts(), 0, limit - 1)]

    def mark_down(self, receiver_id: str, info: dict[str, Any]) -> bool:
        """Marks a receiver as given up on; True only when it was not marked already."""
        key = self.keys.receivers_down()
        pipe = self.r.pipeline()
        pipe.hsetnx(key, receiver_id, json.dumps(info, sort_keys=True))
        pipe.expire(key, ALERT_TTL_S)
        return bool(pipe.execute()[0])

    def mark_up(self, receiver_id: str) -> None:
        self.r.hdel(self.keys.receivers_down(), receiver_id)

    def down(self) -> dict[str, dict[str, Any]]:
        """receiver id → {label, since, alert} of every receiver given up on."""
        return decode_down(self.r.hgetall(self.keys.receivers_down()))


def decode_down(raw: dict[str, str]) -> dict[str, dict[str, Any]]:
    """The receivers-given-up-on hash as read from Redis → receiver id → its record."""
    return {k: json.loads(v) for k, v in raw.items()}
