"""RunController without a model: a stand-in worker on the GUI thread answers as the real one does.

The runs end to end, through a real worker and model, are in ``test_main_window.py`` and
``test_worker.py``; here each answer is sent by hand, so the order of events is the test's.
"""

import threading
from pathlib import Path

import pytest
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget

from core.inputs.listing import InputItem
from core.predict.rows import PredictionRow
from digitsum_gui.run_controller import RunController, gone_source
from digitsum_gui.status_bar import RunStatusBar
from digitsum_gui.table.model import PredictionTableModel
from digitsum_gui.window_state import WindowState


class StandInWorker(QObject):
    """The ``PredictWorker`` signals the controller listens to; ``run`` only notes its requests."""

    listed = Signal(list)
    started = Signal(int)
    progress = Signal(int, int, float, float)
    rows = Signal(list)
    error = Signal(str, str)
    finished = Signal(bool)

    def __init__(self):
        super().__init__()
        self.requests: list[tuple[list, threading.Event]] = []

    def run(self, inputs: list, stop: threading.Event) -> None:
        self.requests.append((inputs, stop))


@pytest.fixture
def runs(qtbot, tmp_path):
    """A controller over a stand-in worker, with ``tmp_path/images`` open and auto-predict on."""
    window = QWidget()
    qtbot.addWidget(window)
    folder = tmp_path / "images"
    folder.mkdir()
    state = WindowState(source=[str(folder)])
    calls = {"select_first": 0, "update_actions": 0}
    controller = RunController(
        StandInWorker(),
        PredictionTableModel(window),
        RunStatusBar(window),
        state,
        lambda: True,
        lambda: calls.__setitem__("select_first", calls["select_first"] + 1),
        lambda: calls.__setitem__("update_actions", calls["update_actions"] + 1),
        window,
    )
    controller.calls = calls  # what the window's callables were asked, for the tests
    return controller


def items(folder, count):
    return [InputItem(f"{i}.png", Path(folder) / f"{i}.png", i) for i in range(count)]


def rows(folder, start, count, error=""):
    return [PredictionRow(f"{folder}/{i}.png", 3, 0.9, "0 1 2 0", error) for i in range(start, start + count)]


def test_a_run_starts_on_the_worker_with_the_open_inputs_and_a_cancel_flag(runs):
    assert runs.predict()
    ((inputs, stop),) = runs.worker.requests
    assert inputs == runs.state.source and inputs is not runs.state.source  # a copy: the worker's own
    assert stop is runs.state.stop and runs.state.running and not stop.is_set()
    assert runs.status.currentMessage() == "Waiting for the model to load..."
    assert runs.calls["update_actions"] == 1


def test_nothing_open_starts_nothing(runs):
    runs.state.source = []
    assert not runs.predict()
    assert runs.worker.requests == [] and not runs.state.running


def test_predict_during_a_run_cancels_it_and_runs_again_once_it_has_ended(runs, qtbot):
    runs.predict()
    first_stop = runs.state.stop
    assert runs.predict()
    assert first_stop.is_set() and runs.state.pending_run and len(runs.worker.requests) == 1
    assert runs.status.currentMessage() == "Cancelling after this batch..."
    with qtbot.waitSignal(runs.finished) as ended:
        runs.worker.finished.emit(True)
    assert ended.args == [True]
    assert len(runs.worker.requests) == 2 and not runs.state.pending_run
    assert runs.state.stop is runs.worker.requests[1][1] and not runs.state.stop.is_set()


def test_rows_go_to_the_table_and_the_first_batch_selects_a_row(runs, qtbot):
    folder = runs.state.source[0]
    runs.predict()
    runs.worker.listed.emit(items(folder, 4))
    runs.worker.rows.emit(rows(folder, 0, 2))
    runs.worker.rows.emit(rows(folder, 2, 2, error="cannot identify image file"))
    assert [r.file for r in runs.model.rows] == [f"{folder}/{i}.png" for i in range(4)]
    qtbot.waitUntil(lambda: runs.calls["select_first"] == 1)  # after the first batch's paint, once
    runs.worker.finished.emit(False)
    assert runs.status.currentMessage() == "Done: 4 rows, 2 unreadable"
    assert not runs.state.running


def test_a_cancelled_run_says_how_far_it_got(runs):
    folder = runs.state.source[0]
    runs.predict()
    runs.worker.listed.emit(items(folder, 40))
    runs.worker.rows.emit(rows(folder, 0, 8))
    runs.cancel()
    assert runs.state.stop.is_set()
    runs.worker.finished.emit(True)
    assert runs.status.currentMessage() == "Cancelled: 8 of 40 rows done"


def test_a_folder_gone_during_the_run_is_named(runs, tmp_path):
    folder = runs.state.source[0]
    runs.predict()
    runs.worker.listed.emit(items(folder, 3))
    runs.worker.rows.emit(rows(folder, 0, 1) + rows(folder, 1, 2, error="no such file"))
    (tmp_path / "images").rmdir()
    runs.worker.finished.emit(False)
    assert runs.status.currentMessage() == "Folder images went away during the run: 1 of 3 rows read"


def test_a_run_given_up_for_another_folder_drops_its_rows_and_says_nothing(runs):
    folder = runs.state.source[0]
    runs.predict()
    runs.status.showMessage("Opened another folder")
    runs.give_up()
    assert runs.state.discard_rows and runs.state.stop.is_set()
    runs.worker.rows.emit(rows(folder, 0, 2))
    assert runs.model.rows == []
    runs.worker.finished.emit(True)
    assert runs.status.currentMessage() == "Cancelling after this batch..."  # no "Cancelled: ..." over it
    runs.worker.listed.emit(items(folder, 2))  # the next run lists its own items: its rows count
    assert not runs.state.discard_rows


def test_a_new_model_reads_the_rows_again_only_where_asked(runs):
    folder = runs.state.source[0]
    runs.model_loading(rerun=True)
    runs.model_loaded()
    assert runs.worker.requests == []  # an empty table: nothing to read again
    runs.model.set_items(items(folder, 1))
    runs.model.append_rows(rows(folder, 0, 1))
    runs.model_loading(rerun=False)
    runs.model_loaded()
    assert runs.worker.requests == []
    runs.model_loading(rerun=True)
    runs.model_loaded()
    assert len(runs.worker.requests) == 1


def test_a_new_model_cancels_the_run_going_on(runs):
    runs.predict()
    runs.model_loading(rerun=False)
    assert runs.state.stop.is_set()


def test_a_failed_run_opens_a_box_over_the_window(runs, qtbot, monkeypatch):
    shown = []
    monkeypatch.setattr("digitsum_gui.run_controller.show_error", lambda *args: shown.append(args))
    runs.worker.error.emit("Prediction stopped after 8 of 40 rows: CUDA error", "Traceback ...")
    assert shown == [
        (runs.parent_widget, "digitsum", "Prediction stopped after 8 of 40 rows: CUDA error", "Traceback ...")
    ]


def test_stop_sets_the_flag_without_a_word(runs):
    runs.predict()
    runs.status.showMessage("")
    runs.stop()
    assert runs.state.stop.is_set() and runs.status.currentMessage() == ""


def test_gone_source_names_the_first_input_no_longer_there(tmp_path):
    (tmp_path / "here").mkdir()
    assert gone_source([str(tmp_path / "here")]) == ""
    assert gone_source([str(tmp_path / "here"), str(tmp_path / "stick")]) == "Folder stick"
    assert gone_source([str(tmp_path / "scan.png")]) == "File scan.png"
