"""Where the app keeps its own files: trained models (one folder per run) and corrections.

Both live in the per-user data folder that ``QStandardPaths.AppDataLocation`` names, an
organisation folder and an application folder, both "digitsum": ``~/.local/share/digitsum/digitsum``
on Linux, the same under ``%APPDATA%`` on Windows and ``~/Library/Application Support`` on macOS.
Tests point ``ModelStore`` at a temporary folder, or turn on
``QStandardPaths.setTestModeEnabled(True)``, so they never touch the real one.
The listing and deleting itself is ``core.store`` (Qt-free); this class adds a ``changed``
signal so every open view refreshes when a run finishes or a model is deleted.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QStandardPaths, Signal

from core.store import delete_run, list_models, reserve_run_folder


def app_data_dir() -> Path:
    """The per-user data folder of this app (not created here)."""
    location = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    if not location:  # no home folder at all: fall back to the current folder, visibly
        location = str(Path.cwd() / "digitsum-data")
    return Path(location)


class ModelStore(QObject):
    """The app's model store and corrections folder.

    Parameters
    ----------
    root : str or Path, optional
        The data folder (default: ``app_data_dir()``); runs go to ``root/runs``, sidecar
        corrections to ``root/corrections``.

    Signals
    -------
    changed()
        A run was added or deleted.
    """

    changed = Signal()

    def __init__(self, root=None, parent=None):
        super().__init__(parent)
        self.root = Path(root) if root is not None else app_data_dir()

    @property
    def runs_dir(self) -> Path:
        return self.root / "runs"

    @property
    def corrections_dir(self) -> Path:
        return self.root / "corrections"

    def reserve(self, arch: str, head: str) -> Path:
        """A new, empty run folder (``<time>-<arch>-<head>``, suffixed if the name is taken)."""
        return reserve_run_folder(self.runs_dir, arch, head)

    def models(self, extra=()) -> list:
        """``core.store.StoredModel`` for every finished run, newest first, then ``extra`` files."""
        return list_models(self.runs_dir, tuple(extra))

    def delete(self, model_path, in_use) -> None:
        """Delete a run (raises ``core.store.StoreError`` for the model in use or a foreign file)."""
        delete_run(self.runs_dir, model_path, in_use)
        self.changed.emit()

    def notify_changed(self) -> None:
        self.changed.emit()
