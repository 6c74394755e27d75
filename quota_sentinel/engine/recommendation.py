"""What an agent is told (PROCEED, PROCEED_SMALL_ONLY, STOP), per agent framework."""

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from .status import Status, worst_status


class Recommendation(StrEnum):
    """The instruction for an agent; the value equals the name."""

    PROCEED = "PROCEED"
    PROCEED_SMALL_ONLY = "PROCEED_SMALL_ONLY"
    STOP = "STOP"


@dataclass(frozen=True)
class Advice:
    """A recommendation with the reasons an agent or a person needs.

    Attributes:
        overall_status: Worst status across the providers.
        recommendation: What the agent should do.
        message: One plain sentence naming the providers concerned.
        alternative_providers: GREEN providers to switch to, sorted; empty if none apply.
        all_exhausted: True when there is at least one provider and every one is RED.
    """

    overall_status: Status
    recommendation: Recommendation
    message: str
    alternative_providers: list[str]
    all_exhausted: bool

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form with the enums as their strings.

        Returns:
            A dict of plain values.
        """
        return {
            "overall_status": self.overall_status.value,
            "recommendation": self.recommendation.value,
            "message": self.message,
            "alternative_providers": list(self.alternative_providers),
            "all_exhausted": self.all_exhausted,
        }


def _names(names: list[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def _are(names: list[str], status: Status) -> str:
    verb = "is" if len(names) == 1 else "are"
    return f"{_names(names)} {verb} {status.value}"


def _trouble(red: list[str], yellow: list[str]) -> str:
    parts = [_are(red, Status.RED)] if red else []
    if yellow:
        parts.append(_are(yellow, Status.YELLOW))
    return " and ".join(parts)


def _with(statuses: Mapping[str, Status], status: Status) -> list[str]:
    return sorted(name for name, s in statuses.items() if s == status)


def _advice(
    statuses: Mapping[str, Status],
    rec: Recommendation,
    message: str,
    alternatives: tuple[str, ...] = (),
) -> Advice:
    exhausted = bool(statuses) and all(s == Status.RED for s in statuses.values())
    return Advice(worst_status(statuses.values()), rec, message, list(alternatives), exhausted)


def _no_trouble(statuses: Mapping[str, Status]) -> Advice:
    unknown = _with(statuses, Status.UNKNOWN)
    if len(unknown) == len(statuses):
        return _advice(statuses, Recommendation.PROCEED, "There is no current quota data; proceed.")
    note = f" (no current data for {_names(unknown)})" if unknown else ""
    message = f"No provider is near its cap{note}; proceed."
    return _advice(statuses, Recommendation.PROCEED, message)


def _strict(statuses: Mapping[str, Status]) -> Advice:
    red, yellow = _with(statuses, Status.RED), _with(statuses, Status.YELLOW)
    if red:
        windows = "its window resets" if len(red) == 1 else "their windows reset"
        message = f"{_are(red, Status.RED)}; stop until {windows}."
        return _advice(statuses, Recommendation.STOP, message)
    if yellow:
        message = f"{_are(yellow, Status.YELLOW)}; take on small tasks only."
        return _advice(statuses, Recommendation.PROCEED_SMALL_ONLY, message)
    return _no_trouble(statuses)


def _fallback_aware(statuses: Mapping[str, Status]) -> Advice:
    red, yellow = _with(statuses, Status.RED), _with(statuses, Status.YELLOW)
    green = _with(statuses, Status.GREEN)
    if red and len(red) == len(statuses):
        message = f"Every provider is RED ({_names(red)}); stop until a window resets."
        return _advice(statuses, Recommendation.STOP, message)
    if not red and not yellow:
        return _no_trouble(statuses)
    trouble = _trouble(red, yellow)
    if green:
        message = f"{trouble}; switch to {_names(green)}."
        return _advice(statuses, Recommendation.PROCEED, message, tuple(green))
    if yellow:
        message = f"{trouble}; use {_names(yellow)} for small tasks only."
    else:
        unknown = _names(_with(statuses, Status.UNKNOWN))
        message = f"{trouble} and there is no current data for {unknown}; take on small tasks only."
    return _advice(statuses, Recommendation.PROCEED_SMALL_ONLY, message)


def recommend(framework: str, provider_statuses: Mapping[str, Status]) -> Advice:
    """Turn provider statuses into advice for one agent framework.

    `claude` is strict: one RED provider stops the agent, because it cannot switch provider on
    its own. `opencode` can fall back between providers, so it stops only when every provider
    is RED and otherwise names the GREEN ones to use. Any other framework gets the strict rule,
    since stopping needlessly is cheaper than running a quota dry.

    Args:
        framework: The instance's agent framework, such as "claude" or "opencode".
        provider_statuses: Provider name to that provider's status (its worst window).

    Returns:
        The advice; PROCEED with a "no current data" message when there are no providers or every
        one is UNKNOWN.
    """
    if framework.strip().lower() == "opencode":
        return _fallback_aware(provider_statuses)
    return _strict(provider_statuses)
