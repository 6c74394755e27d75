"""The switcher's own failures (files, configs, the server it starts); the API client's failures
(`Unreachable`, `ApiError`) live with the client in `quota_sentinel.client`."""

from __future__ import annotations

from quota_sentinel.exits import UserError


class SwitcherError(UserError):
    """Something the user can fix in the switcher's files or setup; `message` says what."""
