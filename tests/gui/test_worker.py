"""digitsum_gui.worker in a real window: bad files, no images, a refused model, Cancel and a model
failing mid-run, with real model files, on the worker's own thread.

Closing the window mid-run (in a child process) is tests/gui/test_close.py.
"""

from __future__ import annotations

import csv
import functools
import io
import shutil

import pytest
from helpers.hostile import failing_on, marker_pickles, write_bad_files
from PySide6.QtCore import QThread
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox

from digitsum_gui.main_window import MainWindow

RUN_TIMEOUT_MS = 120_000


@pytest.fixture
def make_window(make_window):
    """conftest's factory, returning only once the model is loaded."""
    return functools.partial(make_window, wait_for_model=True)


def run_folder(qtbot, window, folder) -> bool:
    with qtbot.waitSignal(window.run_finished, timeout=RUN_TIMEOUT_MS) as blocker:
        window.open_folder(folder)
    return blocker.args[0]


def visible_boxes(window) -> list[QMessageBox]:
    return [b for b in window.findChildren(QMessageBox) if b.isVisible()]


def close_boxes(window) -> None:
    for box in visible_boxes(window):
        box.close()


@pytest.mark.hardening("issue 6, case 1")
def test_case01_bad_files_are_error_rows_in_the_window(qtbot, make_window, synth_folder, tmp_path):
    folder = tmp_path / "mixed"
    folder.mkdir()
    for i in range(4):
        shutil.copy(synth_folder / f"synth_{i:05d}.png", folder / f"good{i}.png")
    import numpy as np
    from PIL import Image

    bad = write_bad_files(folder, np.asarray(Image.open(synth_folder / "synth_00000.png")))
    window = make_window()
    assert run_folder(qtbot, window, folder) is False
    rows = {r.file: r for r in window.table_model.rows}
    assert len(rows) == 9
    for name, words in bad.items():
        assert words in rows[name].error and rows[name].predicted_sum is None, (name, rows[name].error)
    assert all(rows[f"good{i}.png"].ok for i in range(4))
    assert "5 unreadable" in window.status.currentMessage()
    assert visible_boxes(window) == []  # bad files are rows, not error boxes


@pytest.mark.hardening("issue 6, case 4")
def test_case04_a_folder_without_images_says_so(qtbot, make_window, tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("x")
    window = make_window()
    assert run_folder(qtbot, window, tmp_path / "empty") is False
    assert any("No images found in" in b.text() for b in visible_boxes(window))
    assert window.table_model.rows == [] and window.predict_action.isEnabled()


@pytest.mark.hardening("issue 6, case 6")
def test_case06_open_model_refuses_pickles_and_never_runs_them(
    qtbot, make_window, synth_folder, tmp_path, baseline_model, monkeypatch
):
    marker = tmp_path / "MARKER"
    files = marker_pickles(tmp_path / "models", marker)
    window = make_window()
    assert run_folder(qtbot, window, synth_folder) is False
    before = [(r.file, r.predicted_sum) for r in window.table_model.rows]
    for suffix, path in files.items():
        # File > Open Model...: the native file picker is answered with this file
        monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *a, p=path, **k: (str(p), "")))
        with qtbot.waitSignal(window.model_failed, timeout=RUN_TIMEOUT_MS) as failed:
            window.open_model_action.trigger()
        assert path.name in failed.args[0] and "never unpickles" in failed.args[0], failed.args[0]
        assert not marker.exists(), suffix
        assert window.summary.path == baseline_model and window.summary.name == "baseline.safetensors"
        assert window.settings.value("model_path") == str(baseline_model)
        assert any("Still using baseline.safetensors" in b.text() for b in visible_boxes(window))
        assert "baseline.safetensors" in window.status.model_label.text()
        close_boxes(window)
    # the model in use is still in use: the table was kept and a new run gives the same sums
    assert [(r.file, r.predicted_sum) for r in window.table_model.rows] == before
    with qtbot.waitSignal(window.run_finished, timeout=RUN_TIMEOUT_MS):
        window.predict()
    assert [(r.file, r.predicted_sum) for r in window.table_model.rows] == before
    assert not marker.exists()


