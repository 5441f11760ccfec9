"""The background half of the window: load a model once, list inputs, predict batch by batch.

``PredictWorker`` is a plain ``QObject`` that lives in a ``QThread`` for the window's whole
life (napari-style: the Qt layer only relays what ``core`` computes). The window talks to it
through queued signals, so its slots run one after another in the worker thread, in the
order they were asked for: a model load asked for before a run is finished before that run
starts, and a run never sees the model change under it.

Everything heavy happens here: loading the model (on a CPU its ONNX file, ~0.5 s; where torch
runs it, ``import torch`` first, seconds on a cold disk), so the window is on screen and
responsive before the model is ready.

    thread = QThread()
    worker = PredictWorker(batch_size=64)
    worker.moveToThread(thread)
    thread.start()
    request_load.connect(worker.load_model)      # Signal(object): path or None
    request_run.connect(worker.run)              # Signal(list, object): inputs, threading.Event
    ...
    stop.set(); worker.shutdown(); thread.quit(); thread.wait()
"""

from __future__ import annotations

import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot

from core.errors import exception_line, one_line

# Each delivery of rows costs the window a repaint of the table and the progress bar
# (~10-20 ms of its thread on a 2-core laptop); a GPU finishes a batch every few ms. Rows
# are therefore sent at most this often, so the window's cost does not grow with the speed.
UPDATE_INTERVAL_S = 0.25


@dataclass
class ModelSummary:
    """What the window shows about the model in use (no tensors: safe to pass across threads)."""

    path: Path
    name: str
    arch: str
    head: str
    device_name: str
    meta: dict = field(default_factory=dict)

    @property
    def accuracy_text(self) -> str:
        """The most telling figure the file records, saying what it was measured on
        (``held-out digits 98.9% of 10,000``, ``val 100.0% of 100 (±3.7)``), else empty.
        See ``digitsum_gui.model_figures``: a validation figure is never passed off as a held-out one."""
        from digitsum_gui.model_figures import best_figure_text

        return best_figure_text(self.meta.get("metrics"))

    @property
    def accuracy_tooltip(self) -> str:
        """Every figure the file records, one a line, each with its kind, count and set."""
        from digitsum_gui.model_figures import figures_tooltip

        return figures_tooltip(self.meta.get("metrics"), self.meta.get("digit_split"))


def _failure(reason: str, exc: BaseException) -> tuple[str, str]:
    """``(reason, details)``: ``reason`` in one line, and the traceback (the window's 'details')."""
    return one_line(reason), "".join(traceback.format_exception(exc))


