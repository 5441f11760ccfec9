"""The sample images, copied where a person may change them: the installed ones are never written.

``resources/samples`` holds 24 composed images and their ``labels.csv``. Opened in place, every
sum typed into the app would rewrite that ``labels.csv`` inside the installation (or fail on a
read-only one). So the app opens a copy in the user's data folder (``<data>/samples``):

    folder = copy_samples(data_dir / "samples")    # then open ``folder``

The copy's ``labels.csv`` is the person's once made: a later copy leaves it as it is (the sums
typed there stay) and only puts back images that are missing or differ from the installed ones.
Each file is written with ``core.files.atomic_path``.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from core import RESOURCES
from core.errors import DigitsumError, reason
from core.files import atomic_path
from core.labels.labels_csv import LABELS_NAME

SAMPLES = RESOURCES / "samples"


class SamplesError(DigitsumError, OSError):
    """The samples could not be copied; ``str()`` is a one-line reason."""


def _same_bytes(a: Path, b: Path) -> bool:
    try:
        return a.stat().st_size == b.stat().st_size and a.read_bytes() == b.read_bytes()
    except OSError:
        return False


def is_installed_samples(path: str | os.PathLike) -> bool:
    """Whether ``path`` is the installed ``resources/samples`` folder itself (by any name or link)."""
    try:
        return os.path.samefile(path, SAMPLES)
    except OSError:  # either is not there
        return False


def copy_samples(dest: str | os.PathLike, source: str | os.PathLike = SAMPLES) -> Path:
    """Copy the sample images and their ``labels.csv`` into ``dest`` (made if needed); return it.

    An existing ``labels.csv`` in ``dest`` is kept; an image is copied only where it is missing
    or differs from ``source``'s.

    Raises
    ------
    SamplesError
        If ``dest`` cannot be made or written (one line naming it).
    """
    dest, source = Path(dest), Path(source)
    try:
        dest.mkdir(parents=True, exist_ok=True)
        for src in sorted(source.iterdir()):
            target = dest / src.name
            if not src.is_file() or (src.name == LABELS_NAME and target.exists()) or _same_bytes(src, target):
                continue
            with atomic_path(target) as tmp:
                shutil.copyfile(src, tmp)
    except OSError as exc:
        raise SamplesError(f"cannot copy the sample images to {dest}: {reason(exc)}") from exc
    return dest
