"""The main window end to end: real widgets, a real model file, the real CLI to compare with."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QMessageBox

from core.predict.rows import PredictionRow
from digitsum_gui.main_window import MainWindow
from digitsum_gui.style import ERROR_BACKGROUND
from digitsum_gui.table.columns import Column

ROOT = Path(__file__).resolve().parents[2]
RUN_TIMEOUT_MS = 60_000


def run_folder(qtbot, window, folder):
    with qtbot.waitSignal(window.run_finished, timeout=RUN_TIMEOUT_MS) as blocker:
        window.open_folder(folder)
    return blocker.args[0]


@pytest.fixture(scope="module")
def cli_csv(tmp_path_factory, synth_folder, baseline_model):
    """``digitsum predict`` on the composed folder: the reference the GUI must match."""
    out = tmp_path_factory.mktemp("cli") / "cli.csv"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "core",
            "predict",
            str(synth_folder),
            "--model",
            str(baseline_model),
            "--output",
            str(out),
            "--quiet",
        ],
        check=True,
        cwd=ROOT,
        timeout=120,
    )
    return out


def test_predicts_a_folder_like_the_cli_and_exports_the_same_bytes(qtbot, make_window, synth_folder, cli_csv, tmp_path):
    from core.predict.prediction_csv import read_predictions_csv

    window = make_window()
    assert run_folder(qtbot, window, synth_folder) is False
    rows = window.table_model.rows
    expected = read_predictions_csv(cli_csv)
    assert len(rows) == len(expected) == 40
    assert [(r.file, str(r.predicted_sum)) for r in rows] == [(e["file"], e["predicted_sum"]) for e in expected]
    assert window.predict_action.isEnabled() and not window.cancel_action.isEnabled()
    assert "baseline.safetensors" in window.status.model_label.text()
    assert "val 5.0%" in window.status.model_label.text()
    assert window.status.device_label.text() in ("Device: CPU",) or "CUDA" in window.status.device_label.text()
    assert window.status.progress_bar.value() == 40

    # the first row selects itself once the first rows are painted: the detail pane is never idle
    qtbot.waitUntil(lambda: window.table_view.selectionModel().hasSelection(), timeout=5000)
    assert window.detail.file_label.text() == rows[0].file
    window.table_view.selectRow(1)  # the detail pane follows the selection
    assert window.detail.file_label.text() == rows[1].file
    # its image comes from the thumbnail reader's thread, a moment later (or is there already)
    qtbot.waitUntil(lambda: window.detail.image_label.pixmap().width() >= 168, timeout=5000)
    assert window.detail.image_label.text() == ""

    dest = tmp_path / "gui.csv"
    assert window.export_csv(dest) == 40
    # the CLI's file, byte for byte, plus the corrected_sum column (the folder's labels.csv)
    from core.labels.labels_csv import read_labels_csv

    labels = read_labels_csv(synth_folder / "labels.csv")
    gui_lines, cli_lines = dest.read_bytes().split(b"\n"), cli_csv.read_bytes().split(b"\n")
    assert gui_lines[0] == cli_lines[0] + b",corrected_sum"
    assert gui_lines[1:-1] == [c + f",{labels[r.file][0]}".encode() for c, r in zip(cli_lines[1:-1], rows, strict=True)]


def test_unlabelled_folder_exports_exactly_the_cli_bytes(qtbot, make_window, synth_folder, baseline_model, tmp_path):
    import shutil

    folder = tmp_path / "unlabelled"
    folder.mkdir()
    for png in sorted(synth_folder.glob("*.png"))[:12]:
        shutil.copy(png, folder / png.name)
    cli = tmp_path / "cli.csv"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "core",
            "predict",
            str(folder),
            "--model",
            str(baseline_model),
            "--output",
            str(cli),
            "--quiet",
        ],
        check=True,
        cwd=ROOT,
        timeout=120,
    )
    window = make_window()
    assert run_folder(qtbot, window, folder) is False
    dest = tmp_path / "gui.csv"
    assert window.export_csv(dest) == 12
    assert dest.read_bytes() == cli.read_bytes()  # no labels: no corrected_sum column, same bytes


def test_cancel_keeps_finished_rows(qtbot, make_window, synth_folder, digits_model):
    # ResNet-50 on the CPU in batches of 4: ten batches, slow enough to cancel in the middle
    window = make_window(model=digits_model, batch_size=4)
    window.worker.rows.connect(window.cancel)  # cancel as soon as the first batch is in
    cancelled = run_folder(qtbot, window, synth_folder)
    rows = window.table_model.rows
    assert cancelled is True
    assert 4 <= len(rows) < 40 and len(rows) % 4 == 0
    assert [r.file for r in rows] == [i.name for i in window.table_model.items[: len(rows)]]
    assert rows[0].digits and len(rows[0].digit_confidence) == 4  # a digits model reads digits
    assert window.predict_action.isEnabled() and not window.cancel_action.isEnabled()
    assert "Cancelled" in window.status.currentMessage()
    assert window.export_csv(window.settings.fileName() + ".csv") == len(rows)  # partial export works, says so


def test_rows_reach_the_window_whole_and_in_order_at_most_every_interval(
    qtbot, make_window, synth_folder, digits_model, monkeypatch
):
    import digitsum_gui.worker as worker

    # an interval longer than the run: the first batch at once, then everything else at the end
    monkeypatch.setattr(worker, "UPDATE_INTERVAL_S", 3600.0)
    window = make_window(batch_size=4)
    deliveries, progress = [], []
    window.worker.rows.connect(lambda rows: deliveries.append([r.file for r in rows]))
    window.worker.progress.connect(lambda done, total, *_: progress.append((done, total)))
    assert run_folder(qtbot, window, synth_folder) is False
    assert [len(d) for d in deliveries] == [4, 36]
    assert sum(deliveries, []) == [i.name for i in window.table_model.items]
    assert progress == [(4, 40), (40, 40)]  # progress follows each delivery

    monkeypatch.setattr(worker, "UPDATE_INTERVAL_S", 0.0)  # no waiting: every batch as it comes
    deliveries.clear()
    assert run_folder(qtbot, window, synth_folder) is False
    assert [len(d) for d in deliveries] == [4] * 10
    # the accuracy on labelled rows, counted batch by batch, is the count over all rows
    labels = window.labels_controller.labels
    right, known = labels.accuracy((r.file, r.predicted_sum) for r in window.table_model.rows)
    assert known == 40
    assert window.labels_controller.accuracy_label.text() == f"Right: {right}/40 labelled ({right / 40:.1%})"

    # cancelled after the first delivery: the batches already under way still arrive, whole, in order
    # (ResNet-50 on the CPU: slow enough that the cancel lands mid-run)
    monkeypatch.setattr(worker, "UPDATE_INTERVAL_S", 3600.0)
    window = make_window(model=digits_model, batch_size=4)
    deliveries.clear()
    window.worker.rows.connect(lambda rows: deliveries.append([r.file for r in rows]))
    window.worker.rows.connect(window.cancel)
    assert run_folder(qtbot, window, synth_folder) is True
    rows = window.table_model.rows
    assert len(deliveries) <= 2 and len(rows) == sum(len(d) for d in deliveries) and len(rows) % 4 == 0
    assert [r.file for r in rows] == [i.name for i in window.table_model.items[: len(rows)]]


def test_bad_files_become_error_rows(qtbot, make_window, synth_folder, tmp_path):
    folder = tmp_path / "mixed"
    folder.mkdir()
    for name in ("synth_00000.png", "synth_00001.png", "synth_00002.png"):
        shutil.copy(synth_folder / name, folder / name)
    (folder / "empty.png").write_bytes(b"")
    (folder / "notes.png").write_text("this is not an image\n")

    window = make_window()
    assert run_folder(qtbot, window, folder) is False
    rows = {r.file: r for r in window.table_model.rows}
    assert len(rows) == 5
    assert rows["empty.png"].error == "empty file"
    assert rows["notes.png"].error.startswith("not an image")
    assert all(rows[n].predicted_sum is not None for n in ("synth_00000.png", "synth_00001.png", "synth_00002.png"))
    i = [r.file for r in window.table_model.rows].index("empty.png")
    assert (
        window.table_model.data(window.table_model.index(i, Column.FILE), Qt.ItemDataRole.BackgroundRole)
        == ERROR_BACKGROUND
    )
    assert "2 unreadable" in window.status.currentMessage()
    window.table_view.selectRow(i)  # an unreadable file's detail pane says there is no image
    qtbot.waitUntil(lambda: window.detail.image_label.text() == "(no image)", timeout=5000)
    window.proxy.set_filter(errors_only=True)
    assert window.proxy.rowCount() == 2


def test_bad_model_keeps_the_old_one(qtbot, make_window, tmp_path, synth_folder):
    window = make_window()
    with qtbot.waitSignal(window.model_changed, timeout=RUN_TIMEOUT_MS):
        pass
    bad = tmp_path / "broken.safetensors"
    bad.write_bytes(b"\x80\x04 definitely a pickle")
    with qtbot.waitSignal(window.model_failed, timeout=RUN_TIMEOUT_MS) as blocker:
        window.set_model(bad)
    assert "pickle" in blocker.args[0]
    assert window.summary.name == "baseline.safetensors"
    boxes = [b for b in window.findChildren(QMessageBox) if b.isVisible()]
    assert boxes and "Still using baseline.safetensors" in boxes[0].text() and boxes[0].detailedText()
    assert window.settings.value("model_path").endswith("baseline.safetensors")
    assert run_folder(qtbot, window, synth_folder) is False  # and the app goes on working
    assert len(window.table_model.rows) == 40


def test_missing_folder_and_export_failures_are_reported(qtbot, make_window, synth_folder, tmp_path):
    window = make_window()
    assert window.open_folder(tmp_path / "nowhere") is False  # nothing runs: it is said at once
    boxes = [b for b in window.findChildren(QMessageBox) if b.isVisible()]
    assert any("no such file or folder" in b.text() for b in boxes)

    run_folder(qtbot, window, synth_folder)
    assert window.export_csv(tmp_path / "no-such-dir" / "out.csv") is None
    assert any(b.windowTitle() == "Export failed" for b in window.findChildren(QMessageBox))


def test_error_in_the_middle_of_a_run_reaches_the_window(qtbot, make_window, synth_folder):
    window = make_window(batch_size=8)
    with qtbot.waitSignal(window.model_changed, timeout=RUN_TIMEOUT_MS):
        pass
    predictor = window.worker._predictor
    real_predict = predictor.predict

    def failing_predict(items, should_stop=None):
        for i, batch in enumerate(real_predict(items, should_stop=should_stop)):
            if i == 2:
                raise RuntimeError("CUDA out of memory (simulated)")
            yield batch

    predictor.predict = failing_predict
    assert run_folder(qtbot, window, synth_folder) is False
    assert len(window.table_model.rows) == 16  # the two batches before the failure stay
    texts = [b.text() for b in window.findChildren(QMessageBox)]
    assert any("Prediction stopped after 16 of 40 rows: CUDA out of memory" in t for t in texts)
    assert window.predict_action.isEnabled() and not window.cancel_action.isEnabled()


def test_settings_are_remembered(qtbot, settings, baseline_model, synth_folder):
    first = MainWindow(settings=settings, model_path=baseline_model)
    qtbot.addWidget(first)
    with qtbot.waitSignal(first.run_finished, timeout=RUN_TIMEOUT_MS):
        first.open_folder(synth_folder)
    first.table_view.setColumnWidth(Column.FILE, 333)
    first.close()

    settings.setValue("auto_predict", False)
    second = MainWindow(settings=settings)  # no model given: the remembered one
    qtbot.addWidget(second)
    with qtbot.waitSignal(second.model_changed, timeout=RUN_TIMEOUT_MS):
        pass
    assert second.summary.name == "baseline.safetensors"
    assert second.table_view.columnWidth(Column.FILE) == 333
    assert second.recent_folders() == [str(synth_folder)]
    assert second.settings.value("last_folder") == str(synth_folder)

    # auto-predict off: dropping a folder opens it without predicting
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(synth_folder))])
    event = QDropEvent(
        QPointF(5, 5), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    second.dropEvent(event)
    assert second.source == [str(synth_folder)] and not second.running
    assert second.predict_action.isEnabled()
    with qtbot.waitSignal(second.run_finished, timeout=RUN_TIMEOUT_MS):
        second.predict_action.trigger()
    assert len(second.table_model.rows) == 40


def test_second_look_is_a_remembered_menu_setting_used_by_the_next_run(qtbot, settings, make_window, synth_folder):
    window = make_window(wait_for_model=True)
    assert (
        window.actions["second_look"].isChecked() and window.actions["second_look"] in window.menus["model"].actions()
    )
    run_folder(qtbot, window, synth_folder)
    assert window.worker._predictor.second_look_below > 0  # on by default
    window.actions["second_look"].trigger()  # off
    assert settings.value("second_look", type=bool) is False and window.worker.second_look is False
    with qtbot.waitSignal(window.run_finished, timeout=RUN_TIMEOUT_MS):
        window.predict_action.trigger()
    assert window.worker._predictor.second_look_below == 0.0
    assert len(window.table_model.rows) == 40
    window.close()
    again = make_window()
    assert not again.actions["second_look"].isChecked() and again.worker.second_look is False


def test_folders_are_remembered_absolute_and_the_bundled_model_by_name(
    qtbot, settings, baseline_model, synth_folder, monkeypatch, tmp_path
):
    """A relative folder breaks from any other directory; a path to the bundled model breaks in
    any other install (it would keep loading this clone's file)."""
    from core.models.store import DEFAULT_MODEL, same_file
    from digitsum_gui.main_window import BUNDLED_MODEL_SETTING

    window = MainWindow(settings=settings, model_path=baseline_model)
    qtbot.addWidget(window)
    monkeypatch.chdir(synth_folder.parent)
    with qtbot.waitSignal(window.run_finished, timeout=RUN_TIMEOUT_MS):
        window.open_folder(synth_folder.name)
    assert settings.value("last_folder") == str(synth_folder) and window.recent_folders() == [str(synth_folder)]
    assert settings.value("model_path") == str(baseline_model)
    window.close()

    # settings from before the name was kept: a path to another install's (still present) bundled model
    other_install = tmp_path / "old-clone" / "resources" / "models" / DEFAULT_MODEL.name
    other_install.parent.mkdir(parents=True)
    shutil.copy(DEFAULT_MODEL, other_install)
    settings.setValue("model_path", str(other_install))
    settings.setValue("auto_predict", False)
    bundled = MainWindow(settings=settings)
    qtbot.addWidget(bundled)
    with qtbot.waitSignal(bundled.model_changed, timeout=RUN_TIMEOUT_MS):
        pass
    assert same_file(bundled.summary.path, DEFAULT_MODEL)  # this install's own, not the old clone's
    assert not same_file(bundled.summary.path, other_install)
    assert settings.value("model_path") == BUNDLED_MODEL_SETTING


def test_opening_another_folder_clears_the_filter_and_the_count_is_right(qtbot, make_window, synth_folder, tmp_path):
    """Issue #24 item 8: "1 of 5 rows shown" with 1,504 loaded, the old folder's filter still on."""
    window = make_window()
    bar = window.filter_bar
    run_folder(qtbot, window, synth_folder)
    bar.text_edit.setText("synth_0001")
    bar.below_check.setChecked(True)
    qtbot.waitUntil(lambda: bar.count_label.text() == "10 of 40 rows shown", timeout=5000)

    other = tmp_path / "other"
    other.mkdir()
    for png in sorted(synth_folder.glob("*.png"))[:24]:
        shutil.copy(png, other / f"b_{png.name}")
    run_folder(qtbot, window, other)
    assert bar.text_edit.text() == "" and not bar.below_check.isChecked() and not window.proxy.filtering
    assert window.proxy.rowCount() == 24 and bar.count_label.text() == "24 rows"

    # rows the filter hides still count in the total
    bar.text_edit.setText("b_synth_0000")
    qtbot.waitUntil(lambda: bar.count_label.text() == "10 of 24 rows shown", timeout=5000)
    window.table_model.append_rows([PredictionRow(f"late_{i}.png", 1, 0.5, "0001") for i in range(3)])
    assert bar.count_label.text() == "10 of 27 rows shown"


def test_a_folder_that_goes_away_during_a_run_is_said_so_not_blamed_on_the_images(
    qtbot, make_window, synth_folder, tmp_path
):
    """Issue #24 item 7: "Done: 1,500 rows, 668 unreadable" when the folder itself was gone."""
    folder = shutil.copytree(synth_folder, tmp_path / "usb-stick")
    window = make_window(batch_size=4, wait_for_model=True)

    def pull_the_stick(*_):  # in the GUI thread, as the first rows come in
        if folder.exists():
            shutil.rmtree(folder)

    window.table_model.rowsInserted.connect(pull_the_stick)
    run_folder(qtbot, window, folder)
    message = window.status.currentMessage()
    read = sum(1 for r in window.table_model.rows if not r.error)
    assert message == f"Folder usb-stick went away during the run: {read:,} of 40 rows read"


def test_the_window_fits_the_screens_work_area_on_first_launch_and_when_restored(qtbot, settings, make_window):
    """Issue #24 item 5: on a 1366x768 laptop the status bar was below the screen until maximised."""
    window = make_window()
    area = window.screen().availableGeometry()
    qtbot.waitUntil(lambda: area.contains(window.frameGeometry()), timeout=5000)
    assert window.statusBar().isVisible()
    hint = window.minimumSizeHint()
    assert hint.width() <= 1366 and hint.height() <= 728  # 1366x768 less a 40 px panel

    window.resize(area.width() + 600, area.height() + 400)  # as left on a bigger monitor
    window.close()
    again = make_window()
    qtbot.waitUntil(lambda: area.contains(again.frameGeometry()), timeout=5000)
