"""The corrections loop in the main window: type true sums, retrain from the menu, switch, re-predict."""

import shutil

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import QSettings, QStandardPaths, Qt
from PySide6.QtWidgets import QLineEdit, QMessageBox

from core.labels.labels_csv import read_labels_csv, write_labels_csv
from core.predict.prediction_csv import read_predictions_csv
from digitsum_gui.main_window import MainWindow
from digitsum_gui.model_store import ModelStore
from digitsum_gui.style import CORRECTED_BACKGROUND
from digitsum_gui.table.columns import Column

TIMEOUT_MS = 120_000


@pytest.fixture(autouse=True)
def _isolated(monkeypatch):
    QStandardPaths.setTestModeEnabled(True)
    monkeypatch.setenv("OMP_NUM_THREADS", "1")


@pytest.fixture
def folder(synth_folder, tmp_path):
    return shutil.copytree(synth_folder, tmp_path / "images")


@pytest.fixture
def make_window(qtbot, tmp_path, baseline_model):
    def make():
        settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
        window = MainWindow(
            settings=settings, model_path=baseline_model, device="cpu", store=ModelStore(tmp_path / "appdata")
        )
        qtbot.addWidget(window)
        window.show()
        return window

    return make


def open_and_wait(qtbot, window, folder):
    with qtbot.waitSignal(window.run_finished, timeout=TIMEOUT_MS):
        window.open_folder(folder)


def true_sum_index(window, file_name):
    model = window.table_model
    row = next(r for r in range(model.rowCount()) if model.row_at(r).file == file_name)
    return window.proxy.mapFromSource(model.index(row, Column.TRUE_SUM))


def test_typed_sum_is_saved_to_labels_csv_and_shown_again(qtbot, make_window, folder, tmp_path):
    before = read_labels_csv(folder / "labels.csv")
    window = make_window()
    open_and_wait(qtbot, window, folder)
    assert window.labels_controller.accuracy_label.text().startswith("Right: ")
    name = window.table_model.rows[0].file
    predicted = window.table_model.rows[0].predicted_sum
    wrong = (predicted + 1) % 37  # a sum the model did not read: the row shows as corrected
    index = true_sum_index(window, name)
    assert index.data() == str(before[name][0])

    # through the real editor: a line edit of digits, checked against 0..36 when saved
    view = window.table_view
    view.setCurrentIndex(index)
    view.edit(index)
    editor = view.findChild(QLineEdit)
    assert editor is not None and editor.text() == str(before[name][0])
    with qtbot.waitSignal(window.table_model.labels_changed):
        editor.setText(str(wrong))
        qtbot.keyClick(editor, Qt.Key.Key_Return)
    after = read_labels_csv(folder / "labels.csv")
    assert after[name][0] == wrong
    assert {k: v for k, v in after.items() if k != name} == {k: v for k, v in before.items() if k != name}
    assert not list(folder.glob(".labels.csv*"))  # written atomically: no temporary file left
    assert index.data(Qt.ItemDataRole.BackgroundRole) == CORRECTED_BACKGROUND
    assert f"you typed {wrong}" in index.data(Qt.ItemDataRole.ToolTipRole)

    # validation: out of range is refused, nothing written
    with qtbot.waitSignal(window.table_model.labels_failed):
        assert not window.proxy.setData(index, 37)
    assert read_labels_csv(folder / "labels.csv")[name][0] == wrong

    dest = tmp_path / "out.csv"
    window.export_csv(dest)
    exported = {r["file"]: r["corrected_sum"] for r in read_predictions_csv(dest)}
    assert exported[name] == str(wrong)
    window.close()

    reopened = make_window()
    open_and_wait(qtbot, reopened, folder)
    assert true_sum_index(reopened, name).data() == str(wrong)

    kept = reopened.labels_controller.labels
    with qtbot.waitSignal(reopened.run_finished, timeout=TIMEOUT_MS):
        reopened.predict()
    assert reopened.labels_controller.labels is kept  # unchanged on disk: not read again
    # labels.csv edited outside the app: the next run reads it again
    edited = read_labels_csv(folder / "labels.csv")
    edited[name] = ((wrong + 1) % 37, None)
    write_labels_csv(folder / "labels.csv", edited)
    with qtbot.waitSignal(reopened.run_finished, timeout=TIMEOUT_MS):
        reopened.predict()
    assert true_sum_index(reopened, name).data() == str((wrong + 1) % 37)
    assert reopened.labels_controller.labels is not kept


