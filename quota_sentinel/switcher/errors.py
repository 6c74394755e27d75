"""The switcher's failures: each carries one sentence for people and the exit code it means."""

from __future__ import annotations

import enum


class Exit(enum.IntEnum):
    """Exit codes of `quota-sentinel switch` (the same values as the rest of the CLI)."""

    OK = 0
    ERROR = 1
    UNREACHABLE = 2


class SwitcherError(Exception):
    """Something the user can fix; `message` says what, in one sentence."""

    exit_code = Exit.ERROR

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Unreachable(SwitcherError):
    """Nothing (or not quota-sentinel) answers at the sentinel URL."""

    exit_code = Exit.UNREACHABLE


class ApiError(SwitcherError):
    """The API answered with an error; `status` is the HTTP status."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status