@pytest.mark.hardening("issue 6, case 11")
def test_case11_cancel_mid_run_keeps_whole_rows_and_the_worker_thread_ends(
    qtbot, make_window, synth_folder, digits_model, tmp_path
):
    window = make_window(model=digits_model, batch_size=4)  # ResNet-50 on the CPU: ten batches of 4
    thread = window.findChild(QThread, "digitsum-predict")
    assert thread is not None and thread.isRunning()
    once = []

    def cancel_like_a_user(*_):  # in the GUI thread, as the Esc key would
        if not once:
            once.append(True)
            window.cancel_action.trigger()

    window.table_model.rowsInserted.connect(cancel_like_a_user)
    assert run_folder(qtbot, window, synth_folder) is True
    rows = list(window.table_model.rows)
    assert 4 <= len(rows) < 40 and len(rows) % 4 == 0  # whole batches only
    assert [r.file for r in rows] == [i.name for i in window.table_model.items[: len(rows)]]
    for r in rows:  # no half row: a sum, its confidence and four digits, or an error
        assert r.ok and r.predicted_sum is not None and r.confidence is not None and len(r.digits) == 4, r
    qtbot.wait(300)
    assert len(window.table_model.rows) == len(rows)  # nothing trickles in after the end
    assert not window.running and window.predict_action.isEnabled() and not window.cancel_action.isEnabled()
    assert window.status.currentMessage().startswith("Cancelled")

    dest = tmp_path / "partial.csv"
    assert window.export_csv(dest) == len(rows)
    close_boxes(window)  # "Partial export" information
    records = list(csv.reader(io.StringIO(dest.read_bytes().decode("utf-8-sig"), newline="")))
    assert records[0][:5] == ["file", "predicted_sum", "confidence", "digits", "error"]
    assert len(records) == len(rows) + 1 and all(len(rec) == len(records[0]) for rec in records)
    assert [rec[0] for rec in records[1:]] == [r.file for r in rows]

    window.close()
    assert thread.isFinished()


@pytest.mark.hardening("issue 6, case 13")
def test_case13_the_model_failing_mid_run_is_shown_on_the_main_thread_and_controls_come_back(
    qtbot, settings, baseline_model, synth_folder, monkeypatch
):
    from core.inputs.images import read_image

    # the worker builds its Predictor from core.predict.predictor: it gets a real one whose model fails on
    # the second batch of 8 (the one holding synth_00008.png)
    failing = failing_on(read_image(synth_folder / "synth_00008.png"))
    monkeypatch.setattr("core.predict.predictor.Predictor", failing)
    window = MainWindow(settings=settings, model_path=baseline_model, device="cpu", batch_size=8)
    qtbot.addWidget(window)
    window.show()
    with qtbot.waitSignal(window.model_changed, timeout=RUN_TIMEOUT_MS):
        pass
    assert run_folder(qtbot, window, synth_folder) is False
    assert [r.file for r in window.table_model.rows] == [f"synth_{i:05d}.png" for i in range(8)]
    boxes = [b for b in visible_boxes(window) if "Prediction stopped" in b.text()]
    assert len(boxes) == 1
    assert boxes[0].text() == (
        "Prediction stopped after 8 of 40 rows: CUDA error: an illegal memory access was encountered"
    )
    assert "Traceback" in boxes[0].detailedText()
    assert boxes[0].thread() is QApplication.instance().thread()  # made in the GUI thread, not the worker's
    assert not window.running
    assert window.predict_action.isEnabled() and window.open_action.isEnabled()
    assert window.export_action.isEnabled() and not window.cancel_action.isEnabled()
    close_boxes(window)
    failing.poison = None  # the fault goes away (a GPU that recovers): a new run works
    with qtbot.waitSignal(window.run_finished, timeout=RUN_TIMEOUT_MS):
        window.predict_action.trigger()
    assert len(window.table_model.rows) == 40 and visible_boxes(window) == []


@pytest.mark.parametrize(
    ("error", "said"),
    [
        (MemoryError(), "MemoryError"),
        (RuntimeError("CUDA error: unknown\nCompile with TORCH_USE_CUDA_DSA"), "CUDA error: unknown"),
    ],
    ids=["no message", "lines of advice"],
)
def test_a_failure_is_said_as_the_command_line_says_it(
    qtbot, settings, baseline_model, synth_folder, monkeypatch, error, said
):
    """The box's line is the exception's first line, or its type where it has no message (as
    ``digitsum predict`` prints it); the whole traceback stays under Details."""
    from core.inputs.images import read_image

    monkeypatch.setattr(
        "core.predict.predictor.Predictor", failing_on(read_image(synth_folder / "synth_00008.png"), error)
    )
    window = MainWindow(settings=settings, model_path=baseline_model, device="cpu", batch_size=8)
    qtbot.addWidget(window)
    window.show()
    with qtbot.waitSignal(window.model_changed, timeout=RUN_TIMEOUT_MS):
        pass
    assert run_folder(qtbot, window, synth_folder) is False
    (box,) = [b for b in visible_boxes(window) if "Prediction stopped" in b.text()]
    assert box.text() == f"Prediction stopped after 8 of 40 rows: {said}"
    assert type(error).__name__ in box.detailedText()
    close_boxes(window)
    window.close()
