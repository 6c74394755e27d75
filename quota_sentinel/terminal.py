"""Rich tables for the terminal: an instance's status, a replay and its summary."""

from __future__ import annotations

from typing import Any

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
            left = w.get("projected_exhaustion_min")
            table.add_row(
                name,
                wname,
                num(w.get("utilization")),
                num(w.get("effective_cap")),
                num(w.get("velocity_pct_per_hour")),
                num(left, " min"),
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
            styled(r["status"]),
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
            str(s["needless_alarms"]),
        )
    return table
