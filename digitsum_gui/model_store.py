"""Where the app keeps its own files: trained models (one folder per run), corrections, labels
backups and the copy of the sample images.

All live in the per-user data folder ``app_data_dir()``: ``~/.local/share/digitsum`` on
Linux, the same under ``%APPDATA%`` on Windows and ``~/Library/Application Support`` on macOS.
Tests point ``ModelStore`` at a temporary folder, or turn on
``QStandardPaths.setTestModeEnabled(True)``, so they never touch the real one.
The listing and deleting itself is ``core.models.store`` (Qt-free); this class adds a ``changed``
signal so every open view refreshes when a run finishes or a model is deleted.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QObject, QStandardPaths, Signal

from core.models.store import StoredModel, delete_run, list_models, reserve_run_folder


def app_data_dir() -> Path:
    """The per-user data folder of this app (not created here).

    Qt's ``AppDataLocation`` is ``<data>/<organisation>/<application>``; both are "digitsum",
    which would name the folder twice (``digitsum/digitsum``), so the app uses the
    organisation's folder. Runs and corrections that an earlier version kept one level down
    are moved up once (a rename on the same disk); if that fails they stay where they are
    and that folder is used.
    """
    location = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    if not location:  # no home folder at all: fall back to the current folder, visibly
        return Path.cwd() / "digitsum-data"
    location = Path(location)
    if location.name != location.parent.name:
        return location
    folder, legacy = location.parent, location
    try:
        for name in ("runs", "corrections"):
            if (legacy / name).is_dir() and not (folder / name).exists():
                (legacy / name).rename(folder / name)
        if legacy.is_dir() and not any(legacy.iterdir()):
            legacy.rmdir()
    except OSError:
        return legacy
    return folder


class ModelStore(QObject):
    """The app's model store and corrections folder.

    Parameters
    ----------
    root : str or Path, optional
        The data folder (default: ``app_data_dir()``); runs go to ``root/runs``, the
        corrections files of read-only folders to ``root/corrections``, labels backups to ``root/backups``, the sample
        images' copy to ``root/samples``.

    Signals
    -------
    changed()
        A run was added or deleted.
    """

    changed = Signal()

    def __init__(self, root: str | os.PathLike | None = None, parent: QObject | None = None):
        super().__init__(parent)
        self.root = Path(root) if root is not None else app_data_dir()

    @property
    def runs_dir(self) -> Path:
        return self.root / "runs"

    @property
    def corrections_dir(self) -> Path:
        return self.root / "corrections"

    @property
    def backups_dir(self) -> Path:
        """Each folder's labels as they were when it was opened (``core.labels.backup``)."""
        return self.root / "backups"

    @property
    def samples_dir(self) -> Path:
        """The copy of the sample images that Help > Sample Images opens (``core.inputs.samples``)."""
        return self.root / "samples"

    def reserve(self, arch: str, head: str) -> Path:
        """A new, empty run folder (``<time>-<arch>-<head>``, suffixed if the name is taken)."""
        return reserve_run_folder(self.runs_dir, arch, head)

    def models(self, extra: tuple[str | os.PathLike, ...] = ()) -> list[StoredModel]:
        """``core.models.store.StoredModel`` for every finished run, newest first, then ``extra`` files."""
        return list_models(self.runs_dir, tuple(extra))

    def delete(self, model_path: str | os.PathLike, in_use: str | os.PathLike | None) -> None:
        """Delete a run (raises ``core.models.store.StoreError`` for the model in use, a foreign file, a folder
        that could not be removed)."""
        try:
            delete_run(self.runs_dir, model_path, in_use)
        finally:  # a removal that failed halfway may have taken the model file already: the lists look again
            self.changed.emit()

    def notify_changed(self) -> None:
        self.changed.emit()
