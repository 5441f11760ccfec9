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
