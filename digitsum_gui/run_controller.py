"""The runs of the model over the open inputs: started on the worker, their rows, their end.

``RunController`` works for a ``MainWindow`` and adds, without the window knowing the details:

- starting a run on the ``PredictWorker``'s thread (a run going on is cancelled first, and
  this one follows it), and cancelling it after its current batch (the rows so far stay);
- the rows as they arrive: into the table (the first row selected once the first batch is
  painted), the status bar's progress, a failure's message box;
- the run's end, said in the status bar: done, cancelled, or the folder gone from under it;
- running again once the model being loaded is in use (``model_loading``, ``model_loaded``),
  and dropping the rows of a run given up for another folder (``give_up``).

The window hands it what it works on (the worker, the table model, the status bar, its state,
callables for auto-predict, the first row's selection and the actions' enabled state) and
connects its ``finished`` to the window's ``run_finished``.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QWidget

from digitsum_gui.message_boxes import show_error
from digitsum_gui.status_bar import RunStatusBar, plural

if TYPE_CHECKING:
    from core.inputs.listing import InputItem
    from core.predict.rows import PredictionRow
    from digitsum_gui.table.model import PredictionTableModel
    from digitsum_gui.window_state import WindowState
    from digitsum_gui.worker import PredictWorker


def gone_source(sources: list[str]) -> str:
    """``Folder NAME`` (or ``File NAME``) for the first of ``sources`` that is no longer there
    or no longer readable, else ""."""
    for source in sources:
        path = Path(source)
        if not path.exists() or not os.access(path, os.R_OK | (os.X_OK if path.is_dir() else 0)):
            return f"{'File' if path.suffix else 'Folder'} {path.name}"
    return ""


class RunController(QObject):
    """Predicting the open inputs, for one ``MainWindow``.

    Parameters
    ----------
    worker : PredictWorker
        Runs the model on its own thread; its signals come back here queued.
    model : PredictionTableModel
        The table: the run's items, then its rows.
    status : RunStatusBar
        Where the run's progress and end are said.
    state : WindowState
        What is open (``source``), the model in use, the run's cancel flag and what follows it.
    auto_predict : callable
        Whether Model > Predict When a Folder Opens is on (a new model then reads the folder again).
    select_first : callable
        Selects the table's first row unless one is selected (``ResultsView.select_first_if_none``).
    update_actions : callable
        Enables Predict, Cancel and Export as the state says.
    parent : QWidget
        The window: message boxes open over it.

    Signals
    -------
    finished(bool cancelled)
        A run ended and all its rows are in the table.
    """

    finished = Signal(bool)
    _request_run = Signal(list, object)

    def __init__(
        self,
        worker: PredictWorker,
        model: PredictionTableModel,
        status: RunStatusBar,
        state: WindowState,
        auto_predict: Callable[[], bool],
        select_first: Callable[[], None],
        update_actions: Callable[[], None],
        parent: QWidget,
    ):
        super().__init__(parent)
        self.parent_widget, self.worker, self.model, self.status, self.state = parent, worker, model, status, state
        self.auto_predict, self.select_first, self.update_actions = auto_predict, select_first, update_actions
        self._connect_worker()

    def _connect_worker(self) -> None:
        """The requests go to the worker's thread, its answers come back queued to this (the GUI)
        thread: the slots are bound methods of objects that live here."""
        worker = self.worker
        self._request_run.connect(worker.run)
        worker.listed.connect(self._on_listed)
        worker.started.connect(self.status.run_started)
        worker.rows.connect(self._on_rows)
        worker.progress.connect(self.status.run_progress)
        worker.error.connect(self._on_error)
        worker.finished.connect(self._on_finished)

    # --- starting and stopping ------------------------------------------------------------------
    def predict(self) -> bool:
        """Run the model over the open inputs (a run going on is cancelled and this one follows).

        Returns False if nothing is open.
        """
        if not self.state.source:
            return False
        if self.state.running:
            self.cancel()
            self.state.pending_run = True
            return True
        self.state.stop = threading.Event()
        self.status.showMessage("Reading the folder..." if self.state.summary else "Waiting for the model to load...")
        self._request_run.emit(list(self.state.source), self.state.stop)
        self.update_actions()
        return True

    def cancel(self) -> None:
        """Stop the current run after its current batch (rows so far stay)."""
        if self.state.stop is not None:
            self.state.stop.set()
            self.status.showMessage("Cancelling after this batch...")

    def give_up(self) -> None:
        """The table is about to show other inputs: cancel the run going on, and drop the rows it
        still sends until the next run lists its own items."""
        if self.state.running:
            self.cancel()
            self.state.discard_rows = True

    def stop(self) -> None:
        """Stop the run going on, without a word (the window is closing)."""
        if self.state.stop is not None:
            self.state.stop.set()

    def model_loading(self, rerun: bool) -> None:
        """Another model is being loaded: the run going on is cancelled, and the table's rows are
        read again once it is in use if ``rerun`` (and the table holds rows)."""
        self.cancel()
        self.state.rerun_after_load = rerun and bool(self.model.rows)

    def model_loaded(self) -> None:
        """The model being loaded is in use: read the open inputs again if ``model_loading`` said
        so and auto-predict is on."""
        if self.state.rerun_after_load and self.state.source and self.auto_predict():
            self.state.rerun_after_load = False
            self.predict()

    # --- the worker's answers (GUI thread) ------------------------------------------------------
    def _on_listed(self, items: list[InputItem]) -> None:
        self.state.discard_rows = False
        # the worker loads a model before it lists (its requests run in order): this run reads with it
        self.state.rows_model = self.state.summary.path if self.state.summary is not None else None
        self.model.set_items(items)

    def _on_rows(self, rows: list[PredictionRow]) -> None:
        if self.state.discard_rows:
            return
        first = self.model.rowCount() == 0
        self.model.append_rows(rows)
        if first:  # after this batch's paint, not in it: one long stall becomes two short ones
            QTimer.singleShot(0, self.select_first)

    def _on_error(self, reason: str, details: str) -> None:
        show_error(self.parent_widget, "digitsum", reason, details)

    def _on_finished(self, cancelled: bool) -> None:
        self.state.stop = None
        if not self.state.discard_rows:  # a run given up for another folder: nothing to say about it
            self.status.run_finished(self._end_text(cancelled))
        self.update_actions()
        self.finished.emit(cancelled)
        if self.state.pending_run:
            self.state.pending_run = False
            self.predict()

    def _end_text(self, cancelled: bool) -> str:
        """What the status bar says at the run's end ("" for a run over no inputs)."""
        rows, total = self.model.rows, len(self.model.items)
        errors = sum(1 for r in rows if r.error)
        if cancelled:
            return f"Cancelled: {len(rows):,} of {plural(total, 'row')} done"
        if gone := gone_source(self.state.source):
            # the folder itself went (a USB stick pulled, a share dropped): not the images' fault
            return f"{gone} went away during the run: {len(rows) - errors:,} of {plural(total, 'row')} read"
        if rows:
            unread = f", {errors:,} unreadable" if errors else ""
            return f"Done: {plural(len(rows), 'row')}{unread}"
        return ""
