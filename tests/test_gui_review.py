"""Reviewing and correcting sums in the table with real widgets (issue #16: defects 3, 4, 10 and the review gaps)."""

import os
import shutil

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import QApplication, QLineEdit, QMessageBox

from core.data import read_labels_csv
from core.predict import PredictionRow
from digitsum_gui.model_store import ModelStore
from digitsum_gui.table_model import Column

RUN_TIMEOUT_MS = 60_000


@pytest.fixture
def folder(synth_folder, tmp_path):
    return shutil.copytree(synth_folder, tmp_path / "images")


@pytest.fixture
def window(qtbot, make_window, folder, tmp_path):
    window = make_window(store=ModelStore(tmp_path / "appdata"))
    with qtbot.waitSignal(window.run_finished, timeout=RUN_TIMEOUT_MS):
        window.open_folder(folder)
    window.activateWindow()
    return window


def proxy_row_of(window, name) -> int:
    return next(r for r in range(window.proxy.rowCount()) if window.proxy.source_row(r).file == name)


def cell(window, proxy_row, column=Column.TRUE_SUM):
    return window.proxy.index(proxy_row, column)


def editor_of(view) -> QLineEdit | None:
    """The cell editor open now (a closed one lingers, hidden, until deleted)."""
    return next((e for e in view.findChildren(QLineEdit) if e.isVisible()), None)


def open_editor(qtbot, window, proxy_row) -> QLineEdit:
    view = window.table_view
    view.setCurrentIndex(cell(window, proxy_row))
    view.edit(cell(window, proxy_row))
    qtbot.waitUntil(lambda: editor_of(view) is not None, timeout=5000)
    return editor_of(view)


def visible_boxes(window):
    return [b for b in window.findChildren(QMessageBox) if b.isVisible()]


def answer(window, button):
    """Click ``button`` of the review's open question, after checking that Enter would say No."""
    box = window.review._question
    assert box.isVisible() and box.defaultButton() is box.button(QMessageBox.StandardButton.No)
    box.button(button).click()


def undo_key(qtbot, window, key=Qt.Key.Key_Z, modifiers=Qt.KeyboardModifier.ControlModifier):
    with qtbot.waitSignal(window.table_model.labels_changed):
        qtbot.keyClick(window.table_view, key, modifiers)


def test_typing_99_is_refused_visibly_and_never_saved_as_9(qtbot, window, folder):
    before = read_labels_csv(folder / "labels.csv")
    name = window.proxy.source_row(0).file
    editor = open_editor(qtbot, window, 0)
    editor.selectAll()
    qtbot.keyClicks(editor, "99")
    assert editor.text() == "99"  # every keystroke kept: nothing is silently dropped
    with qtbot.waitSignal(window.table_model.labels_failed) as failed:
        qtbot.keyClick(editor, Qt.Key.Key_Return)
    assert "0 to 36" in failed.args[0] and "99" in failed.args[0]
    assert read_labels_csv(folder / "labels.csv") == before
    assert any("99" in b.text() for b in visible_boxes(window))
    assert cell(window, proxy_row_of(window, name)).data() == str(before[name][0])


def test_a_true_sum_is_cleared_by_delete_by_an_empty_editor_and_from_the_context_menu(qtbot, window, folder):
    view = window.table_view
    names = [window.proxy.source_row(r).file for r in range(3)]
    assert all(n in read_labels_csv(folder / "labels.csv") for n in names)

    view.setFocus()
    view.selectRow(0)
    assert window.detail.truth_label.text().startswith("<b>True sum: ")  # the untrained model read it wrong
    qtbot.keyClick(view, Qt.Key.Key_Delete)  # it came with the folder: asked first
    with qtbot.waitSignal(window.table_model.labels_changed):
        answer(window, QMessageBox.StandardButton.Yes)
    assert names[0] not in read_labels_csv(folder / "labels.csv")
    assert cell(window, 0).data() == ""
    assert window.detail.truth_label.text().startswith("True sum: not given")  # the detail pane follows
    assert window.status.currentMessage() == f"True sum of {names[0]} forgotten (labels.csv)"

    editor = open_editor(qtbot, window, 1)
    editor.clear()
    with qtbot.waitSignal(window.table_model.labels_changed):
        qtbot.keyClick(editor, Qt.Key.Key_Return)
    assert names[1] not in read_labels_csv(folder / "labels.csv")

    menu = window.review.show_context_menu(view.visualRect(cell(window, 2)).center())
    clear = next(a for a in menu.actions() if a.text().replace("&", "") == "Clear True Sum")
    assert clear.isEnabled()
    clear.trigger()
    menu.close()
    with qtbot.waitSignal(window.table_model.labels_changed):
        answer(window, QMessageBox.StandardButton.Yes)
    labels = read_labels_csv(folder / "labels.csv")
    assert names[2] not in labels and len(labels) == 37  # the other labels stay


