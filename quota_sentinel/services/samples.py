"""Sample history in the trace format that `quota-sentinel replay` reads."""

from __future__ import annotations

from typing import Any

from quota_sentinel.services.context import Context
from quota_sentinel.store.instances import Instance


def _accounts_of(ctx: Context, inst: Instance | None) -> dict[str, str]:
    """fingerprint → provider: the instance's accounts, or every scheduled account (admin)."""
    if inst is not None:
        return {fp: provider for provider, fp in inst.accounts.items()}
    found = {}
    for fp in ctx.store.due.all():
        account = ctx.store.accounts.get(fp)
        if account is not None:
            found[fp] = account.provider
    return found


def export_samples(ctx: Context, inst: Instance | None, since: float) -> list[dict[str, Any]]:
    """Every stored sample since `since` (epoch s), one row per window, oldest first.

    Args:
        inst: the caller's instance, or None for every account (admin).
    """
    accounts = _accounts_of(ctx, inst)
    stored = ctx.store.snapshots.samples_since(list(accounts), since)
    rows = []
    for fp, samples in stored.items():
        for sample in samples:
            for window, (utilization, resets_at) in sorted(sample.windows.items()):
                rows.append(
                    {
                        "t": sample.t,
                        "provider": accounts[fp],
                        "account": fp,
                        "window": window,
                        "utilization": utilization,
                        "resets_at": resets_at,
                    }
                )
    rows.sort(key=lambda r: (r["t"], r["provider"], r["window"]))
    return rows
