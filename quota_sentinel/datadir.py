"""The data directory holds the generated secret key and the embedded Redis's files (encrypted
credentials, hashed API keys): only its owner may enter it (0700), and the key file is 0600."""

from __future__ import annotations

import os
import stat
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: Path) -> Path:
    """Creates `path` (and parents) as 0700, or takes group and other access away from an
    existing one that this user owns (a data dir made by an older version, or by hand)."""
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    _tighten(path, DIR_MODE)
    return path


def private_file(path: Path) -> None:
    """Takes group and other access away from an existing file this user owns."""
    _tighten(path, FILE_MODE)


def _tighten(path: Path, mode: int) -> None:
    info = path.stat()
    if info.st_uid == os.getuid() and stat.S_IMODE(info.st_mode) & 0o077:
        os.chmod(path, mode)
