"""A training run's claim on its folder: no two runs ever write into one.

``digitsum train --out DIR`` refuses a folder that already holds a run's model or checkpoint
(``--resume DIR`` is how a run goes on), a folder holding a ``config.json`` or
``progress.jsonl`` that no run wrote (the user's own), a folder holding a symbolic link (a
run would write through it, outside the folder), and a folder that another live run is writing,
whether it started with ``--out`` or ``--resume``. The claim is the folder's lock
(``core.folder_lock``), held until the run ends. Where the OS has no ``flock`` (Windows) only
the first rule holds.

    out = claim_run_folder("runs/a", resumed=False, default_name=False)
    ...  # train, writing into out
    release_run_folders()
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
from collections.abc import Callable
from pathlib import Path

from core.errors import DigitsumError, reason
from core.folder_lock import FolderLock
from core.models.store import numbered_run_folders

RUN_FILES = ("best.safetensors", "checkpoint.pt")  # what makes a folder a run worth keeping
LOG_FILES = ("config.json", "progress.jsonl")  # what a run that never wrote a model leaves
MAX_NAME_TRIES = 999  # default names tried before giving up (out, out-2, ..., out-999)
_held: dict[str, FolderLock] = {}  # folder -> the lock this process holds on it


class RunFolderError(DigitsumError, ValueError):
    """A run folder that this run may not write into; ``str()`` is a one-line reason."""


def lock_folder(folder: Path) -> bool:
    """Take the exclusive lock on ``folder`` for this process; False if another process holds it.

    Runs claim their folder with it, and ``digitsum synth`` its output folder: two commands
    never write into one folder at once. Released by ``release_run_folders`` or the end of
    the process.
    """
    key = os.path.realpath(folder)
    if key in _held:
        return True
    lock = FolderLock(folder)
    try:
        held = lock.acquire()
    except OSError:  # a file system that refuses the lock: never take another run's folder on trust
        held = False
    if not held:
        lock.release()
        return False
    _held[key] = lock
    return True


def claim_run_folder(out: str | os.PathLike, resumed: bool, default_name: bool) -> Path:
    """Create (or take) the run folder ``out`` for this process alone.

    Parameters
    ----------
    out : str or path
        The folder: ``--out``, ``--resume`` or the default ``runs/<time>-<arch>-<head>``.
    resumed : bool
        ``--resume``: the folder holds this very run; it only must not be in use.
    default_name : bool
        ``out`` is the default name: where it is taken, ``out-2``, ``out-3``, ... is used instead.

    Returns
    -------
    Path
        The folder claimed (``out`` itself unless ``default_name`` moved it on).

    Raises
    ------
    RunFolderError
        ``out`` is a file, holds another run's model or checkpoint, or a live run writes into it.
    """
    base = Path(out)
    for folder in itertools.islice(numbered_run_folders(base), MAX_NAME_TRIES):
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except FileExistsError:
            raise RunFolderError(f"--out {folder}: a file, not a folder") from None
        except OSError as exc:
            raise RunFolderError(f"cannot create the run folder {folder}: {reason(exc)}") from None
        if not lock_folder(folder):
            if default_name:
                continue
            raise RunFolderError(
                f"{folder}: another training run is writing into this folder now; wait for it, or choose another --out"
            )
        try:
            refuse_foreign_entries(folder, writes=None)
        except RunFolderError:
            release_run_folders(folder)
            raise
        if resumed:
            return folder
        found = [name for name in RUN_FILES if (folder / name).exists()]
        foreign = [name for name in LOG_FILES if (folder / name).exists() and not _written_by_a_run(folder / name)]
        if foreign and not default_name:
            release_run_folders(folder)
            raise RunFolderError(
                f"--out {folder} holds a {foreign[0]} that no training run wrote; a run would replace it: "
                "choose another --out"
            )
        if not found and not foreign:
            for name in LOG_FILES:  # a run that failed before its first model: its log starts afresh
                with contextlib.suppress(FileNotFoundError):
                    (folder / name).unlink()
            return folder
        release_run_folders(folder)
        if not default_name:
            raise RunFolderError(
                f"--out {folder} already holds a training run ({found[0]}); continue it with "
                f"--resume {folder}, or choose another --out"
            )
    raise RunFolderError(f"{base}: no free run folder name")


def refuse_foreign_entries(folder: Path, writes: Callable[[str], bool] | None = None) -> None:
    """Refuse ``folder`` where a command would write by name through a link, or onto a pipe,
    device, socket or folder: the one rule for what a command writes into a folder of its own.

    Parameters
    ----------
    folder : Path
        A run folder (``claim_run_folder``) or ``digitsum synth``'s output folder.
    writes : callable, optional
        Whether the command writes a file of this name (``synth``: its images and
        ``labels.csv``). None for a training run: it writes every file in its folder by name
        (models, checkpoints, logs, temporary files), so any link is refused.

    Raises
    ------
    RunFolderError
        Naming the first such entry; nothing has been written.
    """
    try:
        with os.scandir(folder) as scan:
            entries = sorted(scan, key=lambda entry: entry.name)
    except OSError:
        return  # (an unlistable folder: the first write says why)
    ours = writes or (lambda name: name in RUN_FILES or name in LOG_FILES)
    who, whose = ("a run", "the run's files") if writes is None else ("digitsum", "the files")
    for entry in entries:
        if entry.is_symlink() and (writes is None or ours(entry.name)):
            raise RunFolderError(
                f"{folder} holds a symbolic link ({entry.name}); {who} never writes through one, which would "
                f"change the file it points at: copy {whose} into a folder of their own"
            )
        if ours(entry.name) and not entry.is_file(follow_symlinks=False):
            raise RunFolderError(
                f"{folder / entry.name} is not a regular file (a folder, pipe, device or socket), and {who} "
                "writes a file of that name there: remove it, or choose another folder"
            )


def _written_by_a_run(path: Path) -> bool:
    """Whether ``path`` (a ``LOG_FILES`` name) is what ``digitsum train`` writes: a config with its
    ``args``, a progress log whose first line is an event; a user's own file of that name is not."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read(1 << 20) if path.name == "config.json" else f.readline(1 << 16)
        value = json.loads(text)
    except (OSError, ValueError, RecursionError):
        return False
    key = "args" if path.name == "config.json" else "event"
    return isinstance(value, dict) and key in value


def release_run_folders(folder: str | os.PathLike | None = None) -> None:
    """Give up this process's claim on ``folder`` (None: on every folder it holds)."""
    keys = list(_held) if folder is None else [os.path.realpath(folder)]
    for key in keys:
        lock = _held.pop(key, None)
        if lock is not None:
            lock.release()
