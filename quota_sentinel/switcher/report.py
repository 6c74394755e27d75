"""What the switcher says: one line per change for people, one JSON object per check for tools."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from quota_sentinel.switcher.apply import Outcome
from quota_sentinel.switcher.plan import Change, Entry, Health, health_of
from quota_sentinel.switcher.server import Started


def effect(config_name: str) -> str:
    return (
        f"OpenCode reads {config_name} when a session starts: the change takes effect in the "
        "next OpenCode session."
    )


def change_line(change: Change) -> str:
    """ "build: zai-coding-plan/glm-5.1 → deepseek/deepseek-v3.2 (zai RED, 5h at 93%, …)" """
    return f"{change.label}: {change.old} → {change.new} ({change.reason})"


def _labels(outcome: Outcome) -> dict[tuple[str, ...], str]:
    return {t.path: t.label for t in outcome.targets}


def waiting_line(entry: Entry, label: str, healths: Mapping[str, Health], hold: int) -> str:
    provider = health_of(entry.original, healths).provider
    return (
        f"{label} stays on {entry.current} until {provider} has been GREEN for {hold} polls in a "
        f"row ({entry.green_polls} so far); its original is {entry.original}"
    )


@dataclass(frozen=True)
class Context:
    """Facts about the run that every report carries."""

    mode: str
    hold: int
    dry_run: bool = False
    instance_id: str | None = None
    started: Started | None = None
    warnings: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    waiting: tuple[str, ...] = ()
    healths: Mapping[str, Health] = field(default_factory=dict)
    advice: Mapping[str, Any] | None = None


def text(outcome: Outcome, ctx: Context, notes: tuple[str, ...] | None = None) -> list[str]:
    """The lines to print for one check. `notes` overrides which notes to show (the daemon
    shows a note once, not every minute)."""
    name = outcome.config.name
    labels = _labels(outcome)
    lines = [f"note: {w}" for w in ctx.warnings]
    lines += [f"note: no data yet from {p}; it counts as UNKNOWN this time." for p in ctx.waiting]
    if ctx.dry_run and outcome.diff:
        lines.append(outcome.diff.rstrip("\n"))
    lines += [change_line(c) for c in outcome.changes]
    lines += list(outcome.notes if notes is None else notes)
    if ctx.mode != "daemon" and ctx.mode != "restore":
        lines += [
            waiting_line(e, labels.get(e.path, ".".join(e.path)), ctx.healths, ctx.hold)
            for e in outcome.entries
            if not any(c.path == e.path for c in outcome.changes)
        ]
    if ctx.dry_run:
        lines.append(f"dry run: {name} and its state were left unchanged.")
    elif outcome.changes:
        lines.append(effect(name))
    elif ctx.mode == "restore":
        lines.append(f"Nothing to restore in {name}.")
    elif ctx.mode != "daemon":
        count = len(outcome.targets)
        checked = f"{count} model setting{'' if count == 1 else 's'} checked"
        lines.append(f"No change to {name} ({checked}).")
    return lines


def summary(outcome: Outcome, ctx: Context) -> dict[str, Any]:
    """The machine-readable form of one check (`--json`)."""
    labels = _labels(outcome)
    return {
        "config": str(outcome.config),
        "mode": ctx.mode,
        "dry_run": ctx.dry_run,
        "instance_id": ctx.instance_id,
        "server_started": (
            {"pid": ctx.started.pid, "log": str(ctx.started.log), "url": ctx.started.url}
            if ctx.started
            else None
        ),
        "changes": [
            {
                "target": c.label,
                "path": list(c.path),
                "from": c.old,
                "to": c.new,
                "kind": c.kind,
                "reason": c.reason,
            }
            for c in outcome.changes
        ],
        "switched": [
            {
                "target": labels.get(e.path, ".".join(e.path)),
                "path": list(e.path),
                "original": e.original,
                "current": e.current,
                "green_polls": e.green_polls,
                "recovery_hold": ctx.hold,
            }
            for e in outcome.entries
        ],
        "providers": {
            name: {"status": h.status, "detail": h.detail, "polled_at": h.poll}
            for name, h in sorted(ctx.healths.items())
        },
        "recommendation": dict(ctx.advice) if ctx.advice else None,
        "notes": list(outcome.notes),
        "warnings": list(ctx.warnings),
        "credentials_from": list(ctx.sources),
        "waiting_for_data": list(ctx.waiting),
        "diff": outcome.diff,
        "takes_effect": ("next OpenCode session" if outcome.changes and not ctx.dry_run else None),
    }
