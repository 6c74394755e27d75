"""What each Claude Code hook event answers, in Claude Code's hook protocol.

Claude Code runs a command hook with the event as JSON on stdin and reads its exit code: 0 goes
on (stdout JSON may add `hookSpecificOutput.additionalContext` for the model, or a
`systemMessage` shown to the user), 2 blocks (the prompt, or the tool call) with stderr as the
reason, and anything else is a non-blocking error. So only a fresh STOP (or, for subagents, a
fresh PROCEED_SMALL_ONLY) exits 2; every failure exits 0 with a warning: a hook never blocks by
accident.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from quota_sentinel.agents.link import Answer

# Claude Code's exit code that blocks the prompt or the tool call; stderr is the reason.
BLOCK = 2
GO_ON = 0
SUBAGENT_TOOLS = ("Agent", "Task")  # Task until Claude Code 2.1.63, Agent since
EVENTS = ("session-start", "user-prompt-submit", "pre-tool-use")
_EVENT_NAMES = {
    "session-start": "SessionStart",
    "user-prompt-submit": "UserPromptSubmit",
    "pre-tool-use": "PreToolUse",
}
_SEVERITY = {"RED": 3, "YELLOW": 2, "GREEN": 1}


@dataclass(frozen=True)
class Reply:
    """The hook's exit code and what it prints."""

    code: int
    stdout: str = ""
    stderr: str = ""


def _clock(iso: str | None, now: float) -> str | None:
    if not iso:
        return None
    try:
        at = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return None
    minutes = max(0, round((at.timestamp() - now) / 60))
    span = f"{minutes} min" if minutes < 120 else f"{minutes / 60:.1f} h"
    return f"{at.astimezone(UTC):%H:%M} UTC (in {span})"


def _windows(status: Mapping[str, Any], wanted: str) -> list[tuple[str, str, Mapping[str, Any]]]:
    found = []
    for provider, body in sorted((status.get("providers") or {}).items()):
        for name, window in sorted(((body or {}).get("windows") or {}).items()):
            if isinstance(window, Mapping) and window.get("status") == wanted:
                found.append((provider, name, window))
    return found


def _percent(value: Any) -> str:
    return f"{value:.0f} %" if isinstance(value, int | float) else "?"


def red_sentence(status: Mapping[str, Any], now: float) -> str:
    """One sentence: which window is RED and when it resets."""
    reds = _windows(status, "RED")
    if not reds:
        return f"quota-sentinel says STOP: {status.get('message') or 'a provider is RED'}"
    parts = []
    for provider, name, window in reds:
        part = (
            f"{provider}'s {name} window is RED ({_percent(window.get('utilization'))} used, "
            f"cap {_percent(window.get('effective_cap') or window.get('cap'))})"
        )
        reset = _clock(window.get("resets_at"), now)
        parts.append(part + (f" and resets at {reset}" if reset else ""))
    return f"quota-sentinel says STOP: {'; '.join(parts)}."


def _yellow_phrase(status: Mapping[str, Any]) -> str:
    parts = []
    for provider, name, window in _windows(status, "YELLOW"):
        left = window.get("projected_exhaustion_min")
        eta = f", cap in ~{left:.0f} min" if isinstance(left, int | float) else ""
        parts.append(
            f"{provider}'s {name} window is YELLOW ({_percent(window.get('utilization'))}{eta})"
        )
    return "; ".join(parts)


def status_line(answer: Answer, now: float) -> str:
    """The one line a session starts with: what to do, why, and how current it is."""
    status = answer.status
    if status is None:
        why = answer.problem or "no answer"
        line = f"quota-sentinel has no quota status for this project yet ({why}); proceed normally."
        return line + (f" ({answer.note}.)" if answer.note else "")
    rec = status.get("recommendation")
    if rec == "STOP":
        line = red_sentence(status, now) + " Do not start new work until the window resets."
    elif rec == "PROCEED_SMALL_ONLY":
        detail = _yellow_phrase(status) or status.get("message", "")
        line = (
            f"quota-sentinel says PROCEED_SMALL_ONLY: {detail}; keep tasks small and do not "
            "launch subagents."
        )
    else:
        line = f"quota-sentinel says {rec or 'PROCEED'}: {status.get('message', '')}"
    return line + _staleness(answer)


def _staleness(answer: Answer) -> str:
    if answer.fresh:
        return f" ({answer.note}.)" if answer.note else ""
    age = f"{answer.age_s / 60:.0f} min old" if answer.age_s is not None else "of unknown age"
    note = f"; {answer.note}" if answer.note else ""
    return f" (from the cache, {age}: {answer.problem}{note})"


def _context(event: str, text: str) -> str:
    output = {"hookEventName": _EVENT_NAMES[event], "additionalContext": text}
    return json.dumps({"hookSpecificOutput": output})


def _warning(text: str) -> str:
    return json.dumps({"systemMessage": text})


def session_start(answer: Answer, now: float) -> Reply:
    """Tells the session, in its context, where the quota stands."""
    return Reply(GO_ON, _context("session-start", status_line(answer, now)))


def user_prompt_submit(answer: Answer, now: float) -> Reply:
    """Blocks the prompt on a fresh STOP; warns (and lets it through) when the sentinel is out."""
    if not answer.fresh:
        last = f" Last known: {status_line(answer, now)}" if answer.status else ""
        return Reply(
            GO_ON,
            _warning(
                f"quota-sentinel could not check the quota ({answer.problem}); the prompt "
                f"goes through.{last}"
            ),
        )
    if answer.recommendation == "STOP":
        return Reply(BLOCK, stderr=red_sentence(answer.status or {}, now))
    if answer.recommendation == "PROCEED_SMALL_ONLY":
        return Reply(GO_ON, _context("user-prompt-submit", status_line(answer, now)))
    return Reply(GO_ON)


def pre_tool_use(answer: Answer, tool: str, now: float) -> Reply:
    """Refuses a subagent on a fresh PROCEED_SMALL_ONLY or STOP."""
    if tool not in SUBAGENT_TOOLS:
        return Reply(GO_ON)
    if not answer.fresh:
        return Reply(
            GO_ON,
            _warning(
                f"quota-sentinel could not check the quota ({answer.problem}); the "
                "subagent may start."
            ),
        )
    rec = answer.recommendation
    if rec in ("PROCEED_SMALL_ONLY", "STOP"):
        why = red_sentence(answer.status or {}, now) if rec == "STOP" else status_line(answer, now)
        return Reply(BLOCK, stderr=f"No subagents now: {why}")
    return Reply(GO_ON)


def failed_open(event: str, problem: str) -> Reply:
    """Anything unexpected: go on, and say so."""
    verb = "the session starts" if event == "session-start" else "Claude Code goes on"
    return Reply(GO_ON, _warning(f"quota-sentinel's hook failed ({problem}); {verb} unchecked."))
