"""The results view: Doubtful first, and Tab on the table (issue #24)."""

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from core.predict.rows import PredictionRow
from digitsum_gui.table.columns import Column

# 60 rows, the least confident (5%) near the end of the input order
ROWS = [PredictionRow(f"img_{i:02d}.png", i % 37, 0.05 if i == 47 else 0.5 + i / 200, "") for i in range(60)]


def test_doubtful_first_starts_at_the_top_with_the_least_confident_row(qtbot, rows_window):
    """Issue #24 item 21: not the old scroll position, whatever was selected before."""
    window = rows_window(ROWS)
    view = window.table_view
    bar = view.verticalScrollBar()
    view.selectRow(30)
    view.scrollToBottom()
    assert bar.value() > 0

    window.filter_bar.doubtful_button.click()
    assert bar.value() == 0
    top = window.proxy.source_row(view.currentIndex().row())
    assert view.currentIndex().row() == 0 and top.file == "img_47.png"  # current, selected, in view
    assert [i.row() for i in view.selectionModel().selectedRows()] == [0]
    assert QApplication.focusWidget() is view  # the next key is the row's, not the button's


def test_tab_leaves_the_table_instead_of_going_from_cell_to_cell(qtbot, rows_window):
    window = rows_window(ROWS)
    view = window.table_view
    view.setFocus()
    view.setCurrentIndex(window.proxy.index(3, Column.FILE))
    qtbot.keyClick(view, Qt.Key.Key_Tab)
    assert QApplication.focusWidget() is not view
    assert (view.currentIndex().row(), view.currentIndex().column()) == (3, Column.FILE)
    QApplication.focusWidget().setFocus()  # and Shift+Tab comes back
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_Backtab, Qt.KeyboardModifier.ShiftModifier)
    assert QApplication.focusWidget() is not view
    assert (view.currentIndex().row(), view.currentIndex().column()) == (3, Column.FILE)
