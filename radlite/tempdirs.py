"""Temporary folders a run owns, marked so that the next run can remove them if the run was killed.

A process killed with SIGKILL runs no ``finally``: the folders it made in $TMPDIR stay. Each folder
made here holds an owner marker (``OWNER_FILE``: host, pid and the pid's start time); a later run
removes a folder of $TMPDIR only when it holds such a marker, written by this user on this host,
whose process is gone (no such pid, or a pid reused by a process that started at another time).
Folders are found by their marker, never by a name pattern, so nothing another program made is
touched, nor a folder of a run still going.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import stat
import tempfile

OWNER_FILE = ".radlite-owner.json"


def process_start(pid: int) -> str | None:
    """The start time of process ``pid`` in clock ticks since boot (Linux /proc), None where unknown."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            fields = fh.read().rsplit(b")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return fields[19].decode() if len(fields) > 19 else None


def _alive(pid: int, started: str | None) -> bool:
    """True while process ``pid`` runs and is the one that wrote the marker (not a reused pid)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process with that pid: not ours to judge, keep the folder
    now = process_start(pid)
    return started is None or now is None or now == started


def owned_tempdir(prefix: str, parent: str | None = None) -> str:
    """A new folder in $TMPDIR (or ``parent``) marked as this process's."""
    directory = tempfile.mkdtemp(prefix=prefix, dir=parent)
    mark_owned(directory)
    return directory


def mark_owned(directory: str) -> None:
    """Write the owner marker of this process into ``directory``."""
    owner = {"host": socket.gethostname(), "pid": os.getpid(), "started": process_start(os.getpid())}
    with open(os.path.join(directory, OWNER_FILE), "w") as fh:
        json.dump(owner, fh)


def _owner(directory: str) -> dict | None:
    """The marker of ``directory`` when it is a plain file of this user, else None."""
    path = os.path.join(directory, OWNER_FILE)
    try:
        info = os.lstat(path)
        if not stat.S_ISREG(info.st_mode) or info.st_uid != os.getuid():
            return None
        with open(path) as fh:
            owner = json.load(fh)
    except (OSError, ValueError):
        return None
    return owner if isinstance(owner, dict) and isinstance(owner.get("pid"), int) else None


def is_stale(directory: str) -> bool:
    """True for a marked folder of this host whose owning process is gone."""
    owner = _owner(directory)
    if owner is None or owner.get("host") != socket.gethostname():
        return False
    return not _alive(owner["pid"], owner.get("started"))


def remove_stale(parent: str | None = None) -> list[str]:
    """Remove the stale marked folders directly under ``parent`` ($TMPDIR by default); returns them."""
    parent = parent or tempfile.gettempdir()
    removed = []
    try:
        entries = list(os.scandir(parent))
    except OSError:
        return removed
    for entry in entries:
        if entry.is_dir(follow_symlinks=False) and is_stale(entry.path):
            shutil.rmtree(entry.path, ignore_errors=True)
            removed.append(entry.path)
    return removed
