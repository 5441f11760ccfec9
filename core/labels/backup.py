"""A copy of a folder's labels as they were when it was opened: what File > Restore Labels Backup puts back.

Before the first change to a folder's true sums after it is opened, ``LabelsBackup.take`` copies
the files that hold them (the folder's ``labels.csv``, and the corrections file where the sums
of a read-only folder go, ``core.labels.folder_labels``) into the user's data folder, one backup
per image folder, named like the corrections file by a hash of the folder's path:

    <data>/backups/<folder key>/labels.csv     the folder's labels.csv, byte for byte
    <data>/backups/<folder key>/sidecar.csv    the folder's corrections file, likewise
    <data>/backups/<folder key>/backup.json    the folder, when, each file's SHA-256 (null: there was none)

Not beside ``labels.csv``: a read-only folder cannot hold one, and a data folder (read by
other tools, often under version control) should not grow files nobody asked for. The next
opening's first change replaces the backup. Each file is written with
``core.files.atomic_write_bytes``, the note last: a backup whose files do not match their note (a
crash while one was taken) is refused, never half restored.

    backup = LabelsBackup(labels.folder, data_dir / "backups")   # one per opening of the folder
    labels.before_change = backup.take   # called before every save; copies before the first only
    backup.info()                    # BackupInfo(taken=..., sums=...), or None
    backup.restore(labels)           # the files put back as they were then
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from core.errors import DigitsumError, InputError, reason
from core.files import atomic_write_bytes, require_regular
from core.labels.folder_labels import FolderLabels, LabelsSnapshot, folder_key
from core.labels.labels_csv import LABELS_MAX_BYTES, read_labels_csv

NOTE_NAME = "backup.json"
# The copies' names in a backup folder: the folder's labels.csv, and its corrections file (named
# sidecar.csv in backups already taken, so it keeps that name).
LABELS_COPY, CORRECTIONS_COPY = "labels.csv", "sidecar.csv"
FILE_NAMES = (LABELS_COPY, CORRECTIONS_COPY)


class BackupError(DigitsumError, OSError):
    """A backup that could not be taken, read or restored; ``str()`` is a one-line reason."""


@dataclass(frozen=True)
class BackupInfo:
    """What a backup holds: the image folder, when it was taken, and the labels then."""

    folder: Path
    taken: datetime
    files: dict  # LABELS_COPY / CORRECTIONS_COPY -> bytes, or None where there was no such file
    labels: dict  # filename -> (sum, digits), as FolderLabels merges them
    typed: frozenset  # the names whose sums were in the corrections file (typed in this app)

    @property
    def sums(self) -> int:
        return len(self.labels)


def _sha256(content: bytes | None) -> str | None:
    return None if content is None else hashlib.sha256(content).hexdigest()


class LabelsBackup:
    """The backup of one image folder's labels, for one opening of it: ``take`` copies once.

    Parameters
    ----------
    folder : str or Path
        The image folder (``FolderLabels.folder``).
    backup_dir : str or Path
        The per-user folder that holds every folder's backup (``<data>/backups``).
    """

    def __init__(self, folder: str | os.PathLike, backup_dir: str | os.PathLike):
        self.folder = Path(folder).resolve()
        self.path = Path(backup_dir) / folder_key(self.folder)
        self.taken = False  # by this object (this opening); a failed take counts, it is said once

    def exists(self) -> bool:
        """Whether a backup has been taken (cheap: its note is there; ``info`` checks the rest)."""
        return (self.path / NOTE_NAME).is_file()

    def take(self, labels: FolderLabels) -> bool:
        """Copy ``labels``' files as they are now over the folder's previous backup, the first
        time only (later changes of the same opening keep the copy of the files as they were);
        whether it copied.

        A file that exists but cannot be read is left out: a restore leaves it as it is then.

        Raises
        ------
        BackupError
            If the backup cannot be written (the data folder is full or read-only).
        """
        if self.taken:
            return False
        self.taken = True
        found = {}
        for name, path in zip(FILE_NAMES, (labels.labels_path, labels.corrections_path), strict=True):
            try:  # a pipe named labels.csv would hold the window here, before every first change
                require_regular(path, LABELS_MAX_BYTES)
                found[name] = path.read_bytes()
            except FileNotFoundError:
                found[name] = None
            except OSError:
                continue  # there, but unreadable: not ours to put back
        note = {
            "folder": str(self.folder),
            "taken": datetime.now().astimezone().isoformat(timespec="seconds"),
            "sha256": {name: _sha256(content) for name, content in found.items()},
        }
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            for name, content in found.items():
                if content is None:
                    (self.path / name).unlink(missing_ok=True)
                else:
                    atomic_write_bytes(self.path / name, content)
            atomic_write_bytes(self.path / NOTE_NAME, (json.dumps(note, indent=1) + "\n").encode("utf-8"))
        except OSError as exc:
            raise BackupError(f"cannot write a backup to {self.path}: {reason(exc)}") from exc
        return True

    def info(self) -> BackupInfo | None:
        """The backup, read and checked against its note; None where none was taken.

        Raises
        ------
        BackupError
            If the backup cannot be read, belongs to another folder, or its files are not
            the ones its note names (a take cut short).
        """
        try:
            note = json.loads((self.path / NOTE_NAME).read_text(encoding="utf-8"))
            if Path(note["folder"]) != self.folder:
                raise BackupError(f"the backup in {self.path} belongs to {note['folder']}")
            taken = datetime.fromisoformat(note["taken"])
            files = {}
            for name, digest in note["sha256"].items():
                if name not in FILE_NAMES:
                    continue
                files[name] = None if digest is None else (self.path / name).read_bytes()
                if _sha256(files[name]) != digest:
                    raise BackupError(f"the backup in {self.path} is incomplete ({name} is not the one taken)")
        except FileNotFoundError:
            if not self.exists():
                return None
            raise BackupError(f"the backup in {self.path} is incomplete (a file is missing)") from None
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise BackupError(f"cannot read the backup in {self.path}: {reason(exc)}") from None
        labels: dict = {}
        typed: set = set()
        for name in FILE_NAMES:
            if files.get(name) is None:
                continue
            try:
                found = read_labels_csv(self.path / name)
            except InputError:
                found = {}  # (a labels.csv the app could not read either: put back as it was, byte for byte)
            labels.update(found)
            if name == CORRECTIONS_COPY:
                typed.update(found)
        return BackupInfo(self.folder, taken, files, labels, frozenset(typed))

    def restore(self, labels: FolderLabels, info: BackupInfo | None = None) -> BackupInfo:
        """Put ``labels``' files back as the backup holds them (a file there was none of is removed).

        Goes through ``FolderLabels.restore``: under the folder's lock, each file replaced
        atomically, and where another window has saved meanwhile only the sums that differ are
        put back. ``info``: the backup as read before (``info()``), where a new one has been
        taken since. Returns what was restored.

        Raises
        ------
        BackupError
            If there is no usable backup; ``core.files.WriteError`` if a file cannot be written.
        """
        info = info or self.info()
        if info is None:
            raise BackupError(f"no backup of the labels of {self.folder} has been taken")
        paths = dict(zip(FILE_NAMES, (labels.labels_path, labels.corrections_path), strict=True))
        snapshot = LabelsSnapshot({paths[n]: c for n, c in info.files.items()}, dict(info.labels), info.typed)
        labels.restore(snapshot, labels.snapshot())
        return info
