"""Crash-safe file replacement: temp file beside the target, fsync, rename, mode kept.

A reader (OpenCode starting a session) sees either the old file or the new one, never a part;
a process killed at any instant leaves at most a stray temp file, which the next write removes.
A symlinked config is written through to its target, so the link stays a link.
"""

from __future__ import annotations

import contextlib
import glob
import os
import stat
import tempfile
from pathlib import Path

from quota_sentinel.switcher.errors import SwitcherError

TEMP_SUFFIX = ".qs-tmp"
NEW_FILE_MODE = 0o644


class ConfigChanged(Exception):
    """The file changed since it was read (someone saved it meanwhile): plan again."""


def real_path(path: Path) -> Path:
    """Where the bytes of `path` live: symlinks resolved."""
    return Path(os.path.realpath(path))


def check_writable(path: Path) -> None:
    """Refuses, with a sentence, a file the switcher must not or cannot replace.

    A file without any write permission bit is read-only on purpose, even for root (who could
    write it anyway); a directory that refuses new files makes an atomic replace impossible.

    Raises:
        SwitcherError: read-only file or unwritable directory.
    """
    target = real_path(path)
    mode = target.stat().st_mode
    if not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH) or not os.access(target, os.W_OK):
        shown = path if target == path.absolute() else f"{path} (→ {target})"
        raise SwitcherError(
            f"{shown} is read-only; make it writable (chmod u+w) to let quota-sentinel switch "
            "models, or use --dry-run to see what it would change."
        )
    if not os.access(target.parent, os.W_OK | os.X_OK):
        raise SwitcherError(
            f"cannot create files in {target.parent}, which a safe (atomic) replace of "
            f"{target.name} needs; make the directory writable."
        )


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_temps(target: Path) -> None:
    """Removes temp files of `target` left by writers that died (their pid is gone)."""
    for leftover in target.parent.glob(f".{glob.escape(target.name)}.*{TEMP_SUFFIX}"):
        pid = leftover.name[: -len(TEMP_SUFFIX)].rpartition(".")[2]
        if pid.isdigit() and int(pid) != os.getpid() and not _pid_alive(int(pid)):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):  # not every platform can open a directory
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def atomic_write(path: Path, data: bytes) -> None:
    """Replaces (or creates) `path` with `data` atomically, keeping its mode and owner.

    Args:
        path: the file; a symlink is followed and its target replaced.
        data: the new content.
    """
    target = real_path(path)
    try:
        before: os.stat_result | None = target.stat()
    except FileNotFoundError:
        before = None
    remove_stale_temps(target)
    fd, tmp = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=f".{os.getpid()}{TEMP_SUFFIX}", dir=target.parent
    )
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), stat.S_IMODE(before.st_mode) if before else NEW_FILE_MODE)
            if before is not None and hasattr(os, "fchown"):
                with contextlib.suppress(PermissionError):
                    os.fchown(handle.fileno(), before.st_uid, before.st_gid)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_dir(target.parent)


def replace_if_unchanged(path: Path, expected: bytes, data: bytes) -> None:
    """Writes `data` to `path` unless its content is no longer `expected`.

    Raises:
        ConfigChanged: the file changed since it was read; nothing was written.
    """
    if real_path(path).read_bytes() != expected:
        raise ConfigChanged(str(path))
    atomic_write(path, data)
