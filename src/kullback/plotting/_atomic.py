"""Write a file all at once or not at all: a temporary file beside it, then a rename.

A failed write (a full disk, a bad format) leaves no truncated file behind and keeps any old
file of that name. A symbolic link is followed, so the link stays and its target is replaced;
a target that is not a regular file (a device such as ``/dev/null``, a FIFO) is written
directly, as there is nothing to rename over.

Examples
--------
>>> import tempfile, pathlib
>>> from kullback.plotting._atomic import write_atomically
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> write_atomically(folder / "a.txt", lambda f: f.write(b"hello")).read_bytes()
b'hello'
>>> def fail(f):
...     f.write(b"half")
...     raise OSError(28, "No space left on device")
>>> write_atomically(folder / "a.txt", fail)
Traceback (most recent call last):
...
OSError: [Errno 28] No space left on device
>>> (folder / "a.txt").read_bytes(), sorted(p.name for p in folder.iterdir())
(b'hello', ['a.txt'])
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

__all__ = ["write_atomically"]


def _mode_for(target: Path) -> int:
    """The permissions the new file gets: the old file's, else the umask's default."""
    try:
        return stat.S_IMODE(target.stat().st_mode)
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def write_atomically(path: str | Path, write: Callable[[IO[bytes]], Any]) -> Path:
    """Call ``write(binary_file)`` and put what it wrote at ``path`` in one step.

    Returns ``path``; any exception from ``write`` or the file system propagates after the
    temporary file is removed.
    """
    path = Path(path)
    target = Path(os.path.realpath(path))
    if target.exists() and not target.is_file():  # a device or FIFO: nothing to rename over
        with open(target, "wb") as f:
            write(f)
        return path
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, _mode_for(target))
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return path