def test_sorted_rows_arriving_keep_the_selected_row_selected_and_in_view(qtbot, window):
    view, model = window.table_view, window.table_model
    window.results.sort_doubtful_first()
    chosen = 3
    name = window.proxy.source_row(chosen).file
    view.selectRow(chosen)
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=view.visualRect(cell(window, chosen, 1)).center())
    top = view.visualRect(view.currentIndex()).top()
    assert 0 <= top < view.viewport().height()

    # a run still going: rows more doubtful than any shown arrive and sort in above it
    model.append_rows([PredictionRow(f"late_{i}.png", 1, 0.001 * i, "0001") for i in range(12)])
    current = view.currentIndex()
    assert window.proxy.source_row(current.row()).file == name
    assert [window.proxy.source_row(i.row()).file for i in view.selectionModel().selectedRows()] == [name]
    assert view.visualRect(current).top() == top  # it did not slide down under the cursor


def test_enter_saves_and_moves_to_the_next_doubtful_row_without_the_mouse(qtbot, window, folder):
    rows = window.table_model.rows
    sure = {rows[i].file for i in (1, 2, 5)}
    for row in rows:  # the untrained model doubts everything: make a few rows sure of themselves
        if row.file in sure:
            row.confidence = 0.999
    window.filter_bar.doubtful_button.click()
    view = window.table_view
    doubtful = [
        window.proxy.source_row(r).file
        for r in range(window.proxy.rowCount())
        if window.proxy.source_row(r).file not in sure
    ]
    view.setFocus()
    view.selectRow(0)
    view.setCurrentIndex(cell(window, 0, Column.FILE))  # wherever the cursor is on the row

    for typed, name in zip(("7", "12", "30"), doubtful[:3], strict=True):
        assert window.proxy.source_row(view.currentIndex().row()).file == name
        qtbot.keyClicks(view, typed[0])  # the first digit opens the row's true sum cell
        editor = editor_of(view)
        assert editor is not None
        qtbot.keyClicks(editor, typed[1:])
        with qtbot.waitSignal(window.table_model.labels_changed):
            qtbot.keyClick(editor, Qt.Key.Key_Return)
        assert read_labels_csv(folder / "labels.csv")[name][0] == int(typed)
        assert f"Saved: {name} is {typed}" in window.status.currentMessage()
    assert window.proxy.source_row(view.currentIndex().row()).file == doubtful[3]

    # Enter on a row opens its cell with the model's sum; Enter again confirms it
    qtbot.keyClick(view, Qt.Key.Key_Return)
    editor = editor_of(view)
    assert editor is not None and editor.text() == cell(window, view.currentIndex().row()).data()
    with qtbot.waitSignal(window.table_model.labels_changed):
        qtbot.keyClick(editor, Qt.Key.Key_Return)
    assert window.proxy.source_row(view.currentIndex().row()).file == doubtful[4]


def test_ctrl_f_goes_to_the_filter(qtbot, window):
    window.table_view.setFocus()
    window.filter_bar.text_edit.setText("synth_0001")
    qtbot.keyClick(window.table_view, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is window.filter_bar.text_edit, timeout=2000)
    assert window.filter_bar.text_edit.selectedText() == "synth_0001"  # typing replaces the old filter


