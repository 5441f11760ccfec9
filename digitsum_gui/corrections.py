"""Typing the right sum in the table: the editor, and the texts that report the labels.

The labels themselves (``labels.csv`` or a corrections file, saved at once) are
``core.labels.folder_labels.FolderLabels``; the table model's "True sum" column reads and writes
them. This module holds the Qt pieces around it: the cell's editor (0..36, empty to forget
a sum, anything else refused beside the cell, which stays open), what the cells show, and the
accuracy line for the status bar; ``known_sum`` is also the CSV export's ``corrected_sum`` column.

A true sum is either typed in this app ("corrected by you") or came with the folder's
labels.csv: the two are worded and coloured apart (``truth_source``, ``truth_colours``), so
rows nobody corrected never read as corrections.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QPoint, QRegularExpression, Qt, Signal
from PySide6.QtGui import QColor, QFont, QRegularExpressionValidator
from PySide6.QtWidgets import QAbstractItemDelegate, QAbstractItemView, QLineEdit, QStyledItemDelegate, QToolTip

from core.spec import MAX_SUM  # torch-free: the GUI's start-up stays light
from digitsum_gui.shortcuts import SAVE_AND_LEAVE, SAVE_SUM

NO_SUM = -1  # what older callers pass to forget the sum of this file


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
    """Edits the "True sum" column in a line edit that keeps every keystroke.

    A spin box limited to 0..36 silently drops the second 9 of 99 and would save 9; here
    what was typed is what is checked: 0..36 is saved, an empty cell forgets the sum, and
    anything else is refused where the person is looking, without a box: the number turns red
    as it is typed, and Enter (or Tab) says why beside the cell and in ``refused``, and leaves
    the cell open with what was typed, to be corrected (Esc leaves the sum as it was).

    Parameters
    ----------
    sum_column : int
        The column of the predicted sum: an empty cell starts editing from it.
    parent : QAbstractItemView, optional
        The view: Tab in the cell saves and moves the focus on from it, as Tab on the table does.

    Signals
    -------
    entered()
        The user pressed Enter and the sum was saved: the review moves on to the next row.
    refused(str)
        What was typed is no sum: why, in one line (the cell stays open with it).
    """

    entered = Signal()
    refused = Signal(str)

    def __init__(self, sum_column: int, parent=None):
        super().__init__(parent)
        self.sum_column = sum_column
        self._saved = False  # whether the last commit was saved

    def createEditor(self, parent, option, index):
        editor = QLineEdit(parent)
        # digits only, a few more than a sum has: 99 stays 99 and is refused, never saved as 9
        editor.setValidator(QRegularExpressionValidator(QRegularExpression(r"\d{0,3}"), editor))
        editor.setAlignment(Qt.AlignmentFlag.AlignRight)
        editor.setFrame(False)
        editor.setPlaceholderText("none")
        editor.setToolTip(f"The true sum, 0-{MAX_SUM}; Enter saves it (empty: forget it), Esc leaves it as it was")
        editor.textChanged.connect(lambda text: _mark(editor, text))
        return editor

    def setEditorData(self, editor, index) -> None:
        value = index.data(Qt.ItemDataRole.EditRole)
        if value is None:  # nothing known yet: start from what the model read
            value = index.siblingAtColumn(self.sum_column).data(Qt.ItemDataRole.DisplayRole)
        editor.setText("" if value is None else str(value))
        editor.selectAll()  # typing replaces it; Enter keeps it

    def setModelData(self, editor, model, index) -> None:
        # (the view commits too, when another row is clicked: a number out of range is said then)
        self._saved = not self._refuse(editor) and model.setData(index, editor.text().strip(), Qt.ItemDataRole.EditRole)

    def _refuse(self, editor) -> bool:
        """True, having said why beside the cell and through ``refused``, when its text is no sum."""
        text = editor.text().strip()
        if parse_sum(text)[0]:
            return False
        why = f"A sum is a whole number from 0 to {MAX_SUM}, not {text}: type another, or Esc to leave it as it was"
        QToolTip.showText(editor.mapToGlobal(QPoint(0, editor.height())), why, editor)
        self.refused.emit(why)
        return True

    def eventFilter(self, editor, event) -> bool:
        kind = event.type()
        if kind == QEvent.Type.KeyPress and (SAVE_SUM.matches(event) or SAVE_AND_LEAVE.matches(event)):
            if self._refuse(editor):
                return True  # the editor stays, with what was typed
            self._saved = False
            self.commitData.emit(editor)
            if not self._saved:  # not written (said by the model's labels_failed): the editor stays
                return True
            self.closeEditor.emit(editor, QAbstractItemDelegate.EndEditHint.NoHint)
            if SAVE_SUM.matches(event):
                self.entered.emit()
            elif isinstance(view := self.parent(), QAbstractItemView):
                view.focusNextPrevChild(event.key() == Qt.Key.Key_Tab)  # on from the table, not to the next cell
            return True
        if kind == QEvent.Type.FocusOut and not parse_sum(editor.text())[0]:
            return False  # not committed, not closed: the text stays to be corrected
        return super().eventFilter(editor, event)


def _mark(editor: QLineEdit, text: str) -> None:
    """Red while the text is no sum; the reason beside the cell goes once it is one again."""
    ok = parse_sum(text)[0]
    editor.setStyleSheet("" if ok else "color: #b02a37;")
    if ok:
        QToolTip.hideText()


def save_true_sum(labels, row, value) -> str:
    """Validate ``value`` and save it as the true sum of ``row``; a one-line problem, or "" when saved."""
    from core.files import WriteError

    ok, total = parse_sum(value)
    if not ok:
        return f"A sum is a whole number from 0 to {MAX_SUM}, not {value!r}."
    if total == labels.sum_of(row.file):
        return ""
    try:
        labels.set(row.file, total)
    except (WriteError, OSError, ValueError) as exc:
        return f"The sum of {row.file} was not saved: {exc}"
    return ""


def why_elsewhere(labels) -> str:
    """Why true sums go to a corrections file rather than the folder's labels.csv (one phrase), or ""."""
    if not labels.uses_corrections_file:
        return ""
    if not labels.folder.is_dir():
        return f"the folder {labels.folder} went away"
    if labels.problem:
        return f"its labels.csv cannot be read ({labels.problem})"
    return f"the folder {labels.folder} cannot be written"


