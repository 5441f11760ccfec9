"""The corrections loop in the main window: true sums, Model > Retrain..., Model > Manage models.

``RetrainController`` attaches to a ``MainWindow`` and adds, without the window knowing
the details:

- the open folder's labels (``core.corrections.FolderLabels``) behind the table's
  editable "True sum" column, the accuracy on the labelled rows in the status bar, and the
  export's ``corrected_sum`` column;
- Model > Retrain... (``TrainDialog``) and Model > Manage Models... (``ModelsDialog``) over
  one ``ModelStore``;
- switching models: only when the user agrees, and then an offer to predict the open
  folder again with the new model.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Qt, Slot
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QLabel, QMessageBox

from digitsum_gui.corrections import TrueSumDelegate, accuracy_text, known_sum
from digitsum_gui.model_store import ModelStore
from digitsum_gui.table_model import Column

if TYPE_CHECKING:
    from core.corrections import FolderLabels


def _same(a, b) -> bool:
    return a is not None and b is not None and Path(a).resolve() == Path(b).resolve()


class RetrainController(QObject):
    """Corrections, retraining and the model store for one ``MainWindow``.

    Parameters
    ----------
    window : MainWindow
    store : ModelStore, optional
        Default: the per-user data folder (tests pass one in a temporary folder).
    """

    def __init__(self, window, store: ModelStore | None = None):
        super().__init__(window)
        self.window = window
        self.store = store if store is not None else ModelStore(parent=self)
        self.labels: FolderLabels | None = None
        self._labels_source: list[str] | None = None
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

        self.accuracy_label = QLabel()
        self._counted = self._right = self._known = 0  # rows counted so far, and their tally
        window.status.insertPermanentWidget(0, self.accuracy_label)
        window.table_view.setItemDelegateForColumn(Column.TRUE_SUM, TrueSumDelegate(Column.SUM, window.table_view))
        model = window.table_model
        model.modelReset.connect(self._sync_labels)
        model.rows_appended.connect(self._count_new_rows)
        model.labels_changed.connect(self._update_accuracy)
        model.labels_failed.connect(self._on_labels_failed)
        window.model_changed.connect(self._on_model_changed)
        window.installEventFilter(self)  # closing the window while a model trains asks first
        # the export's corrected_sum: the sum a person gave (labels.csv or typed), else empty
        window.export_columns["corrected_sum"] = lambda row: known_sum(self.labels, row)

    @property
    def training(self) -> bool:
        dialog = self.train_dialog
        return dialog is not None and dialog.run is not None and dialog.run.running

    def eventFilter(self, watched, event) -> bool:
        if watched is self.window and event.type() == QEvent.Type.Close and self.training:
            answer = QMessageBox.question(self.window, "A model is training",
                                          "Quit and cancel the training run? Its folder will be removed.")
            if answer != QMessageBox.StandardButton.Yes:
                event.ignore()
                return True  # the window stays open (its closeEvent does not run)
            self.train_dialog.run.cancel()
            self.train_dialog.run.process.waitForFinished(5000)
        return super().eventFilter(watched, event)

    # --- the open folder's labels ------------------------------------------------------------
    @Slot()
    def _sync_labels(self) -> None:
        """The open folder's labels, on every open and every run: read again when the folder
        is another or its labels files changed on disk (edits made outside the app or by
        another window show up), else kept."""
        from core.corrections import FolderLabels  # imports torch (core.data): not at start-up

        source = list(self.window.source)
        folder = Path(source[0]) if len(source) == 1 else None
        if source != self._labels_source or self.labels is None or not self.labels.is_current():
            # (opening a folder resets the table twice; 100,000 labels take ~0.2 s to read)
            self.labels = FolderLabels(folder, self.store.corrections_dir) if folder and folder.is_dir() else None
        self.window.table_model.set_labels(self.labels)
        if self.labels is not None and self.labels.problem and source != self._labels_source:
            self.window.status.showMessage(f"labels.csv not used ({self.labels.problem}); "
                                           f"corrections go to {self.labels.sidecar_path}", 10000)
        self._labels_source = source
        self._update_accuracy()

    @Slot()
    def _update_accuracy(self, *_args) -> None:
        """Count the accuracy on the labelled rows again from the first row."""
        self._counted = self._right = self._known = 0
        self._count_new_rows()

    @Slot()
    def _count_new_rows(self, *_args) -> None:
        # only the rows added since the last count: a run of 100,000 rows in 1,000 deliveries
        # would otherwise recount 50 million rows on the GUI thread
        rows = self.window.table_model.rows
        if self.labels is not None and self._counted < len(rows):
            right, known = self.labels.accuracy((r.file, r.predicted_sum) for r in rows[self._counted:])
            self._right, self._known = self._right + right, self._known + known
        self._counted = len(rows)
        self.accuracy_label.setText(accuracy_text(self.labels, self._right, self._known))
        if self.labels is not None:
            self.accuracy_label.setToolTip(f"Known sums are saved to {self.labels.saved_to}")

    def _on_labels_failed(self, message: str) -> None:
        self.window.status.showMessage(message, 10000)
        box = QMessageBox(QMessageBox.Icon.Warning, "Sum not saved", message,
                          QMessageBox.StandardButton.Ok, self.window)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self._question = box
        box.open()  # window-modal, not a nested event loop: the table keeps its state

    # --- dialogs -------------------------------------------------------------------------------
    def current_model(self):
        """The model in use as a ``core.store.StoredModel`` (None while none is loaded)."""
        from core.store import describe_model, is_in_store

        summary = self.window.summary
        if summary is None:
            return None
        return describe_model(summary.path, in_store=is_in_store(self.store.runs_dir, summary.path))

    @Slot()
    def show_retrain_dialog(self):
        """Open Model > Retrain... (the same dialog again while a run is going on)."""
        from digitsum_gui.train_dialog import TrainDialog  # imports torch via core.train: not at start-up

        dialog = self.train_dialog
        if not self.training:
            if dialog is not None:
                dialog.deleteLater()
            dialog = self.train_dialog = TrainDialog(self.store, self.current_model(), self.labels, self.window)
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
        if wanted is not None and _same(summary.path, wanted) and self.window.source:
            self.offer_repredict()

    def offer_repredict(self) -> None:
        """Ask (non-blocking) whether to predict the open folder again; ``repredict`` runs on Yes."""
        shown = Path(self.window.source[0]).name
        box = QMessageBox(QMessageBox.Icon.Question, "Predict again?",
                          f"Now using {self.window.summary.name}. Predict {shown} again with it?",
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, self.window)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.button(QMessageBox.StandardButton.Yes).clicked.connect(self.repredict)
        self._question = box
        box.open()

    @Slot()
    def repredict(self) -> bool:
        return self.window.predict()
