"""Writing files so that a reader never sees half of one: the one mechanism for models,
checkpoints, CSVs, labels and int8 ranges."""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

NOT_REGULAR = "not a regular file (a device, pipe or socket): it is never replaced"


@contextlib.contextmanager
def atomic_path(dest: str | os.PathLike) -> Iterator[str]:
    """Yield a temporary path beside ``dest``; rename it onto ``dest`` if the block succeeds.

    On any failure (an exception, Ctrl-C) the temporary file is removed and ``dest`` is
    untouched. An existing ``dest`` keeps its permissions; a new one gets 0644 (mkstemp's
    0600 is for secrets, not for models and CSVs). A symbolic link is written through: the
    file it points at is replaced and the link stays a link.

    Raises
    ------
    OSError
        Among others when ``dest`` exists and is a device, pipe or socket: a rename would
        put a regular file in place of the device node (``/dev/null`` gone for everyone).
    """
    dest = Path(dest)
    if dest.is_symlink():
        dest = Path(os.path.realpath(dest))
    with contextlib.suppress(FileNotFoundError, NotADirectoryError):
        mode = os.stat(dest).st_mode
        if not stat.S_ISREG(mode) and not stat.S_ISDIR(mode):  # (a directory fails in os.replace, as it says)
            raise OSError(errno.EINVAL, NOT_REGULAR, str(dest))
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    os.close(fd)
    try:
        yield tmp
        os.chmod(tmp, dest.stat().st_mode & 0o777 if dest.is_file() else 0o644)
        os.replace(tmp, dest)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