class PredictWorker(QObject):
    """Loads a ``core.predict.predictor.Predictor`` once and runs it over inputs on request.

    Parameters
    ----------
    device : str
        ``auto | cpu | cuda | cuda:N`` for ``Predictor``.
    batch_size : int, optional
        Images per forward pass (None: ``Predictor``'s default, the same as the CLI's).
    workers : int, optional
        Decoding threads (None: ``Predictor``'s default).
    recursive : bool
        List images in sub-folders too.
    second_look : bool
        Read doubtful rows again from shifted copies, crowded ones from a stretched one
        (``core.predict.second_look``); an attribute
        the window sets when its menu item is toggled, used from the next run on.

    Signals
    -------
    model_loaded(ModelSummary)
        A model is loaded and in use.
    model_failed(str reason, str details)
        A model did not load; the previous one (if any) stays in use.
    note(str)
        One line worth a glance while a model loads (making its ONNX file for the CPU, or why
        torch runs it there instead).
    listed(list of InputItem)
        The inputs of the run that is starting, in input order (rows come in that order).
    started(int total)
    progress(int done, int total, float images_per_s, float eta_s)
        ``eta_s`` is -1 while unknown.
    rows(list of PredictionRow)
        The next results, in input order: the first batch at once, then, with the next
        batch that comes ``UPDATE_INTERVAL_S`` or more after the last delivery, all rows
        since (and the rest at the end of the run). ``progress`` follows each delivery.
    error(str reason, str details)
        Why a run could not start or stopped early: one line, and details (a traceback)
        or "". Unreadable files are not errors: they are rows.
    finished(bool cancelled)
        Always emitted once per ``run`` call, last.
    """

    model_loaded = Signal(object)
    model_failed = Signal(str, str)
    note = Signal(str)
    listed = Signal(list)
    started = Signal(int)
    progress = Signal(int, int, float, float)
    rows = Signal(list)
    error = Signal(str, str)
    finished = Signal(bool)

    def __init__(
        self,
        device: str = "auto",
        batch_size: int | None = None,
        workers: int | None = None,
        recursive: bool = False,
        second_look: bool = True,
    ):
        super().__init__()
        self.device = device
        self.second_look = second_look  # read doubtful rows again (core.predict.second_look); set from any thread
        self.batch_size = batch_size
        self.workers = workers
        self.recursive = recursive
        self._predictor = None  # touched only in the worker thread
        self._closing = threading.Event()  # set from the GUI thread; later requests do nothing

    def shutdown(self) -> None:
        """Make every request still queued return at once (call from any thread)."""
        self._closing.set()

    @Slot(object)
    def load_model(self, path: str | None) -> None:
        """Load ``path`` (None: the bundled default model); keep the old model on failure."""
        if self._closing.is_set():
            return
        try:
            from core.predict.predictor import Predictor  # a model load takes up to seconds: never in the GUI thread

            predictor = Predictor(
                path,
                device=self.device,
                batch_size=self.batch_size,
                workers=self.workers,
                announce=self.note.emit,
                cancel=self._closing,  # a window closed while a model's ONNX file is made stops that
            )
        except Exception as exc:  # ModelFileError, DeviceError, out of memory, ...: all keep the old model
            if self._closing.is_set():
                return  # (the window is going: nobody to tell)
            shown = path if path is not None else "the default model"
            self.model_failed.emit(*_failure(f"Cannot load {shown}: {exception_line(exc)}", exc))
            return
        self._predictor = predictor
        if predictor.precision_note:
            self.note.emit(predictor.precision_note)
        info = predictor.info
        from core.models.store import model_display_name  # a store run's model is named by its run folder

        self.model_loaded.emit(
            ModelSummary(
                Path(info.path),
                model_display_name(info.path),
                info.arch,
                info.head,
                predictor.device_name,
                dict(info.meta),
            )
        )

    @Slot(list, object)
    def run(self, inputs: list, stop: threading.Event) -> None:
        """List ``inputs`` (folders, image files, .npy) and predict them, batch by batch.

        ``stop`` is this run's own cancel flag, set from the GUI thread; it is checked
        between batches, so a cancel takes effect within one batch and earlier rows stay.
        """
        cancelled = False
        try:
            cancelled = self._run(inputs, stop)
        finally:
            self.finished.emit(cancelled)

    def _run(self, inputs: list, stop: threading.Event) -> bool:
        if self._closing.is_set() or stop.is_set():
            return True
        from core.inputs.listing import InputError, left_out_note, list_inputs

        shown = ", ".join(str(i) for i in inputs)
        left_out: list[str] = []
        try:
            items = list_inputs(inputs, recursive=self.recursive, skipped=left_out)
        except InputError as exc:
            # core's reasons start with the input they are about: say it once, not twice
            self.error.emit(f"Cannot open {exc}", "")
            return False
        except Exception as exc:  # a permission or I/O error deep in a tree
            self.error.emit(*_failure(f"Cannot open {shown}: {exc}", exc))
            return False
        if not items:
            self.error.emit(f"No images found in {shown}", "")
            return False
        if self._predictor is None:
            self.error.emit("No model is loaded: open one with File > Open Model...", "")
            return False

        from core.spec import SECOND_LOOK_BELOW

        self._predictor.second_look_below = SECOND_LOOK_BELOW if self.second_look else 0.0
        self.listed.emit(items)
        total = len(items)
        self.started.emit(total)
        if left_out:
            note = left_out_note(left_out)
            self.note.emit(note[0].upper() + note[1:])
        from core.predict.rows import RunStats

        stats = RunStats(total)
        stats.started = time.time()  # measured from here, not from listing
        should_stop = lambda: stop.is_set() or self._closing.is_set()  # noqa: E731
        waiting: list = []  # rows not yet sent to the window
        sent_at = float("-inf")  # the first batch goes at once

        def deliver() -> None:
            if waiting:
                self.rows.emit(list(waiting))
                waiting.clear()
                eta = stats.eta
                self.progress.emit(stats.done, total, stats.images_per_s, -1.0 if eta is None else eta)

        try:
            for batch in self._predictor.predict(items, should_stop=should_stop):
                stats.add(batch)
                waiting.extend(batch)
                if time.monotonic() - sent_at >= UPDATE_INTERVAL_S:
                    deliver()
                    sent_at = time.monotonic()
                # no break on stop here: the generator checks should_stop itself before the
                # next batch and cancels the decoding it had queued ahead
        except Exception as exc:  # the model failed (not a file: those are error rows)
            deliver()  # the rows before the failure stay
            # as the command line says it: the first line (CUDA errors run on), the type if no message
            why = exception_line(exc, first_line=True)
            self.error.emit(*_failure(f"Prediction stopped after {stats.done} of {total} rows: {why}", exc))
            return False
        deliver()
        return stats.done < total
