"""Files that hold secrets or personal data: owner-only from the moment they exist.

The issuer store holds names, identity numbers and every license's salts; keystores hold keys. Their
folders are created ``0700`` and the files ``0600`` before any library opens them (SQLite gives its
``-wal`` and ``-shm`` files the database file's permissions), whatever the process's umask.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

__all__ = ["private_dir", "private_file"]

log = logging.getLogger("elicense.files")


def private_dir(path: Path) -> Path:
    """Create ``path`` (and missing parents) as ``0700``. A folder that exists already keeps its
    permissions (it may be shared, like /tmp) but a warning says when others can read it."""
    missing = []
    current = path
    while not current.exists():
        missing.append(current)
        current = current.parent
    for folder in reversed(missing):
        folder.mkdir(mode=0o700, exist_ok=True)
        os.chmod(folder, 0o700)  # mkdir's mode is masked by the umask
    mode = path.stat().st_mode
    if not missing and mode & (stat.S_IRWXG | stat.S_IRWXO) and not mode & stat.S_ISVTX:
        log.warning("%s can be read by other users (mode %o); chmod 700 it", path, stat.S_IMODE(mode))
    return path


def private_file(path: Path) -> Path:
    """Make sure ``path`` exists as a file only its owner can read and write (its folder is made
    with :func:`private_dir`); an existing file is narrowed to ``0600``."""
    private_dir(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        os.fchmod(fd, 0o600)
    finally:
        os.close(fd)
    for suffix in ("-wal", "-shm", "-journal"):
        companion = path.with_name(path.name + suffix)
        if companion.exists():
            os.chmod(companion, 0o600)
    return path
