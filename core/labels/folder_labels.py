"""The known sums of one image folder: its ``labels.csv`` plus the sums a person typed.

A correction is saved at once. Where the folder is writable it goes into the folder's own
``labels.csv`` (docs/ARCHITECTURE.md's labels format; the labels already there are kept; the file is
replaced atomically). Where it is not (a read-only share, a CD, someone else's folder), it
goes to the folder's corrections file in a per-user folder, named by a hash of the folder's
path (``<key>.csv``, with a ``<key>.folder`` note beside it that names the folder for people),
so the same folder finds its corrections again when it is reopened.

    labels = FolderLabels("scans/batch-7", corrections_dir="~/.local/share/digitsum/corrections")
    labels.set("img_0042.png", 17)      # -> scans/batch-7/labels.csv (or the corrections file)
    labels.sum_of("img_0042.png")       # 17
    spec = labels.training_spec(run_dir / "data")   # what ``digitsum train --data`` reads

Training reads a folder's ``labels.csv``; for a corrections file ``training_spec`` builds a
small folder of links to the labelled images with the merged labels beside them.

Two windows (or processes) may correct one folder at once. Each save therefore reads the
file again and changes only its own entry, under an exclusive ``flock`` on the folder that
holds the file: no correction of another process is ever lost, and each process sees the
others' corrections from its next save on. (Without ``flock``, on Windows, the file is read
again just before it is replaced, which narrows the window to milliseconds.)
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from core.errors import InputError, reason
from core.files import WriteError, atomic_text_file, atomic_write_bytes, require_regular
from core.folder_lock import FolderLock
from core.inputs.arrays import array_format
from core.inputs.listing import display_name
from core.inputs.samples import is_installed_samples
from core.labels.labels_csv import LABELS_MAX_BYTES, LABELS_NAME, read_labels_csv, write_labels_csv
from core.spec import MAX_SUM

FOLDER_NOTE_SUFFIX = ".folder"  # beside a corrections file: the note naming its folder, for people
LOCK_WAIT_S = 10.0  # a save holds the lock for milliseconds; longer means a process hung while holding it


@contextlib.contextmanager
def _saving(folder: Path):
    """Hold the lock of ``folder`` (``core.folder_lock``) while a labels file in it is read, merged and replaced.

    Raises
    ------
    core.files.WriteError
        If another process has held the lock for ``LOCK_WAIT_S`` seconds.
    """
    try:
        lock = FolderLock(folder)
    except OSError:
        yield  # a folder we cannot open cannot be written either: the write will say so
        return
    try:
        if not lock.acquire(wait_s=LOCK_WAIT_S):
            raise WriteError(f"cannot save to {folder}: another program holds its labels")
        yield
    finally:
        lock.release()


def _file_state(path: Path):
    """What tells a file's versions apart: inode (files are replaced, not rewritten), mtime, size."""
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_ino, st.st_mtime_ns, st.st_size


def folder_key(folder: str | os.PathLike) -> str:
    """A stable file-name-safe key for a folder: a hash of its absolute path."""
    return hashlib.sha256(str(Path(folder).resolve()).encode("utf-8")).hexdigest()[:20]


