"""The open folder's true sums in the main window: the editable column, the accuracy, the export.

``LabelsController`` works on a ``MainWindow``'s table model, view and status bar, and adds,
without the window knowing the details:

- the open folder's labels (``core.labels.folder_labels.FolderLabels``, ``labels.csv`` or its corrections file)
  behind the table's editable "True sum" column, read again when the folder or its labels
  change on disk; for images opened one by one, those of the folder that holds them
  (``core.labels.folder_labels.labels_of``), so a sum typed for one is saved as it would be from its folder;
- the accuracy on the labelled rows in the status bar, counted as rows arrive;
- a message, once per folder, when its true sums cannot go into its labels.csv (a read-only
  or vanished folder) and go to a file in the data folder instead, naming that file;
- the export's ``corrected_sum`` column (the sum known for the row, typed or from labels.csv:
  the name other tools read is kept) and, with the spreadsheet columns, ``true_sum_from``
  (``typed`` or ``labels.csv``: where that sum came from), as ``export_columns`` and
  ``spreadsheet_columns`` for the window's export.

Retraining on these labels is ``digitsum_gui.retrain`` (it reads ``labels`` from here).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Slot
from PySide6.QtWidgets import QMessageBox, QStatusBar, QTableView, QWidget

from core.models.store import model_display_name, same_file
from digitsum_gui.labels_status import accuracy_text, why_elsewhere
from digitsum_gui.message_boxes import open_box
from digitsum_gui.row_tally import RowTally
from digitsum_gui.steady import SteadyLabel
from digitsum_gui.table.columns import Column
from digitsum_gui.table.true_sum import known_sum, truth_source
from digitsum_gui.table.true_sum_editor import TrueSumDelegate

if TYPE_CHECKING:
    from core.labels.folder_labels import FolderLabels
    from core.predict.rows import PredictionRow
    from digitsum_gui.table.model import PredictionTableModel
    from digitsum_gui.window_state import WindowState


class LabelsController(QObject):
    """The true sums of the folder open in one ``MainWindow``.

    Parameters
    ----------
    model : PredictionTableModel
        The table's rows; its labels are set from here.
    view : QTableView
        The table: its "True sum" column gets the editor (``corrections.TrueSumDelegate``).
    status : QStatusBar
        Where the accuracy is shown and saves are said.
    state : WindowState
        What is open (``state.source``).
    corrections_dir : Path
        Where corrections go for a folder that cannot be written (``ModelStore.corrections_dir``).
    parent : QWidget
        The window: boxes open over it.
    """

    def __init__(
        self,
        model: PredictionTableModel,
        view: QTableView,
        status: QStatusBar,
        state: WindowState,
        corrections_dir: Path,
        parent: QWidget,
    ):
        super().__init__(parent)
        self.parent_widget, self.model, self.status, self.state = parent, model, status, state
        self.corrections_dir = corrections_dir
        self.labels: FolderLabels | None = None
        self._labels_source: list[str] | None = None
        self._question = None
        self._told_elsewhere = None  # the labels whose move to a corrections file has been said

        self.accuracy_label = SteadyLabel()  # as wide as its count will get: the fields beside it stay put
        # (right, known) over the rows so far
        self._tally = RowTally(lambda rows: self.labels.accuracy((r.file, r.predicted_sum) for r in rows))
        status.insertPermanentWidget(0, self.accuracy_label)
        delegate = TrueSumDelegate(Column.SUM, view)
        # a number out of range is said in the status bar too, never in a box: the cell stays open with it
        delegate.refused.connect(lambda why: status.showMessage(why, 10000))
        view.setItemDelegateForColumn(Column.TRUE_SUM, delegate)
        model.modelReset.connect(self._sync_labels)
        model.rows_appended.connect(self._count_new_rows)
        model.labels_changed.connect(self._update_accuracy)
        model.labels_failed.connect(self._on_labels_failed)
        model.true_sum_saved.connect(self._say_if_elsewhere)
        # the export's corrected_sum: the sum known (labels.csv or typed), else empty; its
        # name predates the distinction and stays for the tools that read it: true_sum_from says
        self.export_columns: dict[str, Callable[[PredictionRow], object]] = {
            "corrected_sum": lambda row: known_sum(self.labels, row)
        }
        self.spreadsheet_columns: dict[str, Callable[[PredictionRow], object]] = {
            "true_sum_from": lambda row: truth_source(self.labels, row)
        }

    @Slot()
    def _sync_labels(self) -> None:
        """The open folder's labels, on every open and every run: read again when the folder
        is another or its labels files changed on disk (edits made outside the app or by
        another window show up), else kept."""
        from core.labels.folder_labels import labels_of  # numpy and Pillow (core.inputs.listing): not at start-up

        source = list(self.state.source)
        if source != self._labels_source or self.labels is None or not self.labels.is_current():
            # (opening a folder resets the table twice; 100,000 labels take ~0.2 s to read)
            self.labels = labels_of(source, self.corrections_dir)
        self.model.set_labels(self.labels)
        if self.labels is not None and self.labels.problem and source != self._labels_source:
            self.status.showMessage(
                f"labels.csv not used ({self.labels.problem}); corrections go to {self.labels.corrections_path}", 10000
            )
        self._labels_source = source
        self._update_accuracy()

    @Slot()
    def _update_accuracy(self, *_args) -> None:
        """Count the accuracy on the labelled rows again from the first row."""
        self._tally.reset()
        self._count_new_rows()

    @Slot()
    def _count_new_rows(self, *_args) -> None:
        rows = self.model.rows
        right, known = self._tally.update(rows) if self.labels is not None else (0, 0)
        most = max(len(rows), len(self.model.items))  # every row listed, labelled and right
        by = self._read_by()
        self.accuracy_label.hold_width_for(
            accuracy_text(self.labels, most, most) + by, accuracy_text(self.labels, 0, 0) + by
        )
        self.accuracy_label.setText(accuracy_text(self.labels, right, known) + by)
        if self.labels is not None:
            self.accuracy_label.setToolTip(f"Known sums are saved to {self.labels.saved_to}")

    def _read_by(self) -> str:
        """`` by MODEL`` where the rows were read by another model than the one in use (switched to
        without predicting again): the accuracy is that model's, not the one the status bar names."""
        read_by, summary = self.state.rows_model, self.state.summary
        if read_by is None or summary is None or same_file(read_by, summary.path):
            return ""
        return f" by {model_display_name(read_by)}"

    @Slot()
    def model_changed(self, *_args) -> None:
        """Another model is in use: the accuracy says whose it is."""
        self._update_accuracy()

    def _say_if_elsewhere(self, *_args) -> None:
        """The first sum of a folder that went to its corrections file: say where, and why, in a box
        (a status line alone goes unseen, and the person would look for the sums in labels.csv)."""
        labels = self.labels
        if labels is None or not labels.uses_corrections_file or self._told_elsewhere is labels:
            return
        self._told_elsewhere = labels
        self._update_accuracy()  # its tooltip names the file
        self._question = open_box(
            self.parent_widget,
            QMessageBox.Icon.Information,
            "True sums saved elsewhere",
            f"The true sums of this folder are saved to {labels.corrections_path}, not to its labels.csv: "
            f"{why_elsewhere(labels)}.",
            informative="The app finds them there when the folder is opened again, and Retrain uses them.",
        )

    def _on_labels_failed(self, message: str) -> None:
        self.status.showMessage(message, 10000)
        # window-modal, not a nested event loop: the table keeps its state
        self._question = open_box(self.parent_widget, QMessageBox.Icon.Warning, "Sum not saved", message)
