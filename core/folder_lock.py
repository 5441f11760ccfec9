"""An exclusive lock on a folder: the one way two processes keep out of each other's writes.

The lock is a ``flock`` on the folder itself, not on a lock file: nothing is left behind in
the folder, and the kernel drops the lock when the process ends, however it ends (a SIGKILL
included). Its users:

- a training run holds its run folder for the whole run (``core.train.run_folder``), and
  ``digitsum synth`` its output folder;
- a labels save holds the labels file's folder while it reads, merges and replaces the file
  (``core.labels.folder_labels``).

Where the OS has no ``flock`` (Windows) a lock always succeeds and holds nothing: each user
says what it does instead.

    lock = FolderLock(folder)   # opens the folder (OSError if it cannot)
    if lock.acquire(wait_s=10):
        ...                     # this process alone writes here
    lock.release()
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

from core.errors import DigitsumError

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None

FOLDER_LOCKS = fcntl is not None  # whether a FolderLock keeps other processes out on this OS
RETRY_S = 0.005  # how often a waiting acquire tries again


class FolderLock:
    """An exclusive ``flock`` on one folder, held until ``release`` or the end of the process.

    Parameters
    ----------
    folder : str or path
        Opened at once (read-only, as a directory can be), so that a folder that cannot be
        opened is an ``OSError`` here rather than a lock that looks taken by someone else.

    Raises
    ------
    OSError
        The folder cannot be opened.
    """

    def __init__(self, folder: str | os.PathLike):
        self.folder = folder
        self._fd = os.open(folder, os.O_RDONLY) if FOLDER_LOCKS else None

    def acquire(self, wait_s: float = 0.0) -> bool:
        """Take the lock, waiting up to ``wait_s`` seconds while another process holds it.

        Returns
        -------
        bool
            False if another process still holds it (True, holding nothing, without ``flock``).

        Raises
        ------
        OSError
            The file system refuses ``flock`` for another reason than a holder (e.g. ``ENOLCK``).
        """
        if self._fd is None:
            return True
        deadline = time.monotonic() + wait_s
        while True:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    return False
                time.sleep(RETRY_S)

    def release(self) -> None:
        """Give the lock up (if held) and close the folder; the lock cannot be taken again."""
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor drops its flock
            self._fd = None


# ---- a command's claim on the folder it writes into: held for the process, one rule for links


class FolderClaimError(DigitsumError, ValueError):
    """A folder a command may not write into; ``str()`` is a one-line reason."""


_claims: dict[str, FolderLock] = {}  # folder -> the lock this process holds on it


def claim_folder(folder: Path) -> bool:
    """Take the exclusive lock on ``folder`` for this process; False if another process holds it.

    Runs claim their folder with it, and ``digitsum synth`` its output folder: two commands
    never write into one folder at once. Released by ``release_folders`` or the end of the
    process.
    """
    key = os.path.realpath(folder)
    if key in _claims:
        return True
    lock = FolderLock(folder)
    try:
        held = lock.acquire()
    except OSError:  # a file system that refuses the lock: never take another run's folder on trust
        held = False
    if not held:
        lock.release()
        return False
    _claims[key] = lock
    return True


def release_folders(folder: str | os.PathLike | None = None) -> None:
    """Give up this process's claim on ``folder`` (None: on every folder it holds)."""
    keys = list(_claims) if folder is None else [os.path.realpath(folder)]
    for key in keys:
        lock = _claims.pop(key, None)
        if lock is not None:
            lock.release()


def refuse_foreign_entries(
    folder: Path, writes: Callable[[str], bool], any_link: bool = False, who: str = "digitsum", whose: str = "the files"
) -> None:
    """Refuse ``folder`` where a command would write by name through a link, or onto a pipe,
    device, socket or folder: the one rule for what a command writes into a folder of its own.

    Parameters
    ----------
    folder : Path
        A run folder (``claim_run_folder``) or ``digitsum synth``'s output folder.
    writes : callable
        Whether the command writes a file of this name (``synth``: its images and
        ``labels.csv``; a training run: its models, checkpoints and logs).
    any_link : bool
        Refuse a link of any name (a training run also writes temporary files by name).
    who, whose : str
        The command and its files, as the message names them.

    Raises
    ------
    FolderClaimError
        Naming the first such entry; nothing has been written.
    """
    try:
        with os.scandir(folder) as scan:
            entries = sorted(scan, key=lambda entry: entry.name)
    except OSError:
        return  # (an unlistable folder: the first write says why)
    for entry in entries:
        if entry.is_symlink() and (any_link or writes(entry.name)):
            raise FolderClaimError(
                f"{folder} holds a symbolic link ({entry.name}); {who} never writes through one, which would "
                f"change the file it points at: copy {whose} into a folder of their own"
            )
        if writes(entry.name) and not entry.is_file(follow_symlinks=False):
            raise FolderClaimError(
                f"{folder / entry.name} is not a regular file (a folder, pipe, device or socket), and {who} "
                "writes a file of that name there: remove it, or choose another folder"
            )