class FolderLabels:
    """Labels of one folder, merged from its ``labels.csv`` and its corrections file.

    Parameters
    ----------
    folder : str or Path
        The image folder; table rows name files relative to it (``core.inputs.listing.list_inputs``).
    corrections_dir : str or Path
        Per-user folder for the corrections files of folders whose ``labels.csv`` cannot be written.
    given : mapping of str to str, optional
        Names the caller uses for some files -> their names in the folder (image files opened
        one by one are named as given, e.g. by their full path; ``labels_of``). Every method
        that takes a name takes either.

    Attributes
    ----------
    labels : dict
        filename -> (sum, digits or None): everything known, corrections winning.
    corrected : set of str
        Files whose sum was typed in this app (this session, or earlier into its corrections file);
        ``typed(name)`` asks by any name.
    problem : str
        Why the folder's own ``labels.csv`` is not used (unreadable), else empty.
    before_change : callable, optional
        Called with this object before each save changes a labels file (``_save``): where
        ``core.labels.backup`` takes its copy of the files as they were.
    """

    def __init__(self, folder: str | os.PathLike, corrections_dir: str | os.PathLike, given=None):
        self.folder = Path(folder).resolve()
        self.labels_path = self.folder / LABELS_NAME
        self.corrections_path = Path(corrections_dir) / f"{folder_key(self.folder)}.csv"
        self._given = dict(given or {})
        self.before_change = None
        self._read()

    def _read(self) -> None:
        """Read ``labels.csv`` and the corrections file (again); what was typed here stays marked as such."""
        typed = getattr(self, "corrected", set())
        self.problem = ""
        # taken before reading: a change made meanwhile shows as a change
        self._read_state = {path: _file_state(path) for path in (self.labels_path, self.corrections_path)}
        file_labels: dict = {}
        if self.labels_path.is_file():
            try:
                file_labels = read_labels_csv(self.labels_path)
            except InputError as exc:
                # never overwrite a file we could not read: the person's labels would be lost
                self.problem = str(exc)
        corrections: dict = {}
        if self.corrections_path.is_file():
            try:
                corrections = read_labels_csv(self.corrections_path)
            except InputError:
                corrections = {}
        self._file_labels = file_labels
        self._corrections = corrections
        self.labels = {**file_labels, **corrections}
        self.corrected = set(corrections) | {n for n in typed if n in self.labels}
        # the installed samples' labels.csv is the app's, never a person's: see core.inputs.samples
        self.uses_corrections_file = bool(corrections) or bool(self.problem) or is_installed_samples(self.folder)

    # --- reading -----------------------------------------------------------------------------
    def is_current(self) -> bool:
        """True while neither ``labels.csv`` nor the corrections file has changed on disk since it was
        read (or written here): reading them again would give the same labels."""
        return all(state == _file_state(path) for path, state in self._read_state.items())

    def key(self, name: str) -> str:
        """The name in the folder's labels of a file the caller calls ``name``."""
        return self._given.get(name, name)

    def sum_of(self, name: str) -> int | None:
        """The known sum of ``name`` (a label or a correction), or None."""
        known = self.labels.get(self.key(name))
        return None if known is None else known[0]

    def typed(self, name: str) -> bool:
        """Whether the sum of ``name`` was typed in this app, rather than read from the folder's labels.csv."""
        return self.key(name) in self.corrected

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def folder_note_path(self) -> Path:
        """The note beside the corrections file that names this folder: its own name is a hash."""
        return self.corrections_path.with_suffix(FOLDER_NOTE_SUFFIX)

    @property
    def saved_to(self) -> Path:
        """Where the next correction will be written."""
        return self.corrections_path if self.uses_corrections_file else self.labels_path

    def accuracy(self, predictions) -> tuple[int, int]:
        """(right, known): predictions ``(name, predicted_sum or None)`` against the known sums."""
        right = known = 0
        for name, predicted in predictions:
            truth = self.sum_of(name)
            if truth is None:
                continue
            known += 1
            right += int(predicted is not None and predicted == truth)
        return right, known

    # --- writing -----------------------------------------------------------------------------
    def set(self, name: str, total: int | None) -> Path:
        """Record ``total`` as the sum of ``name`` (None: forget it) and save at once.

        Returns the file written. Digits already known are kept only while they still add
        up to the sum. Raises ``ValueError`` for a sum outside 0..36 and
        ``core.files.WriteError`` when neither the folder nor the corrections file can be written
        (nothing is changed then).
        """
        if total is not None and (isinstance(total, bool) or not isinstance(total, int) or not 0 <= total <= MAX_SUM):
            raise ValueError(f"a sum is a whole number 0..{MAX_SUM}, got {total!r}")
        name = self.key(name)
        old = self.labels.get(name)
        if total is None:
            entry = None
        else:
            digits = old[1] if old and old[1] and sum(int(c) for c in old[1]) == total else None
            entry = (total, digits)
        return self._save({name: entry})

    def forget(self, names) -> Path:
        """Forget the sums of ``names`` in one write (a bulk clear of 1,500 rows is one file written,
        not 1,500). Returns the file written; raises as ``set`` does."""
        return self._save(dict.fromkeys(self.key(name) for name in names))

    def _save(self, entries: dict) -> Path:
        """Save ``entries`` (name -> (sum, digits) or None), all in one write: ``set`` past its checks."""
        if self.before_change is not None:
            self.before_change(self)
        if not self.uses_corrections_file:
            try:
                with _saving(self.folder):
                    merged = self._current(self.labels_path, self._file_labels)
                    for name, entry in entries.items():
                        _put(merged, name, entry)
                    write_labels_csv(self.labels_path, merged)
                    self._read_state[self.labels_path] = _file_state(self.labels_path)
            except (WriteError, InputError):  # read-only folder, or a labels.csv now unreadable: the corrections file
                self.uses_corrections_file = True
            else:
                self._file_labels = merged
                self._commit(entries, self.labels_path)
                return self.labels_path
        self.corrections_path.parent.mkdir(parents=True, exist_ok=True)
        with _saving(self.corrections_path.parent):
            try:
                corrections = self._current(self.corrections_path, self._corrections)
            except InputError:
                corrections = dict(self._corrections)  # (ours alone: never read as broken by us, so replace it)
            for name, entry in entries.items():
                _put(corrections, name, entry)
            write_labels_csv(self.corrections_path, corrections)
            self._read_state[self.corrections_path] = _file_state(self.corrections_path)
        self._corrections = corrections
        self._commit(entries, self.corrections_path)
        # a note beside the hashed name says which folder it belongs to: written as every file is
        # (atomic_path), and only for people, so a note that cannot be written (a folder of that
        # name, a full disk) never turns the saved correction into an error
        with contextlib.suppress(WriteError), atomic_text_file(self.folder_note_path) as f:
            f.write(str(self.folder) + "\n")
        return self.corrections_path

    def _current(self, path: Path, known: dict) -> dict:
        """The labels in ``path`` now (a copy of ``known`` when it has not changed since we read or wrote it).

        Another process may have saved corrections meanwhile: they are merged in, not lost.
        Raises ``InputError`` if the file has become unreadable.
        """
        if _file_state(path) == self._read_state.get(path):
            return dict(known)
        if not path.is_file():
            return {}
        theirs = read_labels_csv(path)
        for other, value in theirs.items():  # what others saved is now known here too
            if path == self.corrections_path:
                self.corrected.add(other)
            if other not in self._corrections or path == self.corrections_path:
                self.labels[other] = value
        return theirs

    def _commit(self, entries: dict, written: Path) -> None:
        for name, entry in entries.items():
            _put(self.labels, name, entry)
            if entry is None:
                self.corrected.discard(name)
                if name in self._file_labels and name not in self._corrections:
                    self.labels[name] = self._file_labels[name]
            else:
                self.corrected.add(name)

    # --- undo ----------------------------------------------------------------------------------
    def snapshot(self) -> LabelsSnapshot:
        """The labels files as they are now, byte for byte, and what they say: what ``restore`` puts back."""
        return LabelsSnapshot(
            {path: _read_bytes(path) for path in (self.labels_path, self.corrections_path)},
            dict(self.labels),
            frozenset(self.corrected),
        )

    def restore(self, snapshot: LabelsSnapshot, now: LabelsSnapshot) -> None:
        """Put the labels back as ``snapshot`` recorded them (undo; redo with the two swapped).

        ``now`` is the snapshot taken right after the change being undone. Where the files
        still hold what ``now`` recorded (no one else has saved since), they get ``snapshot``'s
        bytes back: the same rows in the same order, digits and other columns included. Where
        another window or process has saved meanwhile, only the sums that differ between the
        two snapshots are put back, by name, and the others' corrections stay.

        Raises
        ------
        core.files.WriteError
            If a file cannot be written (the labels are read again: what is shown is what is on disk).
        """
        names = set(snapshot.labels) | set(now.labels)
        changed = {n: snapshot.labels.get(n) for n in names if snapshot.labels.get(n) != now.labels.get(n)}
        try:
            if all(_read_bytes(path) == content for path, content in now.files.items()):
                for path, content in snapshot.files.items():
                    if content != now.files[path]:
                        _put_back(path, content, note=path == self.corrections_path)
            else:
                self._read()  # the others' corrections first
                if changed:
                    self._save(changed)
        finally:
            self._read()
            # a sum put back is typed or not as it was then: an undone correction of a sum that
            # came with labels.csv is the folder's again
            for name in changed:
                if name in snapshot.typed or name in self._corrections:
                    self.corrected.add(name)
                else:
                    self.corrected.discard(name)

    # --- training ----------------------------------------------------------------------------
    def training_spec(self, stage_dir: str | os.PathLike) -> str:
        """A ``--data`` spec holding these labels: the folder itself, or a staged copy.

        With corrections in a corrections file, ``stage_dir`` is filled with links (copies where the
        system cannot link) to the labelled images and the merged ``labels.csv``.
        """
        if not self.uses_corrections_file:
            return str(self.folder)
        stage = Path(stage_dir)
        stage.mkdir(parents=True, exist_ok=True)
        staged = {}
        for name, entry in self.labels.items():
            rel = Path(name)
            source = self.folder / rel
            if rel.is_absolute() or ".." in rel.parts or not source.is_file():
                continue
            target = stage / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            if not target.exists():
                try:
                    target.symlink_to(source)
                except OSError:  # Windows without the symlink privilege
                    shutil.copy2(source, target)
            staged[name] = entry
        write_labels_csv(stage / LABELS_NAME, staged)
        return str(stage)


