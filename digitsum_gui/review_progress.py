"""How far the review of the doubtful rows has gone: "Reviewed 7 of 9 doubtful", under the table.

A doubtful row (``digitsum_gui.doubtful``) is reviewed once it has a true sum: typed, accepted
with Space (the model's sum saved as the true sum), or read from the folder's labels.csv. The
sum is the record, in labels.csv itself, which keeps its format (``filename,sum``; nothing is
added): the count, and Next Doubtful, which passes reviewed rows by, are the same after the
folder is opened again, and Undo takes an acceptance back with its sum. Unreadable files are
not counted: they cannot take a sum.
"""

from __future__ import annotations

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QLabel

from digitsum_gui.doubtful import format_threshold


def review_counts(rows, labels, doubtful) -> tuple[int, int]:
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

    Rows arriving during a run are counted as they come (a full count per delivery would be
    quadratic over 100,000 rows); a sum saved or undone, another threshold or another folder
    count again from the first row.
    """

    def __init__(self, window):
        super().__init__(window)
        self.model = window.table_model
        self.label = QLabel()
        self.label.setObjectName("review_progress")
        legend = window.results.legend.layout()
        legend.insertWidget(legend.count() - 1, self.label)  # after the colours' swatches, before the keys' hint
        self._counted = self._reviewed = self._doubtful = 0
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
        return self._reviewed, self._doubtful

    def recount(self, *_) -> None:
        self._counted = self._reviewed = self._doubtful = 0
        self._count_new_rows()

    def _count_new_rows(self, *_) -> None:
        rows = self.model.rows
        if self._counted < len(rows):
            reviewed, doubtful = review_counts(rows[self._counted :], self.model.labels, self.model.doubtful)
            self._reviewed, self._doubtful = self._reviewed + reviewed, self._doubtful + doubtful
        self._counted = len(rows)
        self._show()

    def _show(self) -> None:
        # without a folder's labels (an .npy array, several inputs) no row can take a sum
        self.label.setVisible(self.model.labels is not None and bool(self.model.rows))
        below = format_threshold(self.model.doubtful.below)
        self.label.setText(
            f"Reviewed {self._reviewed:,} of {self._doubtful:,} doubtful" if self._doubtful else "No doubtful rows"
        )
        self.label.setToolTip(
            f"Rows read below {below} that have a true sum: typed, accepted with Space, or from labels.csv. "
            "N goes to the next one without; the sums stay in labels.csv, so the review resumes there."
        )
