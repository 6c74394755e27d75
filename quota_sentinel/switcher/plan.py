"""The switcher's decision, pure: which model each target should use given provider health.

Nothing here reads a file, the clock or the network. `reconcile` squares the remembered
originals with what the config holds now; `decide` applies docs/architecture.md §9 (move off
a YELLOW/RED original to the first GREEN fallback, come back after `hold` consecutive GREEN
polls); `restore` puts every original back. Each returns a `Decision`, which `apply` writes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from quota_sentinel.providers.registry import alias_for

GREEN, YELLOW, RED, UNKNOWN = "GREEN", "YELLOW", "RED", "UNKNOWN"
UNHEALTHY = frozenset({YELLOW, RED})

# Model-id prefixes that look like a monitored auth key but are not that subscription:
# `opencode/…` models are OpenCode Zen, whereas the `opencode` auth key is ChatGPT's legacy one.
NOT_A_SUBSCRIPTION = frozenset({"opencode"})

Path = tuple[str, ...]


@dataclass(frozen=True)
class Target:
    """One model setting of the config.

    Args:
        path: where it lives, e.g. ("agent", "build", "model") or ("small_model",).
        label: how messages name it ("build", "model", "build (mode)").
        model: the value in the config now.
        fallbacks: the models to move to, in order of preference.
    """

    path: Path
    label: str
    model: str
    fallbacks: tuple[str, ...] = ()


@dataclass(frozen=True)
class Health:
    """What the switcher knows of one provider at this poll.

    Args:
        provider: the monitored provider name (or the model-id prefix when not monitored).
        status: GREEN, YELLOW, RED or UNKNOWN.
        poll: identifies the provider poll the status comes from (its `polled_at`); a GREEN
            poll counts once towards recovery however often it is read. None: count every look.
        detail: a phrase for people, e.g. "zai RED, 5h at 93%, ~12 min left".
        monitored: False for providers quota-sentinel does not watch; they count as GREEN.
    """

    provider: str
    status: str
    poll: str | None = None
    detail: str = ""
    monitored: bool = True


@dataclass(frozen=True)
class Entry:
    """A remembered switch (the state file holds one per switched target).

    Args:
        path: the target's path.
        original: the model the user chose.
        current: the model the switcher last wrote (== original once back).
        pending: a model about to be written; set in the state before the config is written,
            so an interrupted write is recognised and never mistaken for a hand edit.
        green_polls: consecutive GREEN polls of the original's provider seen so far.
        last_poll: the poll last counted in `green_polls`.
    """

    path: Path
    original: str
    current: str
    pending: str | None = None
    green_polls: int = 0
    last_poll: str | None = None

    @property
    def switched(self) -> bool:
        return self.current != self.original


@dataclass(frozen=True)
class Change:
    """One model value to rewrite. `kind` is switch, move, recover or restore."""

    path: Path
    label: str
    old: str
    new: str
    kind: str
    reason: str


@dataclass(frozen=True)
class Decision:
    """What to write (`changes`), what to remember afterwards (`entries`) and what to say."""

    entries: tuple[Entry, ...]
    changes: tuple[Change, ...] = ()
    notes: tuple[str, ...] = ()


def provider_of(model: str) -> str | None:
    """The monitored provider a model id belongs to (text before the first '/'), or None."""
    prefix, slash, _ = model.partition("/")
    if not slash or not prefix or prefix.lower() in NOT_A_SUBSCRIPTION:
        return None
    alias = alias_for(prefix)
    return alias.provider if alias else None


def health_of(model: str, healths: Mapping[str, Health]) -> Health:
    """The health of a model's provider; a provider not monitored counts as GREEN."""
    provider = provider_of(model)
    if provider is not None and provider in healths:
        return healths[provider]
    name = provider or model.partition("/")[0] or model
    return Health(name, GREEN, None, f"{name} not monitored", monitored=False)


def reconcile(
    entries: Iterable[Entry], found: Mapping[Path, str], labels: Mapping[Path, str]
) -> tuple[dict[Path, Entry], list[str]]:
    """Squares remembered switches with the models the config holds now.

    A pending write that landed becomes current; one that did not is dropped. A value that is
    neither what the switcher wrote nor was about to write was set by hand: it becomes the new
    original and the entry is forgotten (an unswitched target needs no entry).

    Returns:
        the entries still switched, by path, and notes for people.
    """
    kept: dict[Path, Entry] = {}
    notes: list[str] = []
    for entry in entries:
        label = labels.get(entry.path, ".".join(entry.path))
        value = found.get(entry.path)
        if value is None:
            notes.append(f"{label}: no longer in the config; forgot its original {entry.original}")
            continue
        if entry.pending is not None and value == entry.pending:
            entry = dataclasses.replace(entry, current=value, pending=None)
        elif value == entry.current:
            entry = dataclasses.replace(entry, pending=None)
        else:
            notes.append(f"{label}: {value} was set by hand; it is the new original")
            continue
        if entry.switched:
            kept[entry.path] = entry
    return kept, notes


