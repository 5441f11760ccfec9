"""Typing the right sum in the table: the "True sum" cell's editor.

It checks what was typed as it is typed (0..36 saves, empty forgets, anything else is
refused beside the cell, which stays open); the saving itself is the column's
(``digitsum_gui.table.true_sum.save_true_sum``, through the model's ``setData``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QPoint, QRegularExpression, Qt, Signal
from PySide6.QtGui import QRegularExpressionValidator
from PySide6.QtWidgets import QAbstractItemDelegate, QAbstractItemView, QLineEdit, QStyledItemDelegate, QToolTip

from core.spec import MAX_SUM  # torch-free: the GUI's start-up stays light
from digitsum_gui import style
from digitsum_gui.shortcuts import SAVE_AND_LEAVE, SAVE_SUM
from digitsum_gui.table.true_sum import parse_sum

if TYPE_CHECKING:
    from PySide6.QtCore import QAbstractItemModel, QModelIndex, QObject, QPersistentModelIndex
    from PySide6.QtWidgets import QStyleOptionViewItem, QWidget


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

    def __init__(self, sum_column: int, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.sum_column = sum_column
        self._saved = False  # whether the last commit was saved

    def createEditor(
        self, parent: QWidget, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QLineEdit:
        editor = QLineEdit(parent)
        # digits only, a few more than a sum has: 99 stays 99 and is refused, never saved as 9
        editor.setValidator(QRegularExpressionValidator(QRegularExpression(r"\d{0,3}"), editor))
        editor.setAlignment(Qt.AlignmentFlag.AlignRight)
        editor.setFrame(False)
        editor.setPlaceholderText("none")
        editor.setToolTip(f"The true sum, 0-{MAX_SUM}; Enter saves it (empty: forget it), Esc leaves it as it was")
        editor.textChanged.connect(lambda text: _mark(editor, text))
        return editor

    def setEditorData(self, editor: QLineEdit, index: QModelIndex | QPersistentModelIndex) -> None:
        value = index.data(Qt.ItemDataRole.EditRole)
        if value is None:  # nothing known yet: start from what the model read
            value = index.siblingAtColumn(self.sum_column).data(Qt.ItemDataRole.DisplayRole)
        editor.setText("" if value is None else str(value))
        editor.selectAll()  # typing replaces it; Enter keeps it

    def setModelData(
        self, editor: QLineEdit, model: QAbstractItemModel, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        # (the view commits too, when another row is clicked: a number out of range is said then)
        self._saved = not self._refuse(editor) and model.setData(index, editor.text().strip(), Qt.ItemDataRole.EditRole)

    def _refuse(self, editor: QLineEdit) -> bool:
        """True, having said why beside the cell and through ``refused``, when its text is no sum."""
        text = editor.text().strip()
        if parse_sum(text)[0]:
            return False
        why = f"A sum is a whole number from 0 to {MAX_SUM}, not {text}: type another, or Esc to leave it as it was"
        QToolTip.showText(editor.mapToGlobal(QPoint(0, editor.height())), why, editor)
        self.refused.emit(why)
        return True

    def eventFilter(self, editor: QLineEdit, event: QEvent) -> bool:
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
    editor.setStyleSheet(style.problem_style(not ok))
    if ok:
        QToolTip.hideText()