def where_saved(labels) -> str:
    """Where the last sum went, for a status line: ``labels.csv``, or the corrections file's full path and why."""
    if not labels.uses_corrections_file:
        return labels.saved_to.name
    return f"in {labels.saved_to}, as {why_elsewhere(labels)}"


def accuracy_text(labels, right: int, known: int) -> str:
    """``Right: 23/24 labelled (95.8%)`` for the status bar, or empty with no folder open.

    ``right`` and ``known`` are counted by ``labels.accuracy``.
    """
    if labels is None:
        return ""
    if not known:
        return "No true sums yet"
    return f"Right: {right}/{known} labelled ({right / known:.1%})"


# Rows whose known sum differs from the model's, light backgrounds with dark text of the same
# hue (readable under light and dark palettes like the table's other row colours): blue where
# the sum was typed here, lavender where it came with the folder's labels.csv.
CORRECTED_BACKGROUND, CORRECTED_FOREGROUND = QColor("#d1ecf1"), QColor("#0c5460")
FROM_FOLDER_BACKGROUND, FROM_FOLDER_FOREGROUND = QColor("#e2d9f3"), QColor("#3d2a6b")
TYPED, FROM_FOLDER = "typed", "labels.csv"  # truth_source; also the export's true_sum_from cells


def known_sum(labels, row) -> int | None:
    """The sum a person gave for ``row`` (labels.csv or typed), or None."""
    return None if labels is None else labels.sum_of(row.file)


def truth_source(labels, row) -> str:
    """``TYPED`` for a sum typed in this app, ``FROM_FOLDER`` for one from the folder's labels.csv, "" for none."""
    if known_sum(labels, row) is None:
        return ""
    return TYPED if labels.typed(row.file) else FROM_FOLDER


def is_corrected(labels, row) -> bool:
    """True when the known sum of ``row`` differs from what the model read."""
    truth = known_sum(labels, row)
    return truth is not None and truth != row.predicted_sum


def truth_colours(labels, row) -> tuple[QColor, QColor] | None:
    """(background, foreground) of a row whose known sum differs from the model's, by where
    the sum came from; None for the others."""
    if not is_corrected(labels, row):
        return None
    if truth_source(labels, row) == TYPED:
        return CORRECTED_BACKGROUND, CORRECTED_FOREGROUND
    return FROM_FOLDER_BACKGROUND, FROM_FOLDER_FOREGROUND


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
            return f"Double-click to type the true sum (0-{MAX_SUM}); it is saved to {labels.saved_to}"
        typed = truth_source(labels, row) == TYPED
        if truth == row.predicted_sum:
            source = "typed by you" if typed else "from the folder's labels.csv"
            return f"The model read it right: {truth} ({source})"
        read = "nothing" if row.predicted_sum is None else row.predicted_sum
        if typed:
            return f"Corrected by you: the model read {read}, you typed {truth} (saved to {labels.saved_to})"
        return f"From the folder's labels.csv: the true sum is {truth}, the model read {read}"
    return None


def true_sum_sort_key(labels, row) -> int:
    """Unknown sums first (as -1), like the predicted-sum column's errors."""
    truth = known_sum(labels, row)
    return -1 if truth is None else truth
