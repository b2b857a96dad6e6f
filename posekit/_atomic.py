"""Atomic file output: write beside the target, then rename, so nothing is half-written.

Temporary files get the mode any other writer would give the file, ``0o666`` less the
process umask, instead of ``mkstemp``'s private ``0o600``: the rename keeps the mode, so
outputs would otherwise be unreadable to the user's group.
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["atomic_path", "temp_beside", "current_umask"]

_UMASK_LOCK = threading.Lock()


def current_umask() -> int:
    """The process umask, read without changing it where Linux allows (other threads may
    be creating files at that moment)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    with _UMASK_LOCK:
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def temp_beside(path: str | Path, suffix: str | None = None) -> Path:
    """Create an empty temporary file next to ``path`` (hidden, same suffix unless
    ``suffix``) with the usual file mode; the caller renames or removes it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.stem}.", dir=path.parent,
                                suffix=suffix if suffix is not None else (path.suffix or ".tmp"))
    os.close(fd)
    tmp = Path(name)
    try:
        os.chmod(tmp, 0o666 & ~current_umask())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


@contextmanager
def atomic_path(path: str | Path, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it replaces ``path``.

    The temporary file keeps ``path``'s suffix (or ``suffix``) so that writers which pick a
    format from the name (matplotlib, PIL) still work; it gets the usual file mode (not
    mkstemp's private 0600). On any exception it is removed and ``path`` is untouched.
    """
    path = Path(path)
    tmp = temp_beside(path, suffix)
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