def test_context_menu_opens_the_image_and_copies_paths(qtbot, window, folder, monkeypatch):
    opened = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url.toLocalFile()) or True)
    view = window.table_view
    name = window.proxy.source_row(4).file
    menu = window.review.show_context_menu(view.visualRect(cell(window, 4, Column.FILE)).center())
    actions = {a.text().replace("&", ""): a for a in menu.actions() if a.text()}
    assert {"Edit True Sum", "Clear True Sum", "Open Image", "Copy Path"} <= set(actions)
    actions["Open Image"].trigger()
    menu.close()
    assert opened == [str(folder / name)]
    actions["Copy Path"].trigger()
    assert QGuiApplication.clipboard().text() == str(folder / name)

    flags = view.selectionModel().SelectionFlag
    view.selectionModel().select(cell(window, 0, 0), flags.ClearAndSelect | flags.Rows)
    view.selectionModel().select(cell(window, 1, 0), flags.Select | flags.Rows)
    menu = window.review.show_context_menu(view.visualRect(cell(window, 1, Column.FILE)).center())
    copy = next(a for a in menu.actions() if "Paths" in a.text())
    assert copy.text().replace("&", "") == "Copy 2 Paths" and not window.review.open_action.isEnabled()
    copy.trigger()
    menu.close()
    assert QGuiApplication.clipboard().text().splitlines() == [
        str(folder / window.proxy.source_row(r).file) for r in (0, 1)
    ]
    window.proxy.set_filter(text="no such file")
    assert window.review.show_context_menu(QPoint(5, 5)) is None  # no row there: no menu


def test_an_image_no_viewer_opens_is_said_with_a_copy_button(qtbot, window, folder, monkeypatch):
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: False)
    window.table_view.selectRow(0)
    assert window.review.open_current() is False
    box = next(b for b in visible_boxes(window) if "No application" in b.text())
    copy = next(b for b in box.buttons() if b.text() == "Copy Path")
    copy.click()
    assert QGuiApplication.clipboard().text() == str(folder / window.proxy.source_row(0).file)


def test_the_legend_shows_the_row_colours_the_table_uses(qtbot, window):
    from digitsum_gui.corrections import CORRECTED_BACKGROUND, FROM_FOLDER_BACKGROUND
    from digitsum_gui.table_model import DOUBT_BACKGROUND, ERROR_BACKGROUND

    legend = window.results.legend
    assert legend.isVisible()
    styles = {label.text(): label.styleSheet() for label in legend.findChildren(type(window.status.device_label))}
    assert ERROR_BACKGROUND.name() in styles["Unreadable"]
    assert DOUBT_BACKGROUND.name() in styles["Doubtful: below 98%"]  # core.spec.DOUBTFUL_BELOW
    assert CORRECTED_BACKGROUND.name() in styles["Corrected by you"]
    assert FROM_FOLDER_BACKGROUND.name() in styles["labels.csv differs"]
    # and the table paints rows in those colours: labels.csv's sum differs (this model is untrained), then doubtful
    assert cell(window, 0, Column.FILE).data(Qt.ItemDataRole.BackgroundRole) == FROM_FOLDER_BACKGROUND
    assert window.proxy.setData(cell(window, 0), None)
    assert cell(window, 0, Column.FILE).data(Qt.ItemDataRole.BackgroundRole) == DOUBT_BACKGROUND


def test_keyboard_review_reaches_every_doubtful_row_even_above_the_cursor(qtbot, window):
    view, proxy = window.table_view, window.proxy
    doubtful = {proxy.source_row(r).file for r in range(proxy.rowCount())}  # the untrained model doubts all
    view.setFocus()
    start = 25  # where a run may leave the cursor: rows above it were never looked at
    view.setCurrentIndex(cell(window, start, Column.FILE))
    seen = [proxy.source_row(start).file]
    while window.review.next_doubtful():
        seen.append(proxy.source_row(view.currentIndex().row()).file)
    assert sorted(seen) == sorted(doubtful) and len(seen) == len(set(seen))  # each once, none skipped
    assert seen[len(doubtful) - start] == proxy.source_row(0).file  # after the last row, back to the top
    assert window.status.currentMessage() == "Every doubtful row shown has been reviewed"


