"""The switcher's modes: --restore (offline), --once / --dry-run (one check), and the daemon."""

from __future__ import annotations

import contextlib
import json
import signal
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from quota_sentinel.client import Client, Unreachable
from quota_sentinel.exits import Exit, UserError
from quota_sentinel.switcher import apply, credentials, files, health, opencode, plan, report
from quota_sentinel.switcher.apply import ConfigFiles, Outcome
from quota_sentinel.switcher.server import Started, ensure_running
from quota_sentinel.switcher.session import FIRST_DATA_WAIT_S, Session


class Stopped(BaseException):
    """SIGTERM or SIGHUP: stop like Ctrl-C does (deregister, exit 0)."""


@contextlib.contextmanager
def stop_on_signals() -> Iterator[None]:
    """Turns SIGTERM/SIGHUP into `Stopped` while the switcher runs (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, frame: object) -> None:
        raise Stopped(signum)

    names = [s for s in ("SIGTERM", "SIGHUP") if hasattr(signal, s)]
    previous = {name: signal.signal(getattr(signal, name), stop) for name in names}
    try:
        yield
    finally:
        for name, handler in previous.items():
            signal.signal(getattr(signal, name), handler)


@dataclass(frozen=True)
class Options:
    config: Path | None
    sentinel_url: str
    poll_interval_s: int
    recovery_hold: int
    once: bool
    restore: bool
    dry_run: bool
    as_json: bool
    autostart: bool
    cwd: Path
    env: Mapping[str, str]


class Runner:
    """Runs one invocation of `quota-sentinel switch`.

    Args:
        options: the command line.
        out / err: print one line to stdout / stderr.
    """

    def __init__(
        self, options: Options, out: Callable[[str], None], err: Callable[[str], None]
    ) -> None:
        self.o = options
        self.out = out
        self.err = err
        self.config = opencode.find_config(options.config, options.cwd)
        self.files = ConfigFiles(self.config)
        self._shown_notes: tuple[str, ...] = ()
        self.started: Started | None = None

    def run(self) -> Exit:
        # A broken config or sidecar fails before anything else happens.
        doc = apply.read_document(self.config, self.files.read())
        opencode.targets(doc.value, self.files.fallbacks())
        if not self.o.dry_run:
            files.check_writable(self.config)
        if self.o.restore:
            outcome = apply.restore(self.files, self.o.dry_run)
            self._show(outcome, report.Context("restore", self.o.recovery_hold, self.o.dry_run))
            return Exit.OK
        client = Client(self.o.sentinel_url, agent="quota-sentinel-switch")
        try:
            started = ensure_running(client, self.o.autostart, self.o.env)
            return self._with_session(client, started)
        finally:
            client.close()

    def _with_session(self, client: Client, started: Started | None) -> Exit:
        session = Session(
            client, self.config.parent.name or "opencode", self.o.poll_interval_s, self._gather
        )
        self.started = started
        stopped = deregistered = False
        with stop_on_signals():
            try:
                session.register()
                if self.o.once or self.o.dry_run:
                    self._check(session, first=True, mode="once")
                else:
                    self._daemon(session)
            except (KeyboardInterrupt, Stopped):
                stopped = True
            finally:
                with contextlib.suppress(UserError):
                    session.close()
                    deregistered = True
        if stopped and not self.o.as_json:
            self.err(
                "quota-sentinel: stopped; the instance is deregistered."
                if deregistered
                else "quota-sentinel: stopped; the server did not answer, so it forgets the "
                "instance once its heartbeats stop."
            )
        return Exit.OK

    def _daemon(self, session: Session) -> None:
        if not self.o.as_json:
            self.out(
                f"Watching {self.config} every {self.o.poll_interval_s} s as instance "
                f"{session.instance_id} of {self.o.sentinel_url} (back to an original after "
                f"{self.o.recovery_hold} GREEN polls); Ctrl-C stops."
            )
        first = True
        while True:
            try:
                self._check(session, first=first, mode="daemon")
                first = False
            except Unreachable as exc:
                self.err(f"quota-sentinel: {exc.message} Nothing was changed; trying again.")
            except UserError as exc:
                self.err(f"quota-sentinel: {exc.message}")
            time.sleep(self.o.poll_interval_s)

    def _gather(self) -> credentials.Found:
        """Credentials for every model the config uses, and every remembered original."""
        doc = apply.read_document(self.config, self.files.read())
        models: set[str] = set()
        for target in opencode.targets(doc.value, self.files.fallbacks()):
            models |= {target.model, *target.fallbacks}
        for entry in self.files.load_state():
            models |= {entry.original, entry.current}
        return credentials.collect(sorted(models), doc.value, self.config.parent, self.o.env)

    def _check(self, session: Session, first: bool, mode: str) -> Outcome:
        if session.key is None:
            session.register()
        elif not first:
            session.heartbeat()
        # The first check asks for a fresh poll; later ones follow the server's schedule.
        body, waiting = session.statuses(wait_s=FIRST_DATA_WAIT_S if first else 0.0, fresh=first)
        healths = health.healths(body)
        hold = self.o.recovery_hold
        outcome = apply.run(
            self.files, lambda t, e: plan.decide(t, e, healths, hold), self.o.dry_run
        )
        ctx = report.Context(
            mode,
            hold,
            self.o.dry_run,
            session.instance_id,
            self.started if first else None,
            tuple(session.warnings) if first else (),
            session.sources,
            tuple(waiting),
            healths,
            session.advice() if self.o.as_json else None,
        )
        self._show(outcome, ctx)
        return outcome

    def _show(self, outcome: Outcome, ctx: report.Context) -> None:
        if self.o.as_json:
            self.out(json.dumps(report.summary(outcome, ctx), ensure_ascii=False))
            return
        notes = None
        if ctx.mode == "daemon":  # a note is shown when it first appears, not every minute
            notes = tuple(n for n in outcome.notes if n not in self._shown_notes)
            self._shown_notes = outcome.notes
        if ctx.started is not None:
            s = ctx.started
            self.out(
                f"Started quota-sentinel at {s.url} (pid {s.pid}, log {s.log}); it keeps "
                "running after the switcher exits."
            )
        for line in report.text(outcome, ctx, notes):
            self.out(line)
