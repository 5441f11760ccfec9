"""What memory and disk can take: counts the user names are checked here before any work starts.

``digitsum synth --count 2000000`` used to compose for a minute and then fail, and
``synthetic:10**20`` or ``--val-size 10**12`` ended in tracebacks after eating the machine's
memory. Every count option goes through ``require_memory`` or ``require_disk`` (or, for an
epoch's composed images, which are made batch by batch, ``MAX_PER_EPOCH``), so a count that
cannot fit is one line before the first image.
"""

from __future__ import annotations

import os
import shutil

from core.errors import InputError

# composed images per epoch (``synthetic:N``): made batch by batch; a hundred million images is
# days of training on any machine, and a larger N is a typing mistake
MAX_PER_EPOCH = 100_000_000


def _gb(n: float) -> str:
    """``n`` bytes as a person reads them: GB where that says something, else MB or KB
    (a nearly full disk said "0.0 GB of disk; 0.0 GB is free")."""
    for unit, size in (("GB", 1e9), ("MB", 1e6)):
        if n >= size / 10:
            return f"{n / size:.1f} {unit}"
    return f"{n / 1e3:.0f} KB"


def available_memory() -> int | None:
    """Bytes of memory available to a new allocation (Linux ``MemAvailable``, else free pages),
    or None where this system does not say (Windows, macOS): then nothing is refused."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None


def require_memory(what: str, count: int, bytes_each: int) -> None:
    """Refuse ``count`` items of ``bytes_each`` that would take more than half the available memory.

    Raises
    ------
    InputError
        One line: what was asked, what it needs, what there is.
    """
    need, have = count * bytes_each, available_memory()
    if have is not None and need > have // 2:
        raise InputError(f"{what}: {count:,} images need about {_gb(need)} of memory; {_gb(have)} is available")


def require_disk(what: str, folder, count: int, bytes_each: int) -> None:
    """Refuse writing ``count`` files of about ``bytes_each`` into ``folder`` (or the folder it will be in).

    Each file takes at least one block of the filesystem, and one inode.

    Raises
    ------
    InputError
        One line: what was asked, what it needs, what there is.
    """
    place = os.path.abspath(folder)
    while not os.path.exists(place) and os.path.dirname(place) != place:  # the disk it will be on
        place = os.path.dirname(place)
    try:
        have = shutil.disk_usage(place).free
    except OSError:  # (a drive that is not there: creating the folder says why)
        return
    st = os.statvfs(place) if hasattr(os, "statvfs") else None  # (Windows: no blocks or inodes to count)
    block = max(st.f_frsize, 1) if st else 4096
    need = count * -(-bytes_each // block) * block
    if need > have:
        raise InputError(f"{what}: {count:,} files need about {_gb(need)} of disk; {_gb(have)} is free there")
    if st and st.f_files and count > st.f_favail:  # f_files 0: a filesystem without an inode count
        raise InputError(f"{what}: {count:,} files, but the disk there has room for {st.f_favail:,} more")
