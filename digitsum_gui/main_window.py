"""The main window: open a folder, watch the sums arrive, review them, export a CSV.

The window holds no prediction logic: a ``PredictWorker`` in its own ``QThread`` loads the
model and runs ``core``'s Predictor; the table is a ``PredictionTableModel`` over the rows
it sends back; the CSV is ``core.predict.prediction_csv.write_predictions_csv`` over those rows in input
order, so its columns are byte for byte what ``digitsum predict DIR --output X`` writes,
followed by ``corrected_sum`` (the true sums typed in the table or read from labels.csv).
The corrections loop is two controllers: the true sums are ``LabelsController``
(``labels_controller``; their backup ``labels_backup``), Model > Retrain... and
Model > Manage Models... are ``digitsum_gui.retrain``'s ``RetrainController`` (``retrain``).

Running the model is ``RunController`` (``run_controller``): the window builds the worker and
its thread and hands them to it.

The window's state between events is a plain ``WindowState`` (``window_state``); its actions
are ``ActionSpec`` lists (its own in ``window_actions``, the rest from the controllers, which
are handed what they work on, not the window), placed in the menus and the toolbar by
``menus.install`` in the order of ``menus.MENUS``.

Hooks for later features: ``set_model(path)`` (keeps the old model on failure, reports
``model_changed`` / ``model_failed``), ``predict()`` to run again, ``actions`` and ``menus``
by name, ``table_model.rows`` for the results.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QSettings, QThread, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent, QShowEvent
from PySide6.QtWidgets import QFileDialog, QMainWindow, QWidget

from core.inputs.samples import is_installed_samples
from core.models.store import DEFAULT_MODEL, same_file
from digitsum_gui.actions import joined_actions, make_actions, update_enabled
from digitsum_gui.collector import collect_on_gui_thread
from digitsum_gui.export_dialog import ask_export
from digitsum_gui.exporting import Exporter
from digitsum_gui.info_dialogs import MarkdownDialog, about_markdown, model_info_markdown
from digitsum_gui.labels_backup import LabelsBackupController
from digitsum_gui.labels_controller import LabelsController
from digitsum_gui.menus import SubmenuSpec, install
from digitsum_gui.message_boxes import show_error
from digitsum_gui.model_store import ModelStore
from digitsum_gui.recent import fill_recent_menu, forget_folder, recent_folders, remember_folder
from digitsum_gui.results_view import ResultsView
from digitsum_gui.retrain.controller import RetrainController
from digitsum_gui.review import ReviewController
from digitsum_gui.run_controller import RunController
from digitsum_gui.sample_images import SampleImages
from digitsum_gui.shortcuts import ShortcutsHelp
from digitsum_gui.status_bar import RunStatusBar
from digitsum_gui.table.filter_proxy import PredictionFilterProxyModel
from digitsum_gui.table.model import PredictionTableModel
from digitsum_gui.window_actions import window_action_specs
from digitsum_gui.window_state import WindowState
from digitsum_gui.worker import PredictWorker

if TYPE_CHECKING:
    from digitsum_gui.worker import ModelSummary

BUNDLED_MODEL_SETTING = "bundled"  # settings' "model_path" for the bundled model, wherever it is installed


def is_bundled_setting(value: str) -> bool:
    """Whether a remembered "model_path" means the bundled model: by name, or (settings written
    before the name was kept) a path to another install's bundled model file."""
    path = Path(value)
    return value == BUNDLED_MODEL_SETTING or (
        path.name == DEFAULT_MODEL.name
        and path.parent.name == "models"
        and path.parent.parent.name in ("resources", "digitsum_resources")
    )


