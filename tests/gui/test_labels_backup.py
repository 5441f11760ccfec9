"""File > Restore Labels Backup... with real widgets and files (issue #24): a backup of labels.csv
taken before the first change after each opening, put back after a question that says what it replaces."""

import os
import shutil
import threading
import time

import pytest
from PySide6.QtWidgets import QMessageBox

from core.inputs.listing import list_inputs
from core.predict.rows import PredictionRow
from digitsum_gui.model_store import ModelStore
from digitsum_gui.table.columns import Column


@pytest.fixture
def folder(synth_folder, tmp_path):
    return shutil.copytree(synth_folder, tmp_path / "images")


def open_with_rows(window, folder):
    """Open ``folder`` as a person does (no run: its rows are put in the table)."""
    assert window.open_folder(folder)
    items = list_inputs([folder])
    window.table_model.set_rows([PredictionRow(i.name, 0, 0.5) for i in items], items)


def type_sum(window, row, text):
    assert window.proxy.setData(window.proxy.index(row, Column.TRUE_SUM), text)


def test_the_backup_is_the_file_as_each_opening_found_it_and_comes_back_after_a_question(
    qtbot, make_window, settings, folder, tmp_path
):
    settings.setValue("auto_predict", False)
    store = ModelStore(tmp_path / "appdata")
    window = make_window(store=store)
    labels_csv = folder / "labels.csv"
    original = labels_csv.read_bytes()
    open_with_rows(window, folder)
    restore = window.labels_backup.action
    assert restore in window.menus["file"].actions() and not restore.isEnabled()  # nothing changed, no backup

    type_sum(window, 0, "30")
    type_sum(window, 1, "31")  # a second change: the backup stays the file as it was opened
    backup = window.labels_backup.backup()
    assert restore.isEnabled() and backup.info().files["labels.csv"] == original
    assert backup.path.parent == store.backups_dir  # in the data folder, not in the user's
    assert sorted(p.name for p in folder.iterdir() if not p.name.endswith(".png")) == ["labels.csv"]

    open_with_rows(window, folder)  # opened again: the next first change backs up the file as it is now
    reopened = labels_csv.read_bytes()
    type_sum(window, 2, "32")
    assert backup.info().files["labels.csv"] == reopened != original

    restore.trigger()
    box = window.labels_backup._question
    assert box.isVisible() and box.defaultButton() is box.button(QMessageBox.StandardButton.No)
    said = f"{box.text()} {box.informativeText()}"
    assert f"{labels_csv} is replaced: 40 true sums now, 40 true sums then" in said
    assert str(backup.path) in said and "Undo" in said
    box.button(QMessageBox.StandardButton.Yes).click()
    assert labels_csv.read_bytes() == reopened  # byte for byte
    assert window.table_model.labels.sum_of(window.table_model.rows[2].file) != 32
    assert "Restored" in window.status.currentMessage()

    window.table_model.undo_stack.undo()  # the restore is one undo step
    assert window.table_model.labels.sum_of(window.table_model.rows[2].file) == 32

    open_with_rows(window, folder)  # a restore as the first change of an opening: what it replaces is backed up
    before = labels_csv.read_bytes()
    restore.trigger()
    assert "The sums as they are now become the backup" in window.labels_backup._question.informativeText()
    window.labels_backup._question.button(QMessageBox.StandardButton.Yes).click()
    assert labels_csv.read_bytes() == reopened and backup.info().files["labels.csv"] == before


def test_a_labels_csv_that_is_a_pipe_never_hangs_the_first_sum_typed(qtbot, make_window, settings, folder, tmp_path):
    # the backup taken before the first change read labels.csv whole: a named pipe there
    # (the undo snapshot beside it already refused one) held the window until a writer came
    settings.setValue("auto_predict", False)
    window = make_window(store=ModelStore(tmp_path / "appdata"))
    labels_csv = folder / "labels.csv"
    labels_csv.unlink()
    os.mkfifo(labels_csv)
    open_with_rows(window, folder)

    def release():  # a writer that comes and goes: a reader stuck on the pipe gets its end of file
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                os.close(os.open(labels_csv, os.O_WRONLY | os.O_NONBLOCK))
                return
            except OSError:  # no reader yet
                time.sleep(0.05)

    releaser = threading.Timer(3.0, release)
    releaser.daemon = True
    releaser.start()
    started = time.monotonic()
    try:
        window.proxy.setData(window.proxy.index(0, Column.TRUE_SUM), "30")
    finally:
        releaser.cancel()
    assert time.monotonic() - started < 2.0
