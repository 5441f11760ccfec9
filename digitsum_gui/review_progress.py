"""How far the review of the doubtful rows has gone: "Reviewed 7 of 9 doubtful", under the table.

A doubtful row (``digitsum_gui.doubtful``) is reviewed once it has a true sum: typed, accepted
with Space (the model's sum saved as the true sum), or read from the folder's labels.csv. The
sum is the record, in labels.csv itself, which keeps its format (``filename,sum``; nothing is
added): the count, and Next Doubtful, which passes reviewed rows by, are the same after the
folder is opened again, and Undo takes an acceptance back with its sum. Unreadable files are
not counted: they cannot take a sum.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QLabel, QWidget

from digitsum_gui.doubtful import format_threshold
from digitsum_gui.row_tally import RowTally

if TYPE_CHECKING:
    from core.labels.folder_labels import FolderLabels
    from core.predict.rows import PredictionRow
    from digitsum_gui.table.model import PredictionTableModel


def review_counts(
    rows: Iterable[PredictionRow], labels: FolderLabels | None, doubtful: Callable[[PredictionRow], bool]
) -> tuple[int, int]:
    """``(reviewed, doubtful)``: the readable ``rows`` that ``doubtful(row)`` calls doubtful, and
    how many of them have a sum in ``labels`` (a ``FolderLabels``, or None: none has)."""
    reviewed = total = 0
    for row in rows:
        if row.error or not doubtful(row):
            continue
        total += 1
        reviewed += labels is not None and labels.sum_of(row.file) is not None
    return reviewed, total


class ReviewProgress(QObject):
    """A label in the legend under a ``MainWindow``'s table, counting reviewed doubtful rows.

    Parameters
    ----------
    model : PredictionTableModel
        The rows, their labels and the doubtful threshold.
    legend : QWidget
        The line under the table (``ResultsView.legend``): the label goes before its last entry.
    parent : QObject, optional

    Rows arriving during a run are counted as they come (a full count per delivery would be
    quadratic over 100,000 rows); a sum saved or undone, another threshold or another folder
    count again from the first row.
    """

    def __init__(self, model: PredictionTableModel, legend: QWidget, parent: QObject | None = None):
        super().__init__(parent)
        self.model = model
        self.label = QLabel()
        self.label.setObjectName("review_progress")
        layout = legend.layout()
        layout.insertWidget(layout.count() - 1, self.label)  # after the colours' swatches, before the keys' hint
        self._tally = RowTally(lambda rows: review_counts(rows, self.model.labels, self.model.doubtful))
        self.model.modelReset.connect(self.recount)  # (after the labels controller's: the folder's labels)
        self.model.rows_appended.connect(self._count_new_rows)
        self.model.labels_changed.connect(self.recount)  # a sum typed, accepted, cleared, undone
        self.model.doubtful.changed.connect(self.recount)
        self.recount()

    def text(self) -> str:
        return self.label.text()

    @property
    def counts(self) -> tuple[int, int]:
        """``(reviewed, doubtful)`` as shown."""
        return self._tally.totals

    def recount(self, *_args: object) -> None:
        """Count again from the first row (a sum saved or undone, another threshold or folder)."""
        self._tally.reset()
        self._count_new_rows()

    def _count_new_rows(self, *_args: object) -> None:
        reviewed, doubtful = self._tally.update(self.model.rows)
        # without a folder's labels (an .npy array, several inputs) no row can take a sum
        self.label.setVisible(self.model.labels is not None and bool(self.model.rows))
        below = format_threshold(self.model.doubtful.below)
        text = f"Reviewed {reviewed:,} of {doubtful:,} doubtful" if doubtful else "No doubtful rows to review"
        self.label.setText(text)
        self.label.setToolTip(
            f"Rows read below {below} that have a true sum: typed, accepted with Space, or from labels.csv. "
            "N goes to the next one without; the sums stay in labels.csv, so the review resumes there."
        )