class MainWindow(QMainWindow):
    """The app's window.

    Parameters
    ----------
    settings : QSettings, optional
        Where preferences live (tests pass a temporary INI file). Default: organization and
        application ``digitsum``.
    model_path : str or Path, optional
        Model to load; default: the one remembered in settings, else the bundled model.
    device, batch_size, workers
        Passed to ``core.predict.predictor.Predictor`` (None: its defaults, the same as the CLI's).
    store : ModelStore, optional
        Trained models and corrections files (default: the per-user data folder).

    Signals
    -------
    model_changed(ModelSummary)
        A new model is in use.
    model_failed(str)
        A model did not load (after the message box); the previous one is still in use.
    run_finished(bool cancelled)
        A run ended and all its rows are in the table.
    opened()
        Folders or files were opened (``open_paths``, the same folder again too).
    """

    model_changed = Signal(object)
    model_failed = Signal(str)
    run_finished = Signal(bool)
    opened = Signal()
    _request_load = Signal(object)

    def __init__(
        self,
        settings: QSettings | None = None,
        model_path: str | Path | None = None,
        device: str = "auto",
        batch_size: int | None = None,
        workers: int | None = None,
        store: ModelStore | None = None,
        parent: QWidget | None = None,
    ):
        super().__init__(parent)
        self._collector = collect_on_gui_thread()  # cycles holding widgets must not be freed on the worker's thread
        self.settings = settings if settings is not None else QSettings("digitsum", "digitsum")
        self.state = WindowState()
        self.export_columns: dict = {}  # name -> function(row): CSV columns after the standard ones
        self.spreadsheet_columns: dict = {}  # the same, added only for a spreadsheet (export_dialog)
        self.setWindowTitle("digitsum")
        self.setAcceptDrops(True)

        self.table_model = PredictionTableModel(self)
        self.proxy = PredictionFilterProxyModel(self)
        self.proxy.setSourceModel(self.table_model)
        self._build_central()
        self.status = RunStatusBar(self)
        self.setStatusBar(self.status)
        self._build_parts(store if store is not None else ModelStore(parent=self))  # default: the per-user data folder
        self._restore_settings()
        self._start_worker(device, batch_size, workers)
        self.set_model(self._first_model(model_path))
        self.update_actions()

    # --- building ------------------------------------------------------------------------
    def _build_central(self) -> None:
        self.results = ResultsView(self.table_model, self.proxy)
        # short names for what tests and later features reach for most
        self.table_view, self.detail = self.results.table_view, self.results.detail
        self.filter_bar = self.results.filter_bar
        for signal in (self.table_model.rows_appended, self.table_model.modelReset):
            signal.connect(self.update_actions)
        self.results.hint.open_requested.connect(self.ask_folder)
        self.setCentralWidget(self.results)

    def _build_parts(self, store: ModelStore) -> None:
        """The controllers, each handed what it works on; then every part's actions, placed in
        the menus and the toolbar in ``menus.MENUS``'s order."""
        model, view, status, state = self.table_model, self.table_view, self.status, self.state
        self.labels_controller = LabelsController(model, view, status, state, store.corrections_dir, self)
        self.export_columns.update(self.labels_controller.export_columns)
        self.spreadsheet_columns.update(self.labels_controller.spreadsheet_columns)
        self.exporter = Exporter(
            model, self.proxy, view, self.export_columns, self.spreadsheet_columns, status, self.settings, state, self
        )
        # after the labels controller: it hooks the labels that one reads
        self.labels_backup = LabelsBackupController(model, status, store.backups_dir, self)
        self.opened.connect(self.labels_backup.new_round)
        self.samples = SampleImages(self.open_folder, status, state, store.samples_dir, self)
        self.app_data = store.root  # where the app keeps its own files (the samples' copy): no place for an export
        self.results.hint.samples_requested.connect(self.samples.open)
        self.run_finished.connect(self.samples.say_after_run)
        self.retrain = RetrainController(
            self,
            store,
            state,
            self.settings,
            status,
            lambda: self.labels_controller.labels,
            self.set_model,
            self.predict,
        )
        self.model_changed.connect(self.retrain.on_model_changed)
        self.model_changed.connect(self.labels_controller.model_changed)
        # after the labels controller: it uses the true sums' editor that one sets
        self.review = ReviewController(view, self.proxy, model, status, self.filter_bar, self.results.legend, self)
        self.shortcuts_help = ShortcutsHelp(self, view)  # Help > Keyboard Shortcuts: the keys of all of the above

        self._action_specs = window_action_specs(self)
        own = make_actions(self._action_specs, self)
        self.results.detail_shown.connect(own["detail_pane"].setChecked)  # hidden or shown for room too
        parts = (self.review, self.labels_backup, self.samples, self.retrain, self.shortcuts_help)
        self.actions = joined_actions(own, *(part.actions for part in parts))
        recent = SubmenuSpec(
            "recent", "Open &Recent", lambda menu: fill_recent_menu(menu, self.settings, self.open_folder)
        )
        self.menus = install(self, self.actions, (recent,)).menus
        self.review.watch_menu(self.menus["edit"])
        # the actions that scripts and the hardening tests name
        self.open_action, self.open_model_action = own["open"], own["open_model"]
        self.predict_action, self.cancel_action, self.export_action = own["predict"], own["cancel"], own["export"]

    def _start_worker(self, device: str, batch_size: int | None, workers: int | None) -> None:
        """The predict worker on its thread, for the window's life; its runs go through ``run_controller``."""
        self._thread = QThread(self)
        self._thread.setObjectName("digitsum-predict")
        self.worker = PredictWorker(
            device=device, batch_size=batch_size, workers=workers, second_look=self.actions["second_look"].isChecked()
        )
        self.worker.moveToThread(self._thread)
        self._request_load.connect(self.worker.load_model)
        # Bound methods of this window: Qt queues them onto the GUI thread.
        self.worker.model_loaded.connect(self._on_model_loaded)
        self.worker.model_failed.connect(self._on_model_failed)
        self.worker.note.connect(self._on_worker_note)  # a bound method: queued to this (the GUI) thread
        self.run_controller = RunController(
            self.worker,
            self.table_model,
            self.status,
            self.state,
            self.actions["auto_predict"].isChecked,
            self.results.select_first_if_none,
            self.update_actions,
            self,
        )
        self.run_controller.finished.connect(self.run_finished)
        self._thread.start()

    def _first_model(self, model_path: str | Path | None) -> str | Path | None:
        """``model_path``, else the model remembered in the settings if it is still there (None:
        the bundled model)."""
        if model_path is None:
            remembered = self.settings.value("model_path", "", type=str)
            if remembered and not is_bundled_setting(remembered) and Path(remembered).is_file():
                model_path, self.state.model_from_settings = remembered, True
        return model_path

    def set_second_look(self, on: bool) -> None:
        """Model > Second Look at Doubtful Rows: remembered, and used from the next run on."""
        self.settings.setValue("second_look", on)
        self.worker.second_look = on  # a plain bool, read by the worker when a run starts

    def _restore_settings(self) -> None:
        s = self.settings
        if geometry := s.value("geometry"):
            self.restoreGeometry(geometry)
        else:  # as large as suits the table and the detail pane, but never past a laptop's screen
            screen = self.screen().availableGeometry()
            self.resize(min(1380, screen.width()), min(860, screen.height()))
        if state := s.value("window_state"):
            self.restoreState(state)
        self.results.restore_settings(s)
        self._fitted = False  # fit_screen runs once, when the frame's size is known (first show)

    def fit_screen(self) -> None:
        """Keep the whole window, title bar and status bar included, inside the screen's work
        area (the screen less its panels): a size remembered from a bigger screen, or the
        first launch's on a 1366x768 laptop, would put the status bar below the screen."""
        if self.isMaximized() or self.isFullScreen():
            return
        area, frame = self.screen().availableGeometry(), self.frameGeometry()
        extra_w, extra_h = frame.width() - self.width(), frame.height() - self.height()  # the frame's own
        width, height = min(self.width(), area.width() - extra_w), min(self.height(), area.height() - extra_h)
        if (width, height) != (self.width(), self.height()):
            self.resize(width, height)
        x = min(max(frame.x(), area.x()), area.x() + area.width() - (width + extra_w))
        y = min(max(frame.y(), area.y()), area.y() + area.height() - (height + extra_h))
        if (x, y) != (frame.x(), frame.y()):
            self.move(x, y)

    def _save_settings(self) -> None:
        s = self.settings
        s.setValue("geometry", self.saveGeometry())
        s.setValue("window_state", self.saveState())
        self.results.save_settings(s)
        s.sync()

    # --- public operations ---------------------------------------------------------------------
    @property
    def running(self) -> bool:
        """Whether a run goes on (``state.running``)."""
        return self.state.running

    @property
    def source(self) -> list[str]:
        """What the table shows results for (``state.source``)."""
        return self.state.source

    @source.setter
    def source(self, paths: list[str]) -> None:
        self.state.source = paths

    @property
    def summary(self) -> ModelSummary | None:
        """The model in use (``state.summary``)."""
        return self.state.summary

    @property
    def rows_model(self) -> Path | None:
        """The model file the table's rows were read with (``state.rows_model``)."""
        return self.state.rows_model

    def open_folder(self, folder: str | os.PathLike) -> bool:
        """Show ``folder``'s images; predict them at once unless 'auto_predict' is off.

        A folder that is not there (a recent one since moved or deleted) changes nothing on
        screen: the window says so once and drops it from File > Open Recent. Returns False then.
        The installed sample images open as their copy (``SampleImages``).
        """
        if is_installed_samples(folder):  # (`digitsum-gui resources/samples`): its copy, as Help > Sample Images
            return self.samples.open()
        folder = os.path.abspath(folder)  # remembered: a relative path breaks from anywhere else
        if not Path(folder).exists():
            forget_folder(self.settings, folder)
        else:
            remember_folder(self.settings, folder)
        return self.open_paths([folder])

    def open_paths(self, paths: list[str | os.PathLike]) -> bool:
        """Show results for folders, image files or .npy arrays (as ``digitsum predict`` takes them).

        Returns False, keeping the folder and rows shown, when one of ``paths`` does not exist.
        """
        missing = [str(p) for p in paths if not Path(p).exists()]
        if missing:
            still = f"\n\nStill showing {self.windowTitle().removesuffix(' - digitsum')}." if self.state.source else ""
            show_error(self, "Cannot open", f"Cannot open {missing[0]}: no such file or folder.{still}")
            return False
        self.run_controller.give_up()  # a run going on: its rows no longer belong in the table
        self.state.source = [str(p) for p in paths]
        self.results.set_empty(False)
        source = self.state.source
        shown = Path(source[0]).name + (f" and {len(source) - 1} more" if len(source) > 1 else "")
        self.setWindowTitle(f"{shown} - digitsum")
        self.table_model.clear()
        self.state.rows_model = None
        self.filter_bar.clear_filters()
        self.status.reset()
        self.opened.emit()
        if self.actions["auto_predict"].isChecked():
            self.predict()
        else:
            self.status.showMessage(f"Opened {shown}: press Predict (F5) to read the sums")
        self.update_actions()
        return True

    def predict(self) -> bool:
        """Run the model over the open inputs (a run going on is cancelled and this one follows).

        Returns False if nothing is open.
        """
        return self.run_controller.predict()

    def cancel(self) -> None:
        """Stop the current run after its current batch (rows so far stay)."""
        self.run_controller.cancel()

    def set_model(self, path: str | os.PathLike | None, rerun: bool = True) -> None:
        """Load another model (None: the bundled one) in the background; keep the current one on failure.

        A run in progress is cancelled first. The outcome arrives as ``model_changed`` or
        ``model_failed``; after a change the open folder is predicted again (with auto-predict
        on and ``rerun``; the model store asks the user first, so it passes False).
        """
        self.run_controller.model_loading(rerun)
        self.status.set_loading(Path(path).name if path else "the default model")
        self._request_load.emit(None if path is None else str(path))

    def export_csv(self, dest: str | os.PathLike, scope: str = "all", spreadsheet: bool = False) -> int | None:
        """``Exporter.export_rows``: the rows in ``scope`` to ``dest``; the number written, or None."""
        return self.exporter.export_rows(dest, scope, spreadsheet)

    def recent_folders(self) -> list[str]:
        """File > Open Recent's folders, the latest first."""
        return recent_folders(self.settings)

    def show_model_info(self) -> None:
        """Model > Model Info...: what the model in use records about itself."""
        MarkdownDialog("Model info", model_info_markdown(self.state.summary), self).show()

    def show_about(self) -> None:
        """Help > About digitsum."""
        MarkdownDialog("About digitsum", about_markdown(self.state.summary), self).show()

    def shutdown(self) -> None:
        """Stop any run and the worker thread, and wait for it (idempotent)."""
        self.table_model.stop_reading()
        if self._thread is None:
            return
        self.worker.shutdown()
        self.run_controller.stop()
        self._thread.quit()
        self._thread.wait()  # at most one batch or one model load: never leave it running
        self._thread = None

    # --- dialogs --------------------------------------------------------------------------------
    def ask_folder(self) -> None:
        """File > Open Folder...: ask for a folder and open it."""
        start = self.settings.value("last_folder", str(Path.home()), type=str)
        folder = QFileDialog.getExistingDirectory(self, "Open Folder", start)
        if folder:
            self.open_folder(folder)

    def ask_model(self) -> None:
        """File > Open Model...: ask for a model file and use it."""
        start = str(self.state.summary.path.parent) if self.state.summary else str(Path.home())
        path, _ = QFileDialog.getOpenFileName(self, "Open Model", start, "Models (*.safetensors);;All files (*)")
        if path:
            self.set_model(path)

    def ask_export(self) -> None:
        """File > Export CSV...: the export dialog (``export_dialog.ask_export``)."""
        ask_export(self.exporter, self.source, self.app_data)

    # --- worker results (GUI thread) ---------------------------------------------------------
    def _on_worker_note(self, text: str) -> None:
        self.status.showMessage(text, 15000)

    def _on_model_loaded(self, summary: ModelSummary) -> None:
        self._collector.settle()  # torch and the model are in memory now: see digitsum_gui/collector.py
        self.state.summary = summary
        # the bundled model by name: a later install elsewhere must load its own copy, not this one's
        bundled = same_file(summary.path, DEFAULT_MODEL)
        self.settings.setValue("model_path", BUNDLED_MODEL_SETTING if bundled else str(Path(summary.path).absolute()))
        self.status.set_model(summary)
        self.status.showMessage(f"Model {summary.name} loaded on {summary.device_name}", 5000)
        self.model_changed.emit(summary)
        self.run_controller.model_loaded()

    def _on_model_failed(self, reason: str, details: str) -> None:
        self.status.set_model(self.state.summary)
        if self.state.model_from_settings and self.state.summary is None:
            # the remembered model went bad since last time: fall back to the bundled one quietly
            self.state.model_from_settings = False
            self.set_model(None)
            return
        keep = f"\n\nStill using {self.state.summary.name}." if self.state.summary else ""
        show_error(self, "Model not loaded", reason + keep, details)
        self.model_failed.emit(reason)

    def update_actions(self, *_args: object) -> None:
        """Enable Predict, Cancel and Export as the state says (their specs' ``enabled_when``)."""
        update_enabled(self._action_specs, self.actions)

    # --- Qt events ------------------------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls() and all(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = [Path(u.toLocalFile()) for u in event.mimeData().urls()]
        if len(paths) == 1 and paths[0].suffix.lower() == ".safetensors":
            self.set_model(paths[0])
        elif len(paths) == 1 and paths[0].is_dir():
            self.open_folder(paths[0])
        elif paths:
            self.open_paths(paths)
        event.acceptProposedAction()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._fitted:
            self._fitted = True
            QTimer.singleShot(0, self.fit_screen)  # once the window system has framed it

    def closeEvent(self, event: QCloseEvent) -> None:
        self._save_settings()
        self.shutdown()
        super().closeEvent(event)
