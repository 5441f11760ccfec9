"""Writing files so that a reader never sees half of one: the one mechanism for models,
checkpoints, CSVs, labels and int8 ranges."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Iterator


@contextlib.contextmanager
def atomic_path(dest: str | os.PathLike) -> Iterator[str]:
    """Yield a temporary path beside ``dest``; rename it onto ``dest`` if the block succeeds.

    On any failure (an exception, Ctrl-C) the temporary file is removed and ``dest`` is
    untouched. An existing ``dest`` keeps its permissions; a new one gets 0644 (mkstemp's
    0600 is for secrets, not for models and CSVs).
    """
    dest = Path(dest)
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
