"""Exit codes of every `quota-sentinel` command, and the error that carries one to the user."""

from __future__ import annotations

import enum


class Exit(enum.IntEnum):
    """One table of exit codes for the whole CLI.

    `guard` exits with the recommendation (PROCEED, PROCEED_SMALL_ONLY, STOP) or NO_ANSWER; the
    other commands with OK, ERROR or UNREACHABLE. PROCEED and NO_ANSWER are other names of OK and
    UNREACHABLE, so a script can test either word.
    """

    OK = 0
    ERROR = 1
    UNREACHABLE = 2
    PROCEED_SMALL_ONLY = 10
    STOP = 20
    PROCEED = 0
    NO_ANSWER = 2


class UserError(Exception):
    """Something the user can fix; `message` says what in one sentence, `exit_code` how to exit."""

    exit_code = Exit.ERROR

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
