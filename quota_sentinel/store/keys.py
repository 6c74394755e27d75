"""Every Redis key of quota-sentinel is built here: one builder per key, the prefix applied once."""

from __future__ import annotations

# Account keys outlive their longest subscriber by this much, so a client that misses one
# heartbeat by a little finds its account (and its sample history) still there.
ACCOUNT_GRACE_S = 600
# Samples older than this are trimmed; the velocity horizon is far shorter, the team view's
# history (a later issue) wants about a week.
SAMPLE_RETENTION_S = 8 * 24 * 3600
SAMPLE_MAX_COUNT = 2000
# The thinned history behind the team view's sparklines: one sample per slot (the latest of the
# slot), kept long enough for monthly windows; at most 35 d / 15 min = 3360 members.
HISTORY_SLOT_S = 900
HISTORY_RETENTION_S = 35 * 24 * 3600
# A claimed due entry comes back after this lease if its poll job is lost (a dead worker): as
# long as the shortest poll interval, so an abandoned poll is replaced within one interval.
DUE_LEASE_S = 30
# Health reports "no scheduler tick" once this key is gone; ages below it are reported.
LAST_TICK_TTL_S = 3600
# Poll outcome counters live while polls keep coming; a month of silence resets them (a
# counter reset is normal for Prometheus).
POLL_COUNTS_TTL_S = 30 * 24 * 3600
# Alerts: the per-transition dedup key, each stored alert and the recent list shown on the
# dashboard live a day; the recent list keeps at most RECENT_ALERTS_MAX entries.
ALERT_TTL_S = 24 * 3600
RECENT_ALERTS_MAX = 50


class Keys:
    """Key builders under one prefix (QUOTA_SENTINEL_KEY_PREFIX, default `qs:`)."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    def instance(self, instance_id: str) -> str:
        """hash: project, framework, poll interval, state, hard caps, accounts, times.
        TTL: heartbeat factor × poll interval, renewed by each heartbeat."""
        return f"{self.prefix}inst:{instance_id}"

    def api_key(self, key_hash: str) -> str:
        """string → instance id, keyed by the SHA-256 of the API key. TTL: the instance's."""
        return f"{self.prefix}apikey:{key_hash}"

    def instances(self) -> str:
        """zset instance id → expiry (epoch s). No TTL: an index, pruned by score."""
        return f"{self.prefix}insts"

    def account(self, fp: str) -> str:
        """hash: provider, options, encrypted credentials, provider state, last poll times.
        TTL: longest subscriber + ACCOUNT_GRACE_S."""
        return f"{self.prefix}acct:{fp}"

    def subscribers(self, fp: str) -> str:
        """zset instance id → expiry (epoch s). TTL: the account's."""
        return f"{self.prefix}acct:{fp}:subs"

    def weights(self, fp: str) -> str:
        """hash: subscriber id → its weight in tenths (engine WEIGHT_UNITS), and `_total` → their
        sum, kept equal to the live subscribers of `subscribers(fp)` by every script that adds,
        renews, removes or prunes one (store/accounts.py). TTL: the account's."""
        return f"{self.prefix}acct:{fp}:weights"

    def snapshot(self, fp: str) -> str:
        """string (JSON): last poll outcome, last good windows, error, failures, the poll
        interval used and each window's forecast trend (computed once per poll by the worker).
        TTL: the account's."""
        return f"{self.prefix}acct:{fp}:snap"

    def samples(self, fp: str) -> str:
        """zset poll time → JSON {t, windows: {name: [utilization, resets_at]}, interval}, one
        member per poll (a retry at the same time replaces it); a failed poll's member has no
        windows and its `error` code. Bounded by SAMPLE_RETENTION_S and
        SAMPLE_MAX_COUNT. TTL: the account's."""
        return f"{self.prefix}acct:{fp}:samples"

    def history(self, fp: str) -> str:
        """zset slot start → JSON {t, windows}: the last sample of each HISTORY_SLOT_S slot,
        trimmed to HISTORY_RETENTION_S. TTL: the account's."""
        return f"{self.prefix}acct:{fp}:history"

    def due(self) -> str:
        """zset fingerprint → next poll time (epoch s). No TTL: an index, reaped by GC."""
        return f"{self.prefix}due"

    def poll_lock(self, fp: str) -> str:
        """string owner token; SET NX with an expiry longer than the poll job timeout."""
        return f"{self.prefix}lock:poll:{fp}"

    def rate_limit(self, bucket: str, window: int) -> str:
        """string counter of one fixed one-minute window. TTL: 120 s. A `:` in the bucket (an
        IPv6 address) becomes `_`, so key segments stay unambiguous."""
        return f"{self.prefix}rl:{bucket.replace(':', '_')}:{window}"

    def last_poll(self) -> str:
        """string: epoch s of the latest poll any worker finished. TTL: one day."""
        return f"{self.prefix}lastpoll"

    def last_tick(self) -> str:
        """string: epoch s of the latest scheduler tick a worker ran. TTL: LAST_TICK_TTL_S."""
        return f"{self.prefix}lasttick"

    def poll_counts(self) -> str:
        """hash `provider|outcome` → polls (outcome: ok or the error code). TTL:
        POLL_COUNTS_TTL_S, renewed by each increment."""
        return f"{self.prefix}polls"

    def alert_state(self, fp: str) -> str:
        """hash: the last status each window was alerted at, `credentials` and `polling`
        (ok / failing). TTL: the account's, renewed at each poll."""
        return f"{self.prefix}acct:{fp}:alerting"

    def alert(self, alert_id: str) -> str:
        """string (JSON): one alert's generic body, read by its delivery jobs. TTL:
        ALERT_TTL_S; written with SET NX, so it is also the transition's dedup key."""
        return f"{self.prefix}alert:{alert_id}"

    def recent_alerts(self) -> str:
        """list of alert JSON, newest first, at most RECENT_ALERTS_MAX. TTL: ALERT_TTL_S,
        renewed by each push."""
        return f"{self.prefix}alerts"

    def receivers_down(self) -> str:
        """hash receiver id → JSON {label, since, alert}: receivers given up on after every
        retry; a later delivery that succeeds removes its entry. TTL: ALERT_TTL_S, renewed
        by each mark."""
        return f"{self.prefix}webhooks:down"

    def pattern(self) -> str:
        """SCAN pattern matching every key of this deployment (maintenance and tests only)."""
        return f"{self.prefix}*"
