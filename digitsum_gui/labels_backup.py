"""File > Restore Labels Backup...: the open folder's true sums as they were when it was opened.

``core.labels.backup`` takes and restores the copy; this controller decides when to take it and
offers it back. A backup is taken before the first change after each opening
(``MainWindow.opened``, connected to ``new_round``, starts a round; every labels object the table shows gets the hook
``FolderLabels.before_change``), not on every change: a second sum typed must not replace the
copy of the file as it was. Restoring asks first, saying which files are replaced (or removed,
where there was none) and how many sums each side holds, with No as the default; the restore
is one undo step, so Edit > Undo brings back the sums as they were before it. A restore is a
change too: as the first of an opening, the sums it replaces become the backup (a restore
chosen by mistake can be restored after the app is closed).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QMessageBox, QStatusBar, QWidget

from digitsum_gui.actions import ActionSpec, make_actions
from digitsum_gui.message_boxes import open_box, show_error, show_info
from digitsum_gui.status_bar import plural

if TYPE_CHECKING:
    from core.labels.backup import LabelsBackup
    from core.labels.folder_labels import FolderLabels
    from digitsum_gui.table.model import PredictionTableModel


class LabelsBackupController(QObject):
    """The labels backups of the folders opened in one ``MainWindow``.

    Parameters
    ----------
    model : PredictionTableModel
        The table's rows and labels. Made after the ``LabelsController``: the hook goes on
        the labels that controller reads.
    status : QStatusBar
        Where a restore is said.
    backups_dir : Path
        Where backups go (``ModelStore.backups_dir``).
    parent : QWidget
        The window: questions open over it.

    Attributes
    ----------
    action_specs, actions
        File > Restore Labels Backup... (``restore_labels_backup``), as spec and ``QAction``.
    """

    def __init__(self, model: PredictionTableModel, status: QStatusBar, backups_dir: Path, parent: QWidget):
        super().__init__(parent)
        self.parent_widget, self.model, self.status = parent, model, status
        self.backups_dir = Path(backups_dir)
        self._this_opening: LabelsBackup | None = None  # the folder's backup as this opening found it
        self._question = None
        self.action_specs = [
            ActionSpec(
                "restore_labels_backup",
                "Restore Labels &Backup...",
                self.ask_restore,
                tip="Put the open folder's true sums back as they were when it was opened, before the first change",
            )
        ]
        self.actions = make_actions(self.action_specs, parent)
        self.action = self.actions["restore_labels_backup"]
        self.action.setEnabled(False)
        self.model.modelReset.connect(self._attach)  # after the LabelsController's: its labels are read
        self.model.labels_changed.connect(self._update_action)

    def backup(self) -> LabelsBackup | None:
        """The ``core.labels.backup.LabelsBackup`` of the open folder's labels, or None."""
        from core.labels.backup import LabelsBackup

        labels = self.model.labels
        return None if labels is None else LabelsBackup(labels.folder, self.backups_dir)

    def new_round(self) -> None:
        """A folder was opened (the same again too): the next change takes a new backup."""
        self._this_opening = None

    def _attach(self) -> None:
        labels = self.model.labels
        if labels is not None:
            labels.before_change = self._before_change
        self._update_action()

    def _update_action(self, *_args) -> None:
        backup = self.backup()
        self.action.setEnabled(backup is not None and backup.exists())

    def _before_change(self, labels: FolderLabels) -> None:
        """Take this opening's backup, once; a backup that fails never stops the sum being saved."""
        from core.labels.backup import BackupError, LabelsBackup

        if self._this_opening is None or self._this_opening.folder != labels.folder:
            self._this_opening = LabelsBackup(labels.folder, self.backups_dir)
        try:
            self._this_opening.take(labels)
        except BackupError as exc:
            self._question = open_box(
                self.parent_widget,
                QMessageBox.Icon.Warning,
                "No labels backup",
                f"No backup of the true sums as they were when the folder was opened could be made: {exc}.",
                informative="The sums you type are saved as usual, and Edit > Undo takes them back.",
            )

    def ask_restore(self) -> None:
        """Say what a restore would replace and ask (No is the default); Yes restores."""
        from core.labels.backup import CORRECTIONS_COPY, LABELS_COPY, BackupError

        backup, labels = self.backup(), self.model.labels
        try:
            info = backup.info() if backup is not None else None
        except BackupError as exc:
            show_error(self.parent_widget, "Labels backup not usable", str(exc))
            return
        if info is None:
            show_info(
                self.parent_widget,
                "No labels backup",
                "No backup of this folder's true sums has been taken: one is taken before the first "
                "change after the folder is opened.",
            )
            return
        now = labels.snapshot()
        changes = []
        for name, path in ((LABELS_COPY, labels.labels_path), (CORRECTIONS_COPY, labels.corrections_path)):
            if name in info.files and info.files[name] != now.files[path]:
                changes.append(f"{path} is replaced" if info.files[name] is not None else f"{path} is removed")
        taken = info.taken.strftime("%Y-%m-%d %H:%M")
        first = self._this_opening is None or not self._this_opening.taken
        kept = "The sums as they are now become the backup." if first else f"The backup is kept in {backup.path}."
        if not changes:
            show_info(self.parent_widget, "Nothing to restore", f"The true sums are as they were at {taken}.")
            return
        self._question = open_box(
            self.parent_widget,
            QMessageBox.Icon.Question,
            "Restore labels backup?",
            f"Put the true sums of {labels.folder.name} back as they were before the first change after "
            f"it was opened ({taken})?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            informative=f"{'; '.join(changes)}: {plural(len(labels), 'true sum')} now, "
            f"{plural(info.sums, 'true sum')} then. Edit > Undo (Ctrl+Z) brings back the sums as they are now. " + kept,
            on_yes=self.restore,
            default=QMessageBox.StandardButton.No,
        )

    def restore(self) -> bool:
        """Put the backup back now, as one undo step; says how it went."""
        from core.files import WriteError
        from core.labels.backup import BackupError

        backup, labels = self.backup(), self.model.labels
        if backup is None:
            return False
        with self.model.undo_stack.recording("Restore Labels Backup"):
            try:
                # read first: as this opening's first change, the restore makes a new backup of the sums it replaces
                info = backup.info()
                self._before_change(labels)
                info = backup.restore(labels, info)
            except (BackupError, WriteError) as exc:
                show_error(self.parent_widget, "Labels backup not restored", str(exc))
                return False
        self.model.labels_restored()
        self.status.showMessage(
            f"Restored the true sums of {labels.folder.name} as they were at {info.taken:%Y-%m-%d %H:%M} "
            f"({plural(info.sums, 'true sum')}); Ctrl+Z undoes it",
            10000,
        )
        return True