def test_clearing_several_true_sums_asks_first_and_no_is_the_default(qtbot, window, folder, monkeypatch):
    import core.corrections

    writes = []  # labels.csv written once for them all (once per row froze the window for 5 s)
    write = core.corrections.write_labels_csv
    monkeypatch.setattr(core.corrections, "write_labels_csv", lambda *a: writes.append(a[0]) or write(*a))
    before = read_labels_csv(folder / "labels.csv")
    view = window.table_view
    view.setFocus()
    view.selectAll()
    qtbot.keyClick(view, Qt.Key.Key_Delete)  # Ctrl+A, Delete: one slip away from losing every sum
    box = window.review._question
    assert box.isVisible() and f"{len(before):,} rows" in box.text()
    assert box.defaultButton() is box.button(QMessageBox.StandardButton.No)
    box.button(QMessageBox.StandardButton.No).click()
    assert read_labels_csv(folder / "labels.csv") == before
    qtbot.keyClick(view, Qt.Key.Key_Delete)
    with qtbot.waitSignal(window.table_model.labels_changed):
        window.review._question.button(QMessageBox.StandardButton.Yes).click()
    assert read_labels_csv(folder / "labels.csv") == {} and writes == [folder / "labels.csv"]
    assert window.status.currentMessage() == f"Cleared {len(before):,} true sums (Ctrl+Z brings them back)"


def test_ctrl_z_undoes_sums_typed_and_cleared_and_gives_labels_csv_back_byte_for_byte(qtbot, window, folder):
    """Issue #24 item 4: each sum typed or cleared is one undo step, a bulk clear too, on the file itself."""
    path = folder / "labels.csv"
    original = path.read_bytes()
    view = window.table_view
    names = [window.proxy.source_row(r).file for r in range(6)]
    labels = read_labels_csv(path)

    typed = (labels[names[1]][0] + 1) % 37
    editor = open_editor(qtbot, window, 1)
    editor.selectAll()
    qtbot.keyClicks(editor, str(typed))
    with qtbot.waitSignal(window.table_model.labels_changed):
        qtbot.keyClick(editor, Qt.Key.Key_Return)
    assert read_labels_csv(path)[names[1]] == (typed, None)  # its digits no longer add up: dropped

    view.setFocus()
    view.selectRow(0)
    qtbot.keyClick(view, Qt.Key.Key_Delete)  # a sum that came with the folder: asked, No by default
    with qtbot.waitSignal(window.table_model.labels_changed):
        answer(window, QMessageBox.StandardButton.Yes)
    flags = view.selectionModel().SelectionFlag
    view.selectionModel().select(cell(window, 3, 0), flags.ClearAndSelect | flags.Rows)
    for r in (4, 5):
        view.selectionModel().select(cell(window, r, 0), flags.Select | flags.Rows)
    qtbot.keyClick(view, Qt.Key.Key_Delete)
    with qtbot.waitSignal(window.table_model.labels_changed):
        answer(window, QMessageBox.StandardButton.Yes)
    assert set(read_labels_csv(path)).isdisjoint({names[0], *names[3:6]})
    assert window.review.undo_action.text().replace("&", "") == "Undo Clear 3 True Sums"

    undo_key(qtbot, window)  # the bulk clear, as one step
    assert {n: read_labels_csv(path)[n] for n in names[3:6]} == {n: labels[n] for n in names[3:6]}
    assert names[0] not in read_labels_csv(path)
    assert cell(window, proxy_row_of(window, names[4])).data() == str(labels[names[4]][0])  # the table follows
    undo_key(qtbot, window)
    undo_key(qtbot, window)
    assert path.read_bytes() == original  # the same rows, in the same order, digits and all
    assert cell(window, proxy_row_of(window, names[1])).data() == str(labels[names[1]][0])
    assert "Undone: True Sum of " + names[1] in window.status.currentMessage()
    assert not window.review.undo_action.isEnabled()

    undo_key(qtbot, window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert read_labels_csv(path)[names[1]] == (typed, None)
    undo_key(qtbot, window, Qt.Key.Key_Y)
    assert names[0] not in read_labels_csv(path) and names[3] in read_labels_csv(path)
    assert [a.text().replace("&", "") for a in window.review.edit_menu.actions()][:2] == [
        "Undo Clear True Sum of " + names[0],
        "Redo Clear 3 True Sums",
    ]


def test_a_sum_that_came_with_the_folder_is_cleared_only_after_asking_and_undo_brings_it_back(qtbot, window, folder):
    path = folder / "labels.csv"
    original = path.read_bytes()
    view = window.table_view
    view.setFocus()
    view.selectRow(2)
    name = window.proxy.source_row(2).file
    qtbot.keyClick(view, Qt.Key.Key_Delete)
    answer(window, QMessageBox.StandardButton.No)  # what Enter would have done
    assert path.read_bytes() == original
    qtbot.keyClick(view, Qt.Key.Key_Delete)
    with qtbot.waitSignal(window.table_model.labels_changed):
        answer(window, QMessageBox.StandardButton.Yes)
    assert name not in read_labels_csv(path)
    undo_key(qtbot, window)
    assert path.read_bytes() == original

    # a sum typed here goes at once (and comes back the same way)
    editor = open_editor(qtbot, window, 2)
    editor.selectAll()
    qtbot.keyClicks(editor, "5")
    with qtbot.waitSignal(window.table_model.labels_changed):
        qtbot.keyClick(editor, Qt.Key.Key_Return)
    view.setFocus()
    view.selectRow(proxy_row_of(window, name))
    with qtbot.waitSignal(window.table_model.labels_changed):
        qtbot.keyClick(view, Qt.Key.Key_Delete)
    assert name not in read_labels_csv(path)
    undo_key(qtbot, window)
    undo_key(qtbot, window)
    assert path.read_bytes() == original


def test_retyping_a_sum_keeps_its_row_in_place_with_its_digits_and_other_columns(qtbot, make_window, folder, tmp_path):
    """Issue #24 item 4's "retyping drops digits and moves the row to the end": already right in
    core's labels writer (``write_labels_csv`` keeps columns and order); this holds it so."""
    path = folder / "labels.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text(
        "\n".join([lines[0] + ",note", *(f"{line},n{i}" for i, line in enumerate(lines[1:]))]) + "\n",
        encoding="utf-8",
    )
    original = path.read_bytes()
    window = make_window(store=ModelStore(tmp_path / "appdata"))
    with qtbot.waitSignal(window.run_finished, timeout=RUN_TIMEOUT_MS):
        window.open_folder(folder)
    name, total, digits = lines[6].split(",")

    for typed in (total, str((int(total) + 1) % 37)):
        editor = open_editor(qtbot, window, proxy_row_of(window, name))
        editor.selectAll()
        qtbot.keyClicks(editor, typed)
        qtbot.keyClick(editor, Qt.Key.Key_Return)
        if typed == total:  # the same sum again: the file is as it was, digits and all
            assert path.read_bytes() == original
    now = path.read_text(encoding="utf-8").splitlines()
    assert now[6] == f"{name},{typed},,n5"  # in its place; the digits went only because they no longer add up
    assert now[:6] + now[7:] == original.decode("utf-8").splitlines()[:6] + original.decode("utf-8").splitlines()[7:]


