"""Rich tables for the terminal: an instance's status, the team view, a replay and its summary."""

from __future__ import annotations

from typing import Any

from rich.markup import escape
from rich.table import Table

STATUS_STYLE = {"GREEN": "green", "YELLOW": "yellow", "RED": "bold red", "UNKNOWN": "dim"}


def num(value: float | None, unit: str = "") -> str:
    return "-" if value is None else f"{value:.1f}{unit}"


def styled(status: str) -> str:
    return f"[{STATUS_STYLE.get(status, '')}]{status}[/]"


def status_table(body: dict[str, Any]) -> Table:
    """An instance's TOKEN_STATUS: one row per window, the recommendation in the title."""
    table = Table(
        title=f"{body['project']} ({body['framework']}): {body['recommendation']}",
        caption=body.get("message"),
    )
    for column in (
        "provider",
        "window",
        "used %",
        "cap %",
        "velocity %/h",
        "runs out in",
        "resets at",
        "status",
    ):
        table.add_column(column)
    for name, provider in sorted(body["providers"].items()):
        windows = provider.get("windows") or {}
        if not windows:
            table.add_row(name, "-", "", "", "", "", "", styled(provider["status"]))
        for wname, w in sorted(windows.items()):
            left = num(w.get("projected_exhaustion_min"), " min")
            if w.get("outlook_code") == "ahead_of_pace":
                left += " (ahead of pace)"
            table.add_row(
                name,
                wname,
                num(w.get("utilization")),
                num(w.get("effective_cap")),
                num(w.get("velocity_pct_per_hour")),
                left,
                (w.get("resets_at") or "-")[:16].replace("T", " "),
                styled(w["status"]),
            )
        if provider.get("error"):
            prefix = "stale: " if windows else ""
            table.add_row("", f"[dim]{prefix}{provider['error']}[/]", "", "", "", "", "", "")
    return table


def replay_table(rows: list[dict[str, Any]]) -> Table:
    table = Table(title="replay")
    for column in (
        "time (UTC)",
        "provider",
        "window",
        "used %",
        "%/h",
        "min to cap",
        "% at reset",
        "status",
        "advice",
    ):
        table.add_column(column)
    for r in rows:
        table.add_row(
            r["t"][5:16].replace("T", " "),
            r["provider"],
            r["window"],
            num(r["utilization"]),
            num(r["velocity_pct_per_hour"]),
            num(r["projected_exhaustion_min"]),
            num(r["projected_at_reset"]),
            styled(r["status"])
            + (f" [dim](poll failed: {escape(str(r['error']))})[/]" if r.get("error") else ""),
            r["recommendation"],
        )
    return table


def summary_table(summaries: list[dict[str, Any]]) -> Table:
    table = Table(title="summary")
    for column in (
        "provider",
        "window",
        "points",
        "cap %",
        "cap reached (UTC)",
        "RED lead min",
        "YELLOW lead min",
        "needless RED",
        "needless alarms",
    ):
        table.add_column(column)
    for s in summaries:
        reached = (s["cap_reached_at"] or "never")[:16].replace("T", " ")
        table.add_row(
            s["provider"],
            s["window"],
            str(s["points"]),
            num(s["cap"]),
            reached,
            num(s["red_lead_min"]),
            num(s["yellow_lead_min"]),
            str(s["needless_red"]),
            str(s["needless_alarms"]),
        )
    return table


def _ago(seconds: float | None) -> str:
    if seconds is None:
        return "never"
    if seconds < 90:
        return f"{seconds:.0f} s ago"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min ago"
    return f"{seconds / 3600:.1f} h ago"


SPARK_BLOCKS = "▁▂▃▄▅▆▇█"
SPARK_WIDTH = 12


def spark(history: list[list[float]], width: int = SPARK_WIDTH) -> str:
    """A utilization history ([[t, %], …]) as unicode blocks, 0–100 % high, at most `width`."""
    if not history:
        return ""
    step = max(len(history) / width, 1)
    picked = [
        history[min(int(i * step), len(history) - 1)] for i in range(min(width, len(history)))
    ]
    picked[-1] = history[-1]
    top = len(SPARK_BLOCKS) - 1
    return "".join(SPARK_BLOCKS[round(min(max(u, 0), 100) / 100 * top)] for _, u in picked)


def team_table(body: dict[str, Any]) -> Table:
    """The team view's accounts: one row per window, the accounts needing attention first."""
    summary = body["summary"]
    table = Table(
        title=f"team: {summary['accounts']} accounts, {summary['instances']} instances, "
        f"worst {styled(summary['status'])}",
        caption=f"as of {body['generated_at'][:19].replace('T', ' ')} UTC (server time)",
    )
    for column in ("account", "window", "used %", "cap %", "at reset %", "velocity %/h"):
        table.add_column(column)
    table.add_column("outlook", max_width=40)
    for column in ("history", "status", "users"):
        table.add_column(column)
    for account in body["accounts"]:
        label = escape(account["label"])
        users = str(account["subscribers"])
        windows = account.get("windows") or {}
        if not windows:
            table.add_row(
                label, "-", "", "", "", "", _problem(account), "", styled(account["status"]), users
            )
            continue
        for i, (name, w) in enumerate(sorted(windows.items())):
            table.add_row(
                label if i == 0 else "",
                escape(name),
                num(w.get("utilization")),
                num(w.get("effective_cap")),
                num(w.get("projected_at_reset")),
                num(w.get("velocity_pct_per_hour")),
                escape(w.get("outlook") or ""),
                spark(w.get("history") or []),
                styled(w["status"]),
                users if i == 0 else "",
            )
        if account.get("error"):
            table.add_row("", "", "", "", "", "", _problem(account), "", "", "")
    return table


def _problem(account: dict[str, Any]) -> str:
    error = account.get("error")
    if account.get("error_code") == "never_polled":
        return "[dim]no data yet[/]"
    if not error:
        return ""
    headline = account.get("error_headline") or "The last poll failed"
    return f"[dim]{escape(f'{headline}: {error}')}[/]"


def instances_table(body: dict[str, Any]) -> Table:
    """The team view's live instances and what each is told."""
    table = Table(title="instances")
    for column in ("project", "framework", "state", "heartbeat", "providers (share)", "told to"):
        table.add_column(column)
    for inst in body["instances"]:
        shares = ", ".join(
            f"{p} ({inst['allocation'][p]['share'] * 100:.0f}%)" if p in inst["allocation"] else p
            for p in inst["providers"]
        )
        table.add_row(
            escape(inst["project"]),
            escape(inst["framework"]),
            escape(inst["state"]),
            _ago(inst["heartbeat_age_s"]),
            escape(shares) or "-",
            f"[{STATUS_STYLE.get(inst['overall_status'], '')}]{inst['recommendation']}[/]",
        )
    return table