def test_retrain_from_the_menu_then_switch_and_predict_again(qtbot, make_window, folder):
    window = make_window()
    open_and_wait(qtbot, window, folder)
    old_model = window.summary.path
    old_text = window.status.model_label.text()
    window.retrain.retrain_action.trigger()
    dialog = window.retrain.train_dialog
    assert dialog.isVisible() and not dialog.isModal()
    form = dialog.form
    assert form.this_folder.isChecked() and "40 labelled images" in form.this_folder.text()
    form.synthetic.setChecked(True)
    form.synthetic_count.setValue(64)
    form.val_size.setValue(32)
    form.controls["batch_size"].setValue(16)
    form.controls["epochs"].setValue(1)
    form.device.setCurrentIndex(form.device.findData("cpu"))
    assert f"--data {folder} --data synthetic:64" in dialog.command.toPlainText()
    assert dialog.start()
    assert window.isEnabled() and window.predict_action.isEnabled()  # the app stays usable
    with qtbot.waitSignal(dialog.run.succeeded, timeout=TIMEOUT_MS) as done:
        pass
    event = done.args[0]
    counts = dialog.chart.point_counts()
    assert counts["step_loss"] >= 1 and counts["val_acc"] == 1 and counts["best"] == 1
    assert isinstance(event["compare_val_acc"], float)
    assert "Model in use (baseline.safetensors):" in dialog.outcome.text()
    assert window.summary.path == old_model  # nothing switches before the user says so

    models = window.retrain.show_models_dialog()
    new_model = dialog.run_dir / "best.safetensors"
    assert models.models[0].path == new_model and models.models[0].train_images == 36 + 64

    with qtbot.waitSignal(window.model_changed, timeout=TIMEOUT_MS):
        dialog.accept_new_model()  # the slot the question box's Yes runs
    assert window.summary.path == new_model
    assert window.status.model_label.text() != old_text and dialog.run_dir.name in window.status.model_label.text()
    assert "in use" in models.table.item(0, 6).text()
    with qtbot.waitSignal(window.run_finished, timeout=TIMEOUT_MS):
        assert window.retrain.repredict()  # the slot the "Predict again?" Yes runs

    from core.inputs.listing import list_inputs
    from core.predict.predictor import Predictor

    expected = [
        r.predicted_sum for batch in Predictor(new_model, device="cpu").predict(list_inputs([folder])) for r in batch
    ]
    assert [r.predicted_sum for r in window.table_model.rows] == expected


def test_a_failed_run_keeps_the_model_in_use(qtbot, make_window):
    window = make_window()
    with qtbot.waitSignal(window.model_changed, timeout=TIMEOUT_MS):
        pass
    in_use, shown = window.summary.path, window.status.model_label.text()
    dialog = window.retrain.show_retrain_dialog()
    assert not dialog.form.this_folder.isEnabled()  # no folder open
    dialog.form.synthetic.setChecked(True)
    dialog.form.device.setCurrentIndex(dialog.form.device.findData("cpu"))
    dialog.form.extra.setText("--val-size lots")
    assert dialog.start()
    with qtbot.waitSignal(dialog.run.failed, timeout=TIMEOUT_MS) as failed:
        pass
    assert "invalid int value: 'lots'" in failed.args[1]  # the details: the child's stderr
    assert window.summary.path == in_use and window.status.model_label.text() == shown
    assert window.retrain.store.models() == [] and not window.retrain.training


def test_closing_the_window_while_training_asks_and_discards_only_when_told(qtbot, make_window):
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox

    window = make_window()
    with qtbot.waitSignal(window.model_changed, timeout=TIMEOUT_MS):
        pass
    dialog = window.retrain.show_retrain_dialog()
    dialog.form.synthetic.setChecked(True)
    dialog.form.synthetic_count.setValue(4096)
    dialog.form.val_size.setValue(32)
    dialog.form.device.setCurrentIndex(dialog.form.device.findData("cpu"))
    assert dialog.start()
    run = dialog.run
    asked = []

    def answer(text):  # the real question, answered as a person would once it is up
        def click():
            box = QApplication.activeModalWidget()
            if not isinstance(box, QMessageBox):
                QTimer.singleShot(20, click)
                return
            asked.append(([b.text() for b in box.buttons()], box.defaultButton().text()))
            button = next((b for b in box.buttons() if b.text() == text), None)
            button.click() if button is not None else box.reject()  # (not offered: the test fails, not hangs)

        QTimer.singleShot(0, click)

    try:
        answer("Keep Training")
        assert not window.close() and window.isVisible()  # the window stays, the run goes on
        assert run.running
        assert set(asked[0][0]) == {"Stop and Keep Best Epoch", "Discard Run", "Keep Training"}
        assert asked[0][1] == "Stop and Keep Best Epoch"  # Enter keeps what was trained
        answer("Discard Run")
        assert window.close()
        assert len(asked) == 2 and not run.running and not dialog.run_dir.exists()
    finally:
        run.cancel_and_wait()  # a failed test must not leave a closing window asking at teardown


def test_switching_back_to_the_model_the_rows_came_from_does_not_ask_to_predict_again(
    qtbot, make_window, folder, baseline_model, tmp_path
):
    """Issue #24 item 24: "Predict again?" came after every switch, the way back included."""
    from core.models.onnx_file import onnx_path

    window = make_window()
    open_and_wait(qtbot, window, folder)
    other = shutil.copy(baseline_model, tmp_path / "other.safetensors")
    if onnx_path(baseline_model).is_file():  # made for the CPU on first use: a copy spares making it again
        shutil.copy(onnx_path(baseline_model), onnx_path(other))

    def questions():
        return [b for b in window.findChildren(QMessageBox) if b.isVisible() and b.windowTitle() == "Predict again?"]

    with qtbot.waitSignal(window.model_changed, timeout=TIMEOUT_MS):
        window.retrain.switch_model(other)
    assert len(questions()) == 1  # the rows are the first model's: predict them with this one?
    questions()[0].button(QMessageBox.StandardButton.No).click()  # keep the rows
    accuracy = window.labels_controller.accuracy_label
    assert accuracy.text().startswith("Right: ") and accuracy.text().endswith(f") by {baseline_model.name}")

    with qtbot.waitSignal(window.model_changed, timeout=TIMEOUT_MS):
        window.retrain.switch_model(baseline_model)  # back to the model the rows were read with
    assert questions() == []
    assert window.summary.path == baseline_model and window.rows_model == baseline_model
    assert accuracy.text().startswith("Right: ") and accuracy.text().endswith("%)")
