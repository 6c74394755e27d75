"""Instances: register, authenticate, heartbeat, deregister, and ask for an immediate poll."""

from __future__ import annotations

import dataclasses
import math
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from quota_sentinel import errors
from quota_sentinel.crypto import hash_api_key, new_api_key
from quota_sentinel.engine import weight_units
from quota_sentinel.engine.allocation import WEIGHT_UNITS
from quota_sentinel.services.context import Context
from quota_sentinel.services.credentials import given_entries, nothing_to_monitor, parse_auth
from quota_sentinel.services.limits import enforce_rate
from quota_sentinel.services.polls import PollRequest, enqueue_poll
from quota_sentinel.store.accounts import Account
from quota_sentinel.store.instances import Instance
from quota_sentinel.store.reads import AccountRead


@dataclass(frozen=True)
class Registration:
    instance_id: str
    api_key: str
    providers: list[str]
    poll_interval: int
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Caller:
    """An authenticated instance and the hash of the key it authenticated with; `reads`: its
    accounts as read in the same round trip (when asked for, see `authenticate`)."""

    instance: Instance
    key_hash: str
    reads: Mapping[str, AccountRead] | None = None


NO_KEY = "Send your instance's API key in the X-API-Key header."
UNKNOWN_KEY = (
    "This API key is unknown, deregistered or expired; register again with POST /v1/instances."
)
FOREIGN_KEY = "This API key belongs to another instance."


def _ttl_s(ctx: Context, poll_interval_s: int) -> int:
    return max(1, math.ceil(poll_interval_s * ctx.settings.heartbeat_factor))


def register_instance(
    ctx: Context, body: Mapping[str, Any], client: str, now: float
) -> Registration:
    """Registers an instance with the credentials in `body["auth"]`.

    Args:
        body: the validated registration (project_name, framework, poll_interval, auth,
            provider_config, hard_caps).
        client: the caller's address, for the registration rate limit.
        now: epoch seconds.

    Raises:
        errors.RateLimited: too many registrations from `client` this minute.
    """
    enforce_rate(
        ctx,
        f"register:{client}",
        ctx.settings.register_rate_per_min,
        now,
        "Too many registrations from your address",
    )
    parsed = parse_auth(body.get("auth"))
    if not parsed.credentials and given_entries(body.get("auth")):
        raise nothing_to_monitor(parsed.warnings)
    interval = max(
        int(body.get("poll_interval") or ctx.settings.poll_interval_s),
        ctx.settings.min_poll_interval_s,
    )
    expires = now + _ttl_s(ctx, interval)
    instance_id = secrets.token_hex(16)
    api_key = new_api_key()
    provider_config = body.get("provider_config") or {}
    state = body.get("state") or "active"
    weight = weight_units(state)
    accounts: dict[str, str] = {}
    pipe = ctx.store.pipeline()
    for cred in parsed.credentials:
        fp = ctx.vault.fingerprint(cred.provider, cred.identity)
        options = {**cred.options, **provider_config.get(cred.provider, {})}
        account = Account(fp, cred.provider, ctx.vault.encrypt(cred.secret), options)
        ctx.store.accounts.upsert(account, pipe)
        ctx.store.accounts.subscribe(fp, instance_id, weight, expires, now, pipe)
        ctx.store.due.add_new(fp, now, pipe)
        accounts[cred.provider] = fp
    inst = Instance(
        id=instance_id,
        project=body["project_name"],
        framework=body.get("framework") or "opencode",
        poll_interval_s=interval,
        state=state,
        registered_at=now,
        heartbeat_at=now,
        expires_at=expires,
        hard_caps=dict(body.get("hard_caps") or {}),
        accounts=accounts,
    )
    ctx.store.instances.save(inst, hash_api_key(api_key), pipe)
    pipe.execute()
    providers = sorted(accounts)
    warnings = list(parsed.warnings)
    if not providers:
        warnings.append("no provider credentials were recognised; nothing will be monitored.")
    return Registration(instance_id, api_key, providers, interval, warnings)


def authenticate(
    ctx: Context, api_key: str | None, instance_id: str | None = None, now: float | None = None
) -> Caller:
    """The instance an API key belongs to; with `instance_id`, it must be that instance.

    Args:
        now: when given, the instance's accounts are read as of `now` in the same round trip
            (`Caller.reads`), for a status or providers view.

    Raises:
        errors.Unauthorized: no key, or a key that is unknown, deregistered or expired.
        errors.Forbidden: the key belongs to another instance than `instance_id`.
    """
    if not api_key:
        raise errors.Unauthorized(NO_KEY)
    key_hash = hash_api_key(api_key)
    reads = None
    if now is None:
        inst = ctx.store.instances.by_key(key_hash)
    else:
        found = ctx.store.reads.caller(key_hash, now)
        inst, reads = found if found else (None, None)
    if inst is None:
        raise errors.Unauthorized(UNKNOWN_KEY)
    if instance_id is not None and instance_id != inst.id:
        raise errors.Forbidden(FOREIGN_KEY)
    return Caller(inst, key_hash, reads)


