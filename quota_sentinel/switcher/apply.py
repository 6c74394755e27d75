"""One switcher cycle on disk: read the config, reconcile, decide, write safely, remember.

Order of writes (so a crash at any instant loses no original): the state with the pending
models, then the config (atomic, only if it still holds the bytes the plan was made from), then
the state as it now is. A config saved by someone else in between is read and planned again.
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from quota_sentinel.switcher import files, jsonc, opencode, plan, state
from quota_sentinel.switcher.errors import SwitcherError
from quota_sentinel.switcher.plan import Change, Decision, Entry, Target

MAX_ATTEMPTS = 5

Decide = Callable[[list[Target], dict[plan.Path, Entry]], Decision]


@dataclass(frozen=True)
class Outcome:
    """What a cycle found and did.

    Args:
        config: the config's path.
        targets: its model settings as read.
        changes: the model values rewritten (or that would be, under --dry-run).
        notes: sentences worth showing (stays, hand edits adopted).
        entries: the switched targets remembered afterwards.
        diff: the unified diff of the change, under --dry-run.
    """

    config: Path
    targets: tuple[Target, ...]
    changes: tuple[Change, ...]
    notes: tuple[str, ...]
    entries: tuple[Entry, ...]
    diff: str | None = None


class ConfigFiles:
    """The files of one config: the config, its sidecar and its state file."""

    def __init__(self, config: Path) -> None:
        self.config = config

    def read(self) -> bytes:
        try:
            return self.config.read_bytes()
        except OSError as exc:
            raise SwitcherError(f"cannot read {self.config}: {exc.strerror or exc}.") from None

    def replace(self, expected: bytes, data: bytes) -> None:
        files.replace_if_unchanged(self.config, expected, data)

    def fallbacks(self) -> opencode.Fallbacks:
        return opencode.read_sidecar(opencode.sidecar_for(self.config))

    def load_state(self) -> tuple[Entry, ...]:
        return state.load(self.config)

    def save_state(self, entries: tuple[Entry, ...]) -> None:
        state.save(self.config, entries)


def read_document(config: Path, raw: bytes) -> jsonc.Document:
    """Decodes and parses a config's bytes.

    Raises:
        SwitcherError: not UTF-8, or not JSONC; the message names the line and column.
    """
    try:
        return jsonc.parse(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise SwitcherError(f"{config.name} is not UTF-8 text.") from None
    except jsonc.JsoncError as exc:
        raise SwitcherError(f"{config.name} is not valid JSONC: {exc}.") from None


def unified_diff(config: Path, old: str, new: str) -> str:
    """A unified diff of the config, as `diff -u` prints it."""

    def lines(text: str) -> list[str]:
        return [line if line.endswith("\n") else line + "\n" for line in text.splitlines(True)]

    return "".join(difflib.unified_diff(lines(old), lines(new), str(config), str(config)))


def run(config_files: ConfigFiles, decide: Decide, dry_run: bool = False) -> Outcome:
    """Plans against the config as it is now and writes the result safely.

    Args:
        config_files: the config's files.
        decide: the decision for these targets and remembered entries (`plan.decide` with
            the current health bound in, or `plan.restore`).
        dry_run: compute and diff, write nothing (not even the state).

    Raises:
        SwitcherError: unreadable config or state, or a config that kept changing.
    """
    config = config_files.config
    for _ in range(MAX_ATTEMPTS):
        raw = config_files.read()
        doc = read_document(config, raw)
        targets = opencode.targets(doc.value, config_files.fallbacks())
        stored = config_files.load_state()
        entries, notes = plan.reconcile(
            stored, {t.path: t.model for t in targets}, {t.path: t.label for t in targets}
        )
        decision = decide(targets, entries)
        text = doc.text
        if decision.changes:
            text = jsonc.replace_strings(doc, {c.path: c.new for c in decision.changes}).text
        outcome = Outcome(
            config, tuple(targets), decision.changes, (*notes, *decision.notes), decision.entries
        )
        if dry_run:
            return dataclasses.replace(outcome, diff=unified_diff(config, doc.text, text))
        try:
            if decision.changes:
                config_files.save_state(plan.write_ahead(entries, decision))
                config_files.replace(raw, text.encode("utf-8"))
            if decision.entries != stored or decision.changes:
                config_files.save_state(decision.entries)
        except files.ConfigChanged:
            continue
        except OSError as exc:
            where = exc.filename or config
            raise SwitcherError(f"cannot write {where}: {exc.strerror or exc}.") from None
        return outcome
    raise SwitcherError(
        f"{config.name} kept changing while quota-sentinel tried to write it; nothing was "
        "written, the next check tries again."
    )


def restore(config_files: ConfigFiles, dry_run: bool = False) -> Outcome:
    """Puts every remembered original back and forgets them."""
    return run(config_files, plan.restore, dry_run)
