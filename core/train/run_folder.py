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
    release_folders()  # core.folder_lock
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
from pathlib import Path

from core.errors import reason
from core.folder_lock import FolderClaimError, claim_folder, refuse_foreign_entries, release_folders
from core.models.store import numbered_run_folders

RUN_FILES = ("best.safetensors", "checkpoint.pt")  # what makes a folder a run worth keeping
LOG_FILES = ("config.json", "progress.jsonl")  # what a run that never wrote a model leaves
MAX_NAME_TRIES = 999  # default names tried before giving up (out, out-2, ..., out-999)


class RunFolderError(FolderClaimError):
    """A run folder that this run may not write into; ``str()`` is a one-line reason."""


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
        if not claim_folder(folder):
            if default_name:
                continue
            raise RunFolderError(
                f"{folder}: another training run is writing into this folder now; wait for it, or choose another --out"
            )
        try:  # a run writes every file in its folder by name (models, checkpoints, logs, temporaries)
            refuse_foreign_entries(folder, _run_writes, any_link=True, who="a run", whose="the run's files")
        except FolderClaimError as exc:
            release_folders(folder)
            raise RunFolderError(str(exc)) from None
        if resumed:
            return folder
        found = [name for name in RUN_FILES if (folder / name).exists()]
        foreign = [name for name in LOG_FILES if (folder / name).exists() and not _written_by_a_run(folder / name)]
        if foreign and not default_name:
            release_folders(folder)
            raise RunFolderError(
                f"--out {folder} holds a {foreign[0]} that no training run wrote; a run would replace it: "
                "choose another --out"
            )
        if not found and not foreign:
            for name in LOG_FILES:  # a run that failed before its first model: its log starts afresh
                with contextlib.suppress(FileNotFoundError):
                    (folder / name).unlink()
            return folder
        release_folders(folder)
        if not default_name:
            raise RunFolderError(
                f"--out {folder} already holds a training run ({found[0]}); continue it with "
                f"--resume {folder}, or choose another --out"
            )
    raise RunFolderError(f"{base}: no free run folder name")


def _run_writes(name: str) -> bool:
    """Whether a training run writes a file of this name into its folder (so it must be a plain file)."""
    return name in RUN_FILES or name in LOG_FILES


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