def _first_green(
    fallbacks: Iterable[str], skip: set[str], healths: Mapping[str, Health]
) -> str | None:
    return next(
        (m for m in fallbacks if m not in skip and health_of(m, healths).status == GREEN), None
    )


def _unhealthy_note(target: Target, health: Health, healths: Mapping[str, Health]) -> str:
    if not target.fallbacks:
        return f"{target.label} stays on {target.model} ({health.detail}): it has no fallbacks"
    others = "; ".join(health_of(m, healths).detail for m in target.fallbacks)
    return (
        f"{target.label} stays on {target.model} ({health.detail}): no fallback is GREEN ({others})"
    )


def _count_green(entry: Entry, health: Health) -> Entry:
    if health.status != GREEN:
        return dataclasses.replace(entry, green_polls=0, last_poll=None)
    if health.poll is not None and health.poll == entry.last_poll:
        return entry  # the same provider poll read again
    return dataclasses.replace(entry, green_polls=entry.green_polls + 1, last_poll=health.poll)


def _decide_switched(
    target: Target, entry: Entry, healths: Mapping[str, Health], hold: int
) -> tuple[Entry | None, Change | None, str | None]:
    original = health_of(entry.original, healths)
    current = health_of(entry.current, healths)
    entry = _count_green(entry, original)
    label = target.label
    if original.status == GREEN and entry.green_polls >= hold:
        reason = f"{original.provider} GREEN for {entry.green_polls} polls: back to the original"
        back = Change(target.path, label, entry.current, entry.original, "recover", reason)
        return None, back, None
    if current.status not in UNHEALTHY:
        return entry, None, None
    if original.status == GREEN:
        reason = f"{current.detail}; {original.provider} is GREEN again"
        back = Change(target.path, label, entry.current, entry.original, "recover", reason)
        return None, back, None
    better = _first_green(target.fallbacks, {entry.current, entry.original}, healths)
    if better is None:
        note = _unhealthy_note(dataclasses.replace(target, model=entry.current), current, healths)
        return entry, None, note
    moved = dataclasses.replace(entry, current=better, green_polls=0, last_poll=None)
    return moved, Change(target.path, label, entry.current, better, "move", current.detail), None


def decide(
    targets: Iterable[Target],
    entries: Mapping[Path, Entry],
    healths: Mapping[str, Health],
    hold: int,
) -> Decision:
    """One poll's decision for every target (docs/architecture.md §9).

    Args:
        targets: the config's model settings, as read now.
        entries: the switched targets after `reconcile`.
        healths: monitored provider → health; missing providers count as GREEN.
        hold: consecutive GREEN polls of the original's provider needed to go back (≥ 1).
    """
    kept: list[Entry] = []
    changes: list[Change] = []
    notes: list[str] = []
    for target in targets:
        entry = entries.get(target.path)
        if entry is not None:
            new_entry, change, note = _decide_switched(target, entry, healths, hold)
            kept += [new_entry] if new_entry else []
            changes += [change] if change else []
            notes += [note] if note else []
            continue
        health = health_of(target.model, healths)
        if health.status not in UNHEALTHY:
            continue
        fallback = _first_green(target.fallbacks, {target.model}, healths)
        if fallback is None:
            notes.append(_unhealthy_note(target, health, healths))
            continue
        kept.append(Entry(target.path, target.model, fallback))
        changes.append(
            Change(target.path, target.label, target.model, fallback, "switch", health.detail)
        )
    return Decision(tuple(kept), tuple(changes), tuple(notes))


def restore(targets: Iterable[Target], entries: Mapping[Path, Entry]) -> Decision:
    """Every switched target back to its original; nothing is remembered afterwards."""
    changes = [
        Change(t.path, t.label, t.model, entries[t.path].original, "restore", "restored")
        for t in targets
        if t.path in entries
    ]
    return Decision((), tuple(changes))


def write_ahead(entries: Mapping[Path, Entry], decision: Decision) -> tuple[Entry, ...]:
    """The state to save before the config is written: the entries as they were, each target
    about to change marked with its `pending` model, so a crash at any point leaves the
    originals recoverable."""
    ahead = dict(entries)
    for change in decision.changes:
        before = entries.get(change.path)
        if before is None:  # a first switch: the value in the file is the original
            before = Entry(change.path, change.old, change.old)
        ahead[change.path] = dataclasses.replace(before, pending=change.new)
    return tuple(ahead.values())