AS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


@pytest.mark.parametrize(
    "how",
    [
        "vanished",
        pytest.param(
            "read-only",
            marks=pytest.mark.skipif(AS_ROOT or os.name != "posix", reason="needs an ordinary user: root writes"),
        ),
    ],
)
def test_where_a_sum_went_is_said_and_the_next_row_message_does_not_hide_it(qtbot, window, folder, how):
    """Issue #24 item 6: a folder that cannot take the sums: the file written is named, with why."""
    rows = window.table_model.rows
    for row in rows[1:]:  # one doubtful row: after its save the review says it is done
        row.confidence = 0.999
    view = window.table_view
    view.setFocus()
    view.selectRow(proxy_row_of(window, rows[0].file))
    sidecar = window.labels_controller.labels.sidecar_path
    if how == "vanished":
        shutil.rmtree(folder)
    else:
        folder.chmod(0o555)
    try:
        qtbot.keyClicks(view, "7")
        editor = editor_of(view)
        with qtbot.waitSignal(window.table_model.labels_changed):
            qtbot.keyClick(editor, Qt.Key.Key_Return)
    finally:
        if folder.exists():
            folder.chmod(0o755)
    assert read_labels_csv(sidecar)[rows[0].file][0] == 7
    message = window.status.currentMessage()
    assert f"Saved: {rows[0].file} is 7 (in {sidecar}, as the folder {folder}" in message
    assert ("went away" if how == "vanished" else "cannot be written") in message
    assert message.endswith("Every doubtful row shown has been reviewed")  # both, one after the other
    box = window.labels_controller._question
    assert box.isVisible() and str(sidecar) in box.text()
    assert str(sidecar) in window.labels_controller.accuracy_label.toolTip()
