"""Model > Retrain...: choose data and settings, watch the run, then decide on the new model.

The dialog is non-modal: the table stays usable while a model trains. It runs exactly the
``digitsum train`` command it shows (``core.retrain``) in a child process
(``TrainingRun``), writing to a fresh folder of the model store. The model in use is never
touched: when the run is done, the new model is offered with its validation accuracy beside
the current model's on the same validation images, and only ``accept_new_model`` (the
user's "Yes") asks the window to switch.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QFontDatabase, QGuiApplication, QTextCursor
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
)

from core.retrain import (
    LONG_CPU_RUN_S,
    child_argv,
    display_command,
    estimate_cpu_seconds,
    format_duration,
    train_args,
)
from core.store import next_run_folder
from digitsum_gui.train_chart import TrainingChart
from digitsum_gui.train_form import TrainForm
from digitsum_gui.train_process import TrainingRun


def _pct(value) -> str:
    return f"{value:.1%}" if isinstance(value, (int, float)) else "not known"


class TrainDialog(QDialog):
    """The Retrain dialog.

    Parameters
    ----------
    store : digitsum_gui.model_store.ModelStore
    current : core.store.StoredModel or None
        The model in use: the fine-tuning start and the model compared against.
    folder_labels : core.corrections.FolderLabels or None
    parent : QWidget, optional

    Signals
    -------
    model_switch_requested(Path)
        The user agreed to use the new model.
    """

    model_switch_requested = Signal(Path)

    def __init__(self, store, current=None, folder_labels=None, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Retrain model")
        self.setModal(False)
        self.store = store
        self.current = current
        self.run: TrainingRun | None = None
        self.run_dir: Path | None = None
        self.result: dict | None = None
        self.events: list[dict] = []

        self.form = TrainForm(current, folder_labels, self)
        self.command = QPlainTextEdit()
        self.command.setReadOnly(True)
        self.command.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        # five lines: a typical command with its absolute paths and run folder wraps to four or five
        self.command.setFixedHeight(self.command.fontMetrics().lineSpacing() * 5 + 12)
        self.command.setToolTip("The exact command this dialog runs; it works the same in a terminal")
        self.copy_button = QPushButton("Copy")
        self.copy_button.setToolTip("Copy the command: it runs the same training in a terminal")
        self.status = QLabel("Not started.")
        self.progress = QProgressBar()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.chart = TrainingChart()
        self.chart.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.log_toggle = QToolButton()
        self.log_toggle.setText("Log")
        self.log_toggle.setCheckable(True)
        self.log_toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.log_toggle.setArrowType(Qt.ArrowType.RightArrow)
        self.log = QPlainTextEdit()
        self.log.setReadOnly(True)
        self.log.setMaximumBlockCount(2000)
        self.log.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.log.setVisible(False)
        self.log.setMaximumHeight(140)
        self.outcome = QLabel()
        self.outcome.setWordWrap(True)
        self.outcome.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.start_button = QPushButton("Start training")
        self.start_button.setDefault(True)
        self.stop_button = QPushButton("Stop early")
        self.stop_button.setToolTip("Finish the current step and keep the best model so far")
        self.cancel_button = QPushButton("Cancel run")
        self.cancel_button.setToolTip("Stop now and delete this run's folder")
        self.use_button = QPushButton("Use new model")
        self.close_button = QPushButton("Close")

        layout = QVBoxLayout(self)
        layout.addWidget(self.form)
        row = QHBoxLayout()
        row.addWidget(QLabel("Command:"), 0, Qt.AlignmentFlag.AlignTop)
        row.addWidget(self.command, 1)
        row.addWidget(self.copy_button, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(row)
        row = QHBoxLayout()
        row.addWidget(self.status, 1)
        row.addWidget(self.progress, 1)
        layout.addLayout(row)
        layout.addWidget(self.chart, 1)
        layout.addWidget(self.log_toggle)
        layout.addWidget(self.log)
        layout.addWidget(self.outcome)
        row = QHBoxLayout()
        for b in (self.start_button, self.stop_button, self.cancel_button, self.use_button):
            row.addWidget(b)
        row.addStretch(1)
        row.addWidget(self.close_button)
        layout.addLayout(row)

        self.form.changed.connect(self.update_command)
        self.copy_button.clicked.connect(self.copy_command)
        self.log_toggle.toggled.connect(self._toggle_log)
        self.start_button.clicked.connect(self.start)
        self.stop_button.clicked.connect(self.stop_early)
        self.cancel_button.clicked.connect(self.cancel)
        self.use_button.clicked.connect(self.offer_new_model)
        self.close_button.clicked.connect(self.close)
        self._set_running(False)
        self.use_button.setVisible(False)
        self.update_command()
        self.resize(940, 890)

    def set_current(self, current) -> None:
        """The model in use changed: the next run fine-tunes and is compared against ``current``."""
        self.current = current
        self.form.set_current(current)
        self.update_command()

    # --- the command ---------------------------------------------------------------------------
    def planned_args(self, run_dir: Path | None = None) -> list[str]:
        """The flags of the run that Start would launch (into ``run_dir``, or the next free name)."""
        opts = self.form.options()
        run_dir = run_dir or next_run_folder(self.store.runs_dir, opts.arch, opts.head)
        opts = self.form.options(stage_dir=run_dir / "data")
        opts.out = str(run_dir)
        opts.compare = str(self.current.path) if self.current is not None else None
        return train_args(opts)

    @Slot()
    def update_command(self) -> None:
        if self.run is None or not self.run.running:
            self.command.setPlainText(display_command(self.planned_args()))
        self.start_button.setEnabled((self.run is None or not self.run.running) and bool(self.form.data_specs()))

    @Slot()
    def copy_command(self) -> None:
        QGuiApplication.clipboard().setText(self.command.toPlainText())

    def _toggle_log(self, shown: bool) -> None:
        self.log.setVisible(shown)
        self.log_toggle.setArrowType(Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow)

    # --- running ---------------------------------------------------------------------------------
    @Slot()
    def start(self, confirm_long_cpu_run: bool = True) -> bool:
        """Start the run shown; returns False when nothing was started."""
        if self.run is not None and self.run.running:
            return False
        opts = self.form.options()
        if not opts.data:
            self.outcome.setText("Choose some training data first.")
            return False
        if opts.device == "cpu" and confirm_long_cpu_run:
            seconds = estimate_cpu_seconds(opts.arch, self.form.train_image_count(), self.form.val_image_count(),
                                           opts.epochs or 1)
            if seconds > LONG_CPU_RUN_S:
                answer = QMessageBox.question(
                    self, "Long run on the CPU",
                    f"This run may take about {format_duration(seconds)} on the CPU "
                    f"({opts.arch}, {self.form.train_image_count():,} images x {opts.epochs} epochs). Start it anyway?")
                if answer != QMessageBox.StandardButton.Yes:
                    return False
        self.run_dir = self.store.reserve(opts.arch, opts.head)
        try:
            self.form.stage(self.run_dir / "data")
        except OSError as exc:
            self._show_failure(f"Cannot prepare the training data: {exc}")
            return False
        args = self.planned_args(self.run_dir)
        self.command.setPlainText(display_command(args))
        self.result = None
        self.events = []
        self.log.clear()
        self.outcome.clear()
        self.use_button.setVisible(False)
        self.chart.reset()
        self.progress.setRange(0, 0)  # busy until the start event says how many steps
        self.status.setText("Starting: reading the data and scoring the model in use\u2026")
        self.run = TrainingRun(child_argv(args), self.run_dir, self)
        self.run.event.connect(self._on_event)
        self.run.log.connect(self._on_log)
        self.run.succeeded.connect(self._on_succeeded)
        self.run.failed.connect(self._on_failed)
        self.run.cancelled.connect(self._on_cancelled)
        self._set_running(True)
        self.run.start()
        return True

    @Slot()
    def stop_early(self) -> None:
        if self.run is not None and self.run.running:
            self.run.stop_early()
            self.stop_button.setEnabled(False)
            self.status.setText("Stopping after this step; the best model so far is kept\u2026")

    @Slot()
    def cancel(self) -> None:
        if self.run is not None and self.run.running:
            self.run.cancel()
            self.status.setText("Cancelling\u2026")

    def _set_running(self, running: bool) -> None:
        self.form.setEnabled(not running)
        self.start_button.setEnabled(not running and bool(self.form.data_specs()))
        self.stop_button.setEnabled(running)
        self.cancel_button.setEnabled(running)

    def _on_log(self, text: str) -> None:
        self.log.moveCursor(QTextCursor.MoveOperation.End)
        self.log.insertPlainText(text)

    def _on_event(self, event: dict) -> None:
        self.events.append(event)
        self.chart.add_event(event)
        kind = event.get("event")
        if kind == "start":
            self.progress.setRange(0, max(1, int(event.get("total_steps", 1))))
            self.progress.setValue(int(event.get("start_epoch", 0)) * int(event.get("steps_per_epoch", 0)))
            self.status.setText(f"Epoch 1/{event.get('epochs')} on {event.get('device')}: "
                                f"{event.get('train_images')} images per epoch, "
                                f"{event.get('val_images')} for validation")
        elif kind in ("step", "epoch"):
            done = event.get("global_step", event.get("step", 0))
            self.progress.setValue(min(int(done), self.progress.maximum()))
            speed = event.get("images_per_s")
            epochs = event.get("epochs") or self._start_field("epochs")
            text = f"Epoch {event['epoch']}/{epochs}" + (" done" if kind == "epoch" else "")
            text += f" \u00b7 {speed:,.0f} images/s" if isinstance(speed, (int, float)) else ""
            text += f" \u00b7 ETA {format_duration(event.get('eta'))}"
            if kind == "epoch":
                text += (f" \u00b7 val accuracy {_pct(event.get('val_acc'))}"
                         f" (best {_pct(event.get('best_val_acc'))}, epoch {event.get('best_epoch')})")
            if self.run is not None and self.run.state == "stopping":
                text = "Stopping\u2026 " + text
            self.status.setText(text)

    def _start_field(self, key: str):
        for event in self.events:
            if event.get("event") == "start":
                return event.get(key)
        return None

    # --- the end -------------------------------------------------------------------------------
    def _on_succeeded(self, done: dict) -> None:
        self._set_running(False)
        self.result = done
        self.progress.setRange(0, 1)
        self.progress.setValue(1)
        self.store.notify_changed()
        metrics = done.get("metrics") or {}
        stopped = " (stopped early; the best epoch is kept)" if done.get("stopped_early") else ""
        self.status.setText(f"Done{stopped}.")
        self.outcome.setText(self.comparison_text())
        self.use_button.setVisible(self.current is None or Path(done["model"]) != Path(self.current.path))
        self.use_button.setEnabled(True)
        if metrics:
            self.offer_new_model()

    def comparison_text(self) -> str:
        """New model vs the model in use, on the run's own validation images."""
        if self.result is None:
            return ""
        metrics = self.result.get("metrics") or {}
        text = (f"New model: validation accuracy {_pct(metrics.get('val_acc'))} "
                f"(epoch {metrics.get('epoch')}, {metrics.get('val_images')} validation images).")
        if self.current is not None:
            text += (f" Model in use ({self.current.label}): "
                     f"{_pct(self.result.get('compare_val_acc'))} on the same images.")
        return text

    @Slot()
    def offer_new_model(self) -> None:
        """Ask whether to switch (non-blocking); ``accept_new_model`` runs on Yes."""
        box = QMessageBox(QMessageBox.Icon.Question, "Use the new model?",
                          self.comparison_text() + "\n\nSwitch to the new model?",
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, self)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.button(QMessageBox.StandardButton.Yes).clicked.connect(self.accept_new_model)
        self._question = box
        box.open()

    @Slot()
    def accept_new_model(self) -> None:
        """Switch to the run's model (the user said yes)."""
        if self.result is None:
            return
        path = Path(self.result["model"])
        self.use_button.setVisible(False)
        self.outcome.setText(self.comparison_text() + " Switched to the new model.")
        self.model_switch_requested.emit(path)

    def _on_failed(self, message: str) -> None:
        self._set_running(False)
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.status.setText("Training failed; the model in use is unchanged.")
        self._show_failure(message)

    def _show_failure(self, message: str) -> None:
        first, _, details = message.partition("\n")
        self.outcome.setText(f"<b>{_escape(first)}</b> The model in use is unchanged.")
        if details.strip():
            self.log_toggle.setChecked(True)
            self.log.appendPlainText(details.strip())
        box = QMessageBox(QMessageBox.Icon.Warning, "Training failed", first, QMessageBox.StandardButton.Ok, self)
        box.setInformativeText("The model in use is unchanged.")
        if details.strip():
            box.setDetailedText(details.strip())
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self._question = box
        box.open()

    def _on_cancelled(self) -> None:
        self._set_running(False)
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.status.setText("Cancelled; the run's folder was removed.")

    def closeEvent(self, event) -> None:
        if self.run is not None and self.run.running:
            answer = QMessageBox.question(self, "Training is running",
                                          "Cancel the training run? Its folder will be removed.")
            if answer != QMessageBox.StandardButton.Yes:
                event.ignore()
                return
            self.run.cancel()
            self.run.process.waitForFinished(5000)
        super().closeEvent(event)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
