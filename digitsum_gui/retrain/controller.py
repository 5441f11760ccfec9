"""The models in the main window: Model > Retrain..., Model > Manage Models..., switching.

``RetrainController`` works for a ``MainWindow`` and adds, without the window knowing
the details:

- Model > Retrain... (``TrainDialog``, on the open folder's labels from the window's
  ``LabelsController``) and Model > Manage Models... (``ModelsDialog``) over one ``ModelStore``;
- switching models: only when the user agrees, and then an offer to predict the open
  folder again with the new model (not when the table's rows were read with it: switching
  back to the model they came from);
- the close guard: closing the window while a model trains asks first: stop and keep the
  best epoch (then the window closes), discard the run, or keep training
  (``digitsum_gui.retrain.closing``).

The window hands it what it needs (its state, settings, status bar, the open folder's labels,
``set_model`` and ``predict``) and connects its ``model_changed`` to ``on_model_changed``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, QSettings, Slot
from PySide6.QtWidgets import QMessageBox, QStatusBar, QWidget

from core.models.store import same_file
from digitsum_gui.actions import ActionSpec, make_actions
from digitsum_gui.message_boxes import open_box
from digitsum_gui.model_store import ModelStore

if TYPE_CHECKING:
    from core.labels.folder_labels import FolderLabels
    from core.models.store import StoredModel
    from digitsum_gui.models_dialog import ModelsDialog
    from digitsum_gui.retrain.dialog import TrainDialog
    from digitsum_gui.window_state import WindowState
    from digitsum_gui.worker import ModelSummary


class RetrainController(QObject):
    """Retraining and the model store for one ``MainWindow``.

    Parameters
    ----------
    window : QWidget
        The main window: the dialogs open over it, and closing it while a model trains asks first.
    store : ModelStore
    state : WindowState
        The model in use, what is open and which model read the table's rows.
    settings : QSettings
        Where the Retrain form remembers its choices.
    status : QStatusBar
    labels : callable
        The open folder's labels now (``LabelsController.labels``), or None.
    set_model : callable
        ``MainWindow.set_model(path, rerun=...)``.
    predict : callable
        ``MainWindow.predict()``: predict the open folder again.

    Attributes
    ----------
    action_specs, actions
        Model > Retrain... (``retrain``) and Model > Manage Models... (``manage_models``).
    """

    def __init__(
        self,
        window: QWidget,
        store: ModelStore,
        state: WindowState,
        settings: QSettings,
        status: QStatusBar,
        labels: Callable[[], FolderLabels | None],
        set_model: Callable[..., None],
        predict: Callable[[], bool],
    ):
        super().__init__(window)
        self.window, self.store, self.state, self.settings, self.status = window, store, state, settings, status
        self._labels, self._set_model, self._predict = labels, set_model, predict
        self.train_dialog: TrainDialog | None = None
        self.models_dialog: ModelsDialog | None = None
        self._offer_repredict_for: Path | None = None
        self._question = None

        self.action_specs = [
            ActionSpec(
                "retrain",
                "&Retrain...",
                self.show_retrain_dialog,
                tip="Train a better model on your corrections, in the background",
            ),
            ActionSpec(
                "manage_models",
                "Manage &Models...",
                self.show_models_dialog,
                tip="The models you trained: switch, show in the file manager, delete",
            ),
        ]
        self.actions = make_actions(self.action_specs, window)
        self.retrain_action, self.manage_action = self.actions["retrain"], self.actions["manage_models"]
        window.installEventFilter(self)  # closing the window while a model trains asks first

    @property
    def training(self) -> bool:
        dialog = self.train_dialog
        return dialog is not None and dialog.run is not None and dialog.run.running

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.window and event.type() == QEvent.Type.Close and self.training:
            if not self.train_dialog.ask_before_closing(self.window, "A model is training", "Quit digitsum?"):
                if self.window in self.train_dialog.close_when_ended:
                    self.status.showMessage("Stopping the training run: digitsum quits once its best is saved")
                event.ignore()
                return True  # the window stays open (its closeEvent does not run)
        return super().eventFilter(watched, event)

    # --- dialogs -------------------------------------------------------------------------------
    def current_model(self) -> StoredModel | None:
        """The model in use as a ``core.models.store.StoredModel`` (None while none is loaded)."""
        from core.models.store import describe_model, is_in_store

        summary = self.state.summary
        if summary is None:
            return None
        return describe_model(summary.path, in_store=is_in_store(self.store.runs_dir, summary.path))

    @Slot()
    def show_retrain_dialog(self) -> TrainDialog:
        """Open Model > Retrain... (the same dialog again while a run is going on)."""
        from digitsum_gui.retrain.dialog import TrainDialog  # imports torch (core.devices): not at start-up

        dialog = self.train_dialog
        if not self.training:
            if dialog is not None:
                dialog.deleteLater()
            dialog = self.train_dialog = TrainDialog(
                self.store, self.current_model(), self._labels(), self.window, settings=self.settings
            )
            dialog.model_switch_requested.connect(self.switch_model)
        dialog.show()
        dialog.raise_()
        dialog.activateWindow()
        return dialog

    @Slot()
    def show_models_dialog(self) -> ModelsDialog:
        """Open Model > Manage Models..."""
        from digitsum_gui.models_dialog import ModelsDialog

        if self.models_dialog is None:
            current = self.state.summary.path if self.state.summary is not None else None
            self.models_dialog = ModelsDialog(self.store, current, self.window)
            self.models_dialog.model_switch_requested.connect(self.switch_model)
        else:
            self.models_dialog.refresh()
        self.models_dialog.show()
        self.models_dialog.raise_()
        return self.models_dialog

    # --- switching -----------------------------------------------------------------------------
    @Slot(Path)
    def switch_model(self, path: str | Path) -> None:
        """Load ``path``; once it is in use, offer to predict the open folder again."""
        self._offer_repredict_for = Path(path)
        self._set_model(path, rerun=False)

    def on_model_changed(self, summary: ModelSummary) -> None:
        """A model is in use: the dialogs show it; the one ``switch_model`` asked for offers to predict again."""
        if self.models_dialog is not None:
            self.models_dialog.set_current(summary.path)
        if self.train_dialog is not None and not self.training:
            self.train_dialog.set_current(self.current_model())
        wanted, self._offer_repredict_for = self._offer_repredict_for, None
        if (
            wanted is not None
            and same_file(summary.path, wanted)
            and self.state.source
            and not same_file(summary.path, self.state.rows_model)  # the rows are this model's already
        ):
            self.offer_repredict()

    def offer_repredict(self) -> None:
        """Ask (non-blocking) whether to predict the open folder again; ``repredict`` runs on Yes."""
        shown = Path(self.state.source[0]).name
        self._question = open_box(
            self.window,
            QMessageBox.Icon.Question,
            "Predict again?",
            f"Now using {self.state.summary.name}. Predict {shown} again with it?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            on_yes=self.repredict,
        )

    @Slot()
    def repredict(self) -> bool:
        """Predict the open folder again (Yes to ``offer_repredict``)."""
        return self._predict()