def deregister_instance(ctx: Context, caller: Caller) -> None:
    """Removes the instance and its key; its accounts expire after their grace period."""
    pipe = ctx.store.pipeline()
    ctx.store.instances.delete(caller.instance.id, caller.key_hash, pipe)
    for fp in caller.instance.accounts.values():
        ctx.store.accounts.unsubscribe(fp, caller.instance.id, pipe)
    pipe.execute()


def heartbeat(
    ctx: Context,
    api_key: str | None,
    instance_id: str,
    state: str | None,
    auth: Mapping[str, Any] | None,
    now: float,
) -> dict[str, Any]:
    """PATCH /v1/instances/{id}/heartbeat for the holder of `api_key`.

    A heartbeat without credentials (what agents send every few minutes) is one round trip
    (InstanceStore.heartbeat); one with `auth` goes through `record_heartbeat`.

    Raises:
        errors.Unauthorized: no key, or a key that is unknown, deregistered or expired.
        errors.Forbidden: the key belongs to another instance than `instance_id`.
    """
    if auth:
        return record_heartbeat(ctx, authenticate(ctx, api_key, instance_id), state, auth, now)
    if not api_key:
        raise errors.Unauthorized(NO_KEY)
    done = ctx.store.instances.heartbeat(
        hash_api_key(api_key), instance_id, state, now, ctx.settings.heartbeat_factor, WEIGHT_UNITS
    )
    if done.foreign:
        raise errors.Forbidden(FOREIGN_KEY)
    if done.instance is None:
        raise errors.Unauthorized(UNKNOWN_KEY)
    return _heartbeat_reply(done.instance, now, [], [])


def _heartbeat_reply(
    inst: Instance, now: float, refreshed: list[str], warnings: list[str]
) -> dict[str, Any]:
    return {
        "status": "ok",
        "state": inst.state,
        "expires_in": round(inst.expires_at - now),
        "refreshed": sorted(refreshed),
        "warnings": warnings,
    }


def record_heartbeat(
    ctx: Context, caller: Caller, state: str | None, auth: Mapping[str, Any] | None, now: float
) -> dict[str, Any]:
    """Renews every TTL the instance covers; `state` and fresh credentials are optional.

    Fresh credentials replace those of the instance's existing account of that provider (its
    fingerprint stays) and bring that account's next poll forward.
    """
    inst = caller.instance
    expires = now + _ttl_s(ctx, inst.poll_interval_s)
    renewed = dataclasses.replace(
        inst, state=state or inst.state, heartbeat_at=now, expires_at=expires
    )
    parsed = parse_auth(auth)
    warnings = list(parsed.warnings)
    refreshed: list[str] = []
    pipe = ctx.store.pipeline()
    ctx.store.instances.touch(renewed, caller.key_hash, pipe)
    weight = weight_units(renewed.state)
    for fp in inst.accounts.values():
        ctx.store.accounts.subscribe(fp, inst.id, weight, expires, now, pipe)
    for cred in parsed.credentials:
        fp = inst.accounts.get(cred.provider)
        if fp is None:
            warnings.append(
                f"{cred.source}: this instance has no {cred.provider} account; register "
                "again to add a provider."
            )
            continue
        ctx.store.accounts.replace_credentials(fp, ctx.vault.encrypt(cred.secret), pipe)
        refreshed.append(cred.provider)
    pipe.execute()
    for provider in refreshed:
        _schedule_soon(ctx, inst.accounts[provider], now)
    return _heartbeat_reply(renewed, now, refreshed, warnings)


def _schedule_soon(ctx: Context, fp: str, now: float) -> float:
    """Brings an account's poll to the earliest moment the min-poll gap allows; returns it."""
    account = ctx.store.accounts.get(fp)
    last = account.last_attempt_at if account else None
    at = max(now, last + ctx.settings.min_poll_gap_s) if last else now
    ctx.store.due.bring_forward(fp, at)
    return at


def request_poll(ctx: Context, caller: Caller, now: float) -> dict[str, Any]:
    """Polls the caller's accounts now, or as soon as QUOTA_SENTINEL_MIN_POLL_GAP allows.

    Returns:
        per provider what happened: `queued` (a poll job was enqueued now), `in_progress` (a
        poll of it was already queued or running: no second one), `scheduled_in_s` (the min
        poll gap defers it: seconds until it is due).
    """
    queued: list[str] = []
    in_progress: list[str] = []
    scheduled: dict[str, float] = {}
    for provider, fp in sorted(caller.instance.accounts.items()):
        at = _schedule_soon(ctx, fp, now)
        if at > now:
            scheduled[provider] = round(max(at - now, 0.0), 1)
        elif enqueue_poll(ctx, fp) is PollRequest.QUEUED:
            queued.append(provider)
        else:
            in_progress.append(provider)
    return {
        "status": "ok",
        "queued": queued,
        "in_progress": in_progress,
        "scheduled_in_s": scheduled,
    }
