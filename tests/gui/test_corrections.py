"""``digitsum_gui.corrections`` in a real window: the True sum cell's editor, and a true sum that came
with the folder told apart from one the user typed (colour, tooltip, detail pane)."""

import shutil

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLineEdit, QMessageBox, QToolTip

from core.inputs.listing import list_inputs
from core.labels.labels_csv import read_labels_csv
from core.predict.rows import PredictionRow
from digitsum_gui.corrections import (
    CORRECTED_BACKGROUND,
    CORRECTED_FOREGROUND,
    FROM_FOLDER_BACKGROUND,
    FROM_FOLDER_FOREGROUND,
)
from digitsum_gui.model_store import ModelStore
from digitsum_gui.table_model import DOUBT_BACKGROUND, Column

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


def test_a_sum_from_labels_csv_is_not_called_a_correction_until_the_user_types_one(
    qtbot, make_window, settings, synth_folder, tmp_path
):
    folder = shutil.copytree(synth_folder, tmp_path / "images")
    truth = {name: total for name, (total, _) in read_labels_csv(folder / "labels.csv").items()}
    settings.setValue("auto_predict", False)
    window = make_window(store=ModelStore(tmp_path / "appdata"))
    assert window.open_folder(folder)
    items = list_inputs([folder])
    # the model reads the first row wrong and the second right
    rows = [PredictionRow(i.name, (truth[i.name] + (k != 1)) % 37, 0.5) for k, i in enumerate(items)]
    window.table_model.set_rows(rows, items)
    proxy, view = window.proxy, window.table_view

    def looks(row, column=Column.TRUE_SUM):
        index = proxy.index(row, column)
        return (
            index.data(Qt.ItemDataRole.BackgroundRole),
            index.data(Qt.ItemDataRole.ForegroundRole),
            index.data(Qt.ItemDataRole.ToolTipRole),
        )

    background, foreground, tip = looks(0)
    assert (background, foreground) == (FROM_FOLDER_BACKGROUND, FROM_FOLDER_FOREGROUND)  # not "corrected"
    assert FROM_FOLDER_BACKGROUND != CORRECTED_BACKGROUND and FROM_FOLDER_FOREGROUND != CORRECTED_FOREGROUND
    assert tip.startswith("From the folder's labels.csv") and "Corrected" not in tip
    # read right: the row keeps its doubtful colour, and the tooltip says where the sum came from
    assert looks(1)[0] == DOUBT_BACKGROUND and looks(1)[2].endswith("(from the folder's labels.csv)")
    view.selectRow(0)
    assert window.detail.truth_label.text().endswith(": from labels.csv")

    typed = (truth[rows[0].file] + 2) % 37
    assert proxy.setData(proxy.index(0, Column.TRUE_SUM), str(typed))
    background, foreground, tip = looks(0, Column.FILE)
    assert (background, foreground) == (CORRECTED_BACKGROUND, CORRECTED_FOREGROUND)
    assert tip is None or "Corrected" not in tip  # (the file cell's tooltip is its path)
    assert looks(0)[2].startswith(f"Corrected by you: the model read {rows[0].predicted_sum}, you typed {typed}")
    assert window.detail.truth_label.text().endswith("corrected by you")

    window.table_model.undo_stack.undo()  # the folder's own sum again: its colour and words again
    assert looks(0)[:2] == (FROM_FOLDER_BACKGROUND, FROM_FOLDER_FOREGROUND)
    assert looks(0)[2].startswith("From the folder's labels.csv")
