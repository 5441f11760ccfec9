"""The models in the main window: Model > Retrain..., Model > Manage Models..., switching.

``RetrainController`` attaches to a ``MainWindow`` and adds, without the window knowing
the details:

- Model > Retrain... (``TrainDialog``, on the open folder's labels from the window's
  ``LabelsController``) and Model > Manage Models... (``ModelsDialog``) over one ``ModelStore``;
- switching models: only when the user agrees, and then an offer to predict the open
  folder again with the new model (not when the table's rows were read with it: switching
  back to the model they came from);
- the close guard: closing the window while a model trains asks first: stop and keep the
  best epoch (then the window closes), discard the run, or keep training
  (``digitsum_gui.retrain.closing``).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QEvent, QObject, Slot
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMessageBox

from core.models.store import same_file
from digitsum_gui.message_boxes import open_box
from digitsum_gui.model_store import ModelStore


class RetrainController(QObject):
    """Retraining and the model store for one ``MainWindow``.

    Parameters
    ----------
    window : MainWindow
    store : ModelStore
    """

    def __init__(self, window, store: ModelStore):
        super().__init__(window)
        self.window = window
        self.store = store
        self.train_dialog = None
        self.models_dialog = None
        self._offer_repredict_for: Path | None = None
        self._question = None

        self.retrain_action = QAction("&Retrain...", window)
        self.retrain_action.setStatusTip("Train a better model on your corrections, in the background")
        self.retrain_action.triggered.connect(self.show_retrain_dialog)
        self.manage_action = QAction("Manage &Models...", window)
        self.manage_action.setStatusTip("The models you trained: switch, show in the file manager, delete")
        self.manage_action.triggered.connect(self.show_models_dialog)
        menu, anchor = window.model_menu, window.model_info_action  # Retrain, Manage, ---, Model Info
        menu.insertActions(anchor, [self.retrain_action, self.manage_action])
        menu.insertSeparator(anchor)

        window.model_changed.connect(self._on_model_changed)
        window.installEventFilter(self)  # closing the window while a model trains asks first

    @property
    def training(self) -> bool:
        dialog = self.train_dialog
        return dialog is not None and dialog.run is not None and dialog.run.running

    def eventFilter(self, watched, event) -> bool:
        if watched is self.window and event.type() == QEvent.Type.Close and self.training:
            if not self.train_dialog.ask_before_closing(self.window, "A model is training", "Quit digitsum?"):
                if self.window in self.train_dialog.close_when_ended:
                    self.window.status.showMessage("Stopping the training run: digitsum quits once its best is saved")
                event.ignore()
                return True  # the window stays open (its closeEvent does not run)
        return super().eventFilter(watched, event)

    # --- dialogs -------------------------------------------------------------------------------
    def current_model(self):
        """The model in use as a ``core.models.store.StoredModel`` (None while none is loaded)."""
        from core.models.store import describe_model, is_in_store

        summary = self.window.summary
        if summary is None:
            return None
        return describe_model(summary.path, in_store=is_in_store(self.store.runs_dir, summary.path))

    @Slot()
    def show_retrain_dialog(self):
        """Open Model > Retrain... (the same dialog again while a run is going on)."""
        from digitsum_gui.retrain.dialog import TrainDialog  # imports torch (core.devices): not at start-up

        dialog = self.train_dialog
        if not self.training:
            if dialog is not None:
                dialog.deleteLater()
            labels = self.window.labels_controller.labels
            dialog = self.train_dialog = TrainDialog(
                self.store, self.current_model(), labels, self.window, settings=self.window.settings
            )
            dialog.model_switch_requested.connect(self.switch_model)
        dialog.show()
        dialog.raise_()
        dialog.activateWindow()
        return dialog

    @Slot()
    def show_models_dialog(self):
        """Open Model > Manage Models..."""
        from digitsum_gui.models_dialog import ModelsDialog

        if self.models_dialog is None:
            current = self.window.summary.path if self.window.summary is not None else None
            self.models_dialog = ModelsDialog(self.store, current, self.window)
            self.models_dialog.model_switch_requested.connect(self.switch_model)
        else:
            self.models_dialog.refresh()
        self.models_dialog.show()
        self.models_dialog.raise_()
        return self.models_dialog

    # --- switching -----------------------------------------------------------------------------
    @Slot(Path)
    def switch_model(self, path) -> None:
        """Load ``path``; once it is in use, offer to predict the open folder again."""
        self._offer_repredict_for = Path(path)
        self.window.set_model(path, rerun=False)

    def _on_model_changed(self, summary) -> None:
        if self.models_dialog is not None:
            self.models_dialog.set_current(summary.path)
        if self.train_dialog is not None and not self.training:
            self.train_dialog.set_current(self.current_model())
        wanted, self._offer_repredict_for = self._offer_repredict_for, None
        if (
            wanted is not None
            and same_file(summary.path, wanted)
            and self.window.source
            and not same_file(summary.path, self.window.rows_model)  # the rows are this model's already
        ):
            self.offer_repredict()

    def offer_repredict(self) -> None:
        """Ask (non-blocking) whether to predict the open folder again; ``repredict`` runs on Yes."""
        shown = Path(self.window.source[0]).name
        self._question = open_box(
            self.window,
            QMessageBox.Icon.Question,
            "Predict again?",
            f"Now using {self.window.summary.name}. Predict {shown} again with it?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            on_yes=self.repredict,
        )

    @Slot()
    def repredict(self) -> bool:
        return self.window.predict()
