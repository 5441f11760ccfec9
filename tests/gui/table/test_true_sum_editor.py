"""``digitsum_gui.table.true_sum_editor`` in a real window: the True sum cell's editor keeps what was
typed, refuses what is no sum beside the cell, and saves on Enter or Tab."""

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLineEdit, QMessageBox, QToolTip

from core.labels.labels_csv import read_labels_csv
from core.predict.rows import PredictionRow
from digitsum_gui.table.columns import Column

ROWS = [PredictionRow(f"img_{i}.png", 10 + i, 0.5, "") for i in range(4)]


def editor_of(view) -> QLineEdit | None:
    """The cell editor open now (a closed one lingers, hidden, until deleted)."""
    return next((e for e in view.findChildren(QLineEdit) if e.isVisible()), None)


def start_typing(qtbot, window, row: int, text: str) -> QLineEdit:
    """Type ``text`` on a row, as a person does: the first digit opens its True sum cell."""
    view = window.table_view
    view.setFocus()
    view.setCurrentIndex(window.proxy.index(row, Column.FILE))
    qtbot.keyClick(view, text[0])
    editor = editor_of(view)
    qtbot.keyClicks(editor, text[1:])
    return editor


def test_a_sum_out_of_range_keeps_its_cell_open_with_what_was_typed_and_says_why(qtbot, rows_window):
    """Issue #24 item 22: no modal box that throws the typing away: the cell stays open with the
    text, and why is said beside it and in the status bar."""
    window = rows_window(ROWS)
    labels = window.labels_controller.labels.labels_path
    editor = start_typing(qtbot, window, 1, "99")
    assert editor.text() == "99"  # every keystroke kept: 99 is never saved as 9

    for key in (Qt.Key.Key_Return, Qt.Key.Key_Tab):  # neither Enter nor Tab carries it off
        qtbot.keyClick(editor, key)
        assert [b for b in window.findChildren(QMessageBox) if b.isVisible()] == []
        assert editor_of(window.table_view) is editor and editor.text() == "99"
        assert QApplication.focusWidget() is editor
        said = window.status.currentMessage()
        assert "whole number from 0 to 36, not 99" in said
        assert QToolTip.isVisible() and QToolTip.text() == said  # beside the cell too
    assert not labels.exists()  # nothing saved

    qtbot.keyClick(editor, Qt.Key.Key_Backspace)  # corrected where it stands
    with qtbot.waitSignal(window.table_model.labels_changed):
        qtbot.keyClick(editor, Qt.Key.Key_Return)
    assert read_labels_csv(labels) == {"img_1.png": (9, None)}
    assert editor_of(window.table_view) is None


def test_tab_in_the_cell_saves_and_leaves_the_table_instead_of_moving_to_the_next_cell(qtbot, rows_window):
    window = rows_window(ROWS)
    view = window.table_view
    editor = start_typing(qtbot, window, 2, "7")
    with qtbot.waitSignal(window.table_model.labels_changed):
        qtbot.keyClick(editor, Qt.Key.Key_Tab)
    assert read_labels_csv(window.labels_controller.labels.labels_path) == {"img_2.png": (7, None)}
    assert editor_of(view) is None
    assert QApplication.focusWidget() not in (view, None) and not view.isAncestorOf(QApplication.focusWidget())
    assert view.currentIndex().row() == 2 and view.currentIndex().column() == Column.TRUE_SUM  # no cell hop
