"""Typing the right sum in the table: the editor, and the texts that report the labels.

The labels themselves (``labels.csv`` or a sidecar, saved at once) are
``core.corrections.FolderLabels``; the table model's "True sum" column reads and writes
them. This module holds the Qt pieces around it: a spin-box editor limited to 0..36
(with "none" to forget a sum), what the cells show, and the accuracy line for the status
bar; ``known_sum`` is also the CSV export's ``corrected_sum`` column.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QSpinBox, QStyledItemDelegate

MAX_SUM = 36  # core.data.MAX_SUM (importing core.data would pull torch into the GUI's start-up)
NO_SUM = -1  # the spin box's "none": forget the sum of this file


def parse_sum(value) -> tuple[bool, int | None]:
    """``(ok, sum or None)`` for what an editor or a caller hands to ``setData``.

    Accepts an int 0..36, a string of digits 0..36 (typed or pasted), ``None``, ``""`` or
    ``-1`` (forget); everything else is refused.
    """
    if value is None or value == "" or (isinstance(value, int) and not isinstance(value, bool) and value == NO_SUM):
        return True, None
    if isinstance(value, str):
        text = value.strip()
        if not text.isascii() or not text.isdigit():
            return False, None
        value = int(text)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_SUM:
        return False, None
    return True, value


class TrueSumDelegate(QStyledItemDelegate):
    """Edits the "True sum" column with a spin box: 0..36, or "none" below 0.

    Parameters
    ----------
    sum_column : int
        The column of the predicted sum: an empty cell starts editing from it.
    parent : QObject, optional
    """

    def __init__(self, sum_column: int, parent=None):
        super().__init__(parent)
        self.sum_column = sum_column

    def createEditor(self, parent, option, index):
        editor = QSpinBox(parent)
        editor.setRange(NO_SUM, MAX_SUM)
        editor.setSpecialValueText("none")
        editor.setAlignment(Qt.AlignmentFlag.AlignRight)
        editor.setFrame(False)
        return editor

    def setEditorData(self, editor, index) -> None:
        value = index.data(Qt.ItemDataRole.EditRole)
        if value is None:  # nothing known yet: start from what the model read
            value = index.siblingAtColumn(self.sum_column).data(Qt.ItemDataRole.DisplayRole)
            value = int(value) if isinstance(value, str) and value.isdigit() else value
        editor.setValue(value if isinstance(value, int) else NO_SUM)

    def setModelData(self, editor, model, index) -> None:
        editor.interpretText()
        model.setData(index, editor.value(), Qt.ItemDataRole.EditRole)


def save_true_sum(labels, row, value) -> str:
    """Validate ``value`` and save it as the true sum of ``row``; a one-line problem, or "" when saved."""
    from core.export import ExportError

    ok, total = parse_sum(value)
    if not ok:
        return f"A sum is a whole number from 0 to {MAX_SUM}, not {value!r}."
    if total == labels.sum_of(row.file):
        return ""
    try:
        labels.set(row.file, total)
    except (ExportError, OSError, ValueError) as exc:
        return f"The sum of {row.file} was not saved: {exc}"
    return ""


def accuracy_text(labels, right: int, known: int) -> str:
    """``Right: 23/24 labelled (95.8%)`` for the status bar, or empty with no folder open.

    ``right`` and ``known`` are counted by ``labels.accuracy``.
    """
    if labels is None:
        return ""
    if not known:
        return "No true sums yet"
    return f"Right: {right}/{known} labelled ({right / known:.1%})"


# Rows whose known sum differs from the model's: light blue with dark text of the same hue,
# readable under light and dark palettes like the table's other row colours.
CORRECTED_BACKGROUND, CORRECTED_FOREGROUND = QColor("#d1ecf1"), QColor("#0c5460")


def known_sum(labels, row) -> int | None:
    """The sum a person gave for ``row`` (labels.csv or typed), or None."""
    return None if labels is None else labels.sum_of(row.file)


def is_corrected(labels, row) -> bool:
    """True when the known sum of ``row`` differs from what the model read."""
    truth = known_sum(labels, row)
    return truth is not None and truth != row.predicted_sum


def true_sum_cell(labels, row, role: int):
    """``data()`` of the "True sum" cell for ``role``; None where the role is not handled."""
    truth = known_sum(labels, row)
    if role == Qt.ItemDataRole.DisplayRole:
        return "" if truth is None else str(truth)
    if role == Qt.ItemDataRole.EditRole:
        return truth
    if role == Qt.ItemDataRole.FontRole and truth is not None and truth != row.predicted_sum:
        font = QFont()
        font.setBold(True)
        return font
    if role == Qt.ItemDataRole.ToolTipRole:
        if labels is None:
            return "Open a folder to type true sums: they are saved to its labels.csv"
        if row.error:
            return f"{row.file}: {row.error}"
        if truth is None:
            return f"Double-click to type the true sum (0-36); it is saved to {labels.saved_to}"
        if truth == row.predicted_sum:
            return f"The model read it right: {truth}"
        read = "nothing" if row.predicted_sum is None else row.predicted_sum
        return f"Corrected: the model read {read}, the true sum is {truth} (saved to {labels.saved_to})"
    return None


def true_sum_sort_key(labels, row) -> int:
    """Unknown sums first (as -1), like the predicted-sum column's errors."""
    truth = known_sum(labels, row)
    return -1 if truth is None else truth
