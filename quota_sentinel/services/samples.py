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
    """Every stored sample since `since` (epoch s), one row per window, oldest first; a failed
    poll is one row with its error code and no window. Rows carry the poll interval in force.

    Args:
        inst: the caller's instance, or None for every account (admin).
    """
    accounts = _accounts_of(ctx, inst)
    stored = ctx.store.snapshots.samples_since(list(accounts), since)
    rows = []
    for fp, samples in stored.items():
        for sample in samples:
            common = {"t": sample.t, "provider": accounts[fp], "account": fp}
            if sample.interval_s is not None:
                common["poll_interval_s"] = sample.interval_s
            if sample.error is not None:
                rows.append({**common, "error": sample.error})
            for name, window in sorted(sample.windows.items()):
                rows.append(
                    {
                        **common,
                        "window": name,
                        "utilization": window.utilization,
                        "resets_at": window.resets_at,
                    }
                )
    rows.sort(key=lambda r: (r["t"], r["provider"], r.get("window", "")))
    return rows