@dataclass(frozen=True)
class LabelsSnapshot:
    """``FolderLabels.snapshot()``: each labels file's bytes (None: no file), the labels they hold,
    and the names whose sums were typed in this app."""

    files: dict
    labels: dict
    typed: frozenset = frozenset()


def labels_of(inputs, corrections_dir: str | os.PathLike) -> FolderLabels | None:
    """The labels behind what a window opened: one folder's, or those of the folder holding the
    image files opened (one, or several from one folder), by the names they are given; else None.

    A sum typed for an image opened alone goes where it would go had its folder been opened
    (its ``labels.csv``, or its corrections file), so opening the folder later finds it.
    """
    paths = [Path(p) for p in inputs]
    if len(paths) == 1 and paths[0].is_dir():
        return FolderLabels(paths[0], corrections_dir)
    if not paths or not all(p.is_file() and not array_format(p) for p in paths):
        return None  # several folders, arrays (their sums are their lab*.npy), nothing
    folders = {Path(os.path.abspath(p)).parent for p in paths}  # where its name is (not a link's target)
    if len(folders) != 1:
        return None
    return FolderLabels(folders.pop(), corrections_dir, {display_name(str(p)): display_name(p.name) for p in paths})


def _read_bytes(path: Path) -> bytes | None:
    try:  # a labels.csv that is a pipe hung the window here (this runs before every correction)
        require_regular(path, LABELS_MAX_BYTES)
        return path.read_bytes()
    except OSError:  # no such file (or none we can read: then it is never written back)
        return None


def _put_back(path: Path, content: bytes | None, note: bool = False) -> None:
    """Make ``path`` hold ``content`` again (None: remove it, and with ``note`` a corrections
    file's ``.folder`` note beside it), atomically, under the lock of its folder."""
    try:
        with _saving(path.parent):
            if content is None:
                path.unlink(missing_ok=True)
                if note:
                    path.with_suffix(FOLDER_NOTE_SUFFIX).unlink(missing_ok=True)
            else:
                atomic_write_bytes(path, content)
    except OSError as exc:
        raise WriteError(f"cannot write {path}: {reason(exc)}") from exc


def _put(labels: dict, name: str, entry) -> None:
    if entry is None:
        labels.pop(name, None)
    else:
        labels[name] = entry
