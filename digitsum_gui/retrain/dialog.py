"""Model > Retrain...: choose data and settings, watch the run, then decide on the new model.

The dialog is non-modal: the table stays usable while a model trains. It runs exactly the
``digitsum train`` command it shows (``core.train.command``) in a child process
(``TrainingRun``), writing to a fresh folder of the model store. The model in use is never
touched: when the run is done, the new model is offered with its validation accuracy beside
the current model's on the same validation images, and only ``accept_new_model`` (the
user's "Yes") asks the window to switch.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QSettings, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QCloseEvent, QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from core.durations import format_duration
from core.errors import reason
from core.models.store import next_run_folder, same_file
from core.train.command import (
    LONG_CPU_RUN_S,
    child_argv,
    display_command,
    estimate_cpu_seconds,
    train_args,
)
from core.train.events import DoneEvent, ProgressEvent
from digitsum_gui.message_boxes import open_box
from digitsum_gui.model_figures import interval_margin
from digitsum_gui.retrain import remembered
from digitsum_gui.retrain.closing import DISCARD, STOP_AND_KEEP, ask_how_to_close
from digitsum_gui.retrain.form import TrainForm
from digitsum_gui.retrain.process import TrainingRun
from digitsum_gui.retrain.progress import TrainingProgress, pct
from digitsum_gui.style import fixed_font

if TYPE_CHECKING:
    from core.labels.folder_labels import FolderLabels
    from core.models.store import StoredModel
    from digitsum_gui.model_store import ModelStore

# The child's error messages speak the command line's language; the dialog says it in its own.
DIALOG_WORDS = (
    ("give more labelled files or add synthetic:N data", "add labelled images or tick \u201cSynthetic images\u201d"),
    ("synthetic:N data", "synthetic images"),
    ("try a lower --lr", "try a lower learning rate"),
    ("lower --batch-size", "lower the batch size"),
)


def in_dialog_words(text: str) -> str:
    for said, meant in DIALOG_WORDS:
        text = text.replace(said, meant)
    return text


def _margin(accuracy: object, images: object) -> str:
    """`` (±3.7)``: the 95% interval of an accuracy on ``images`` images, in points."""
    if not isinstance(accuracy, (int, float)) or not isinstance(images, int) or images <= 0:
        return ""
    return f" (\u00b1{interval_margin(accuracy, images) * 100:.1f})"


class TrainDialog(QDialog):
    """The Retrain dialog.

    Parameters
    ----------
    store : digitsum_gui.model_store.ModelStore
    current : core.models.store.StoredModel or None
        The model in use: the fine-tuning start and the model compared against.
    folder_labels : core.labels.folder_labels.FolderLabels or None
    parent : QWidget, optional
    settings : QSettings, optional
        Where the form's choices are remembered from one opening to the next
        (``digitsum_gui.retrain.remembered``); None remembers nothing.

    Signals
    -------
    model_switch_requested(Path)
        The user agreed to use the new model.
    """

    model_switch_requested = Signal(Path)

    def __init__(
        self,
        store: ModelStore,
        current: StoredModel | None = None,
        folder_labels: FolderLabels | None = None,
        parent: QWidget | None = None,
        settings: QSettings | None = None,
    ):
        super().__init__(parent)
        self.setWindowTitle("Retrain model")
        self.setModal(False)
        self.store = store
        self.current = current
        self.run: TrainingRun | None = None
        self.run_dir: Path | None = None
        self.result: DoneEvent | None = None
        self.close_when_ended: list = []  # windows whose close waits for the run to stop and keep its best
        self._question = None  # an open question box (tests read it)

        self.settings = settings
        self._build_form(folder_labels)
        self._build_command()
        self._build_panel()
        self._build_buttons()
        self._lay_out()
        self._connect()
        self._set_running(False)
        self.use_button.setVisible(False)
        self.update_command()
        self._fit_screen()

    # --- building ------------------------------------------------------------------------------
    def _build_form(self, folder_labels: FolderLabels | None) -> None:
        """The choices, as they were last time where there are settings; from here on, every
        change is remembered."""
        self.form = TrainForm(self.current, folder_labels, self)
        if self.settings is not None:
            remembered.restore(self.form, self.settings)
            self.form.changed.connect(self._remember_choices)

    def _build_command(self) -> None:
        """The exact command the dialog runs, read-only, and a button to copy it."""
        self.command = QPlainTextEdit()
        self.command.setReadOnly(True)
        self.command.setFont(fixed_font())
        # five lines: a typical command with its absolute paths and run folder wraps to four or five
        self.command.setFixedHeight(self.command.fontMetrics().lineSpacing() * 5 + 12)
        self.command.setToolTip("The exact command this dialog runs; it works the same in a terminal")
        self.copy_button = QPushButton("Copy")
        self.copy_button.setToolTip("Copy the command: it runs the same training in a terminal")

    def _build_panel(self) -> None:
        """The run's progress: its status line, progress bar, chart, log and outcome."""
        self.panel = TrainingProgress()
        # short names for what tests and the rest of the dialog reach for
        self.status, self.progress, self.chart = self.panel.status, self.panel.progress, self.panel.chart
        self.log, self.log_toggle, self.outcome = self.panel.log, self.panel.log_toggle, self.panel.outcome

    def _build_buttons(self) -> None:
        """Start, Stop early, Cancel run, Use new model and Close."""
        self.start_button = QPushButton("Start training")
        self.start_button.setDefault(True)
        self.stop_button = QPushButton("Stop early")
        self.stop_button.setToolTip("Finish the current step and keep the best model so far")
        self.cancel_button = QPushButton("Cancel run")
        self.cancel_button.setToolTip("Stop now and delete this run's folder (asks first)")
        self.use_button = QPushButton("Use new model")
        self.close_button = QPushButton("Close")

    def _lay_out(self) -> None:
        """The choices, above the run's progress, get the height they ask for; they scroll only on
        a screen too short for them (a 768 px laptop at 1.5x). The chart shows once a run starts
        and then takes their room (a splitter): an empty chart is no use to anyone."""
        choices = self._choices()
        self.settings_area = QScrollArea()
        self.settings_area.setWidget(choices)
        self.settings_area.setWidgetResizable(True)
        self.settings_area.setFrameShape(QFrame.Shape.NoFrame)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(self.settings_area)
        self.splitter.addWidget(self.panel)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.splitter, 1)
        self.button_row = row = QHBoxLayout()
        for b in (self.start_button, self.stop_button, self.cancel_button, self.use_button):
            row.addWidget(b)
        row.addStretch(1)
        row.addWidget(self.close_button)
        layout.addLayout(row)

    def _choices(self) -> QWidget:
        """The form, and the command under it."""
        choices = QWidget()
        top = QVBoxLayout(choices)
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.form)
        row = QHBoxLayout()
        row.addWidget(QLabel("Command:"), 0, Qt.AlignmentFlag.AlignTop)
        row.addWidget(self.command, 1)
        row.addWidget(self.copy_button, 0, Qt.AlignmentFlag.AlignTop)
        top.addLayout(row)
        return choices

    def _connect(self) -> None:
        """Every edit of the form shows its command; the buttons do what they say."""
        self.form.changed.connect(self.update_command)
        self.copy_button.clicked.connect(self.copy_command)
        self.start_button.clicked.connect(self.start)
        self.stop_button.clicked.connect(self.stop_early)
        self.cancel_button.clicked.connect(self.cancel)
        self.use_button.clicked.connect(self.offer_new_model)
        self.close_button.clicked.connect(self.close)

    def _fit_screen(self) -> None:
        """As tall as the choices and the progress line under them need (the chart waits for a
        run), but never taller than the screen: there the choices scroll."""
        settings_height = self.settings_area.widget().sizeHint().height() + 4
        panel_height = self.panel.sizeHint().height()
        margins = self.layout().contentsMargins()
        around = (  # the dialog's own margins, the buttons' row, and the gaps between
            margins.top()
            + margins.bottom()
            + self.button_row.sizeHint().height()
            + self.layout().spacing()
            + self.splitter.handleWidth()
        )
        screen = (self.parentWidget() or self).screen().availableGeometry()
        height = min(settings_height + panel_height + around, screen.height() - 60)  # 60: the title bar, a margin
        self.resize(min(940, screen.width() - 20), height)
        room = height - around  # the splitter's, less its handle
        self.splitter.setSizes([room - panel_height, panel_height])

    def show_run(self) -> None:
        """A run starts: its chart shows and takes the room of the choices, all but the training
        data (the rest scrolls)."""
        self.panel.started()
        total, keep = sum(self.splitter.sizes()), self.form.data_box.sizeHint().height() + 8
        self.splitter.setSizes([min(self.splitter.sizes()[0], keep), max(total - keep, self.splitter.sizes()[1])])

    def set_current(self, current: StoredModel | None) -> None:
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
        self._set_running(self.run is not None and self.run.running)

    @Slot()
    def _remember_choices(self) -> None:
        remembered.save(self.form, self.settings)

    @Slot()
    def copy_command(self) -> None:
        QGuiApplication.clipboard().setText(self.command.toPlainText())

    # --- running ---------------------------------------------------------------------------------
    @Slot()
    def start(self, confirm_long_cpu_run: bool = True) -> bool:
        """Start the run shown; returns False when nothing was started."""
        if self.run is not None and self.run.running:
            return False
        opts = self.form.options()
        if problem := self.form.start_problem():  # it would fail at once: the note says why
            self.outcome.setText(problem)
            return False
        if opts.device == "cpu" and confirm_long_cpu_run:
            seconds = estimate_cpu_seconds(
                opts.arch, opts.head, self.form.train_image_count(), self.form.val_image_count(), opts.epochs or 1
            )
            if seconds > LONG_CPU_RUN_S:
                answer = QMessageBox.question(
                    self,
                    "Long run on the CPU",
                    f"This run may take about {format_duration(seconds)} on the CPU "
                    f"({opts.arch}, {self.form.train_image_count():,} images x {opts.epochs} epochs). Start it anyway?",
                )
                if answer != QMessageBox.StandardButton.Yes:
                    return False
        self.run_dir = self.store.reserve(opts.arch, opts.head)
        try:
            self.form.stage(self.run_dir / "data")
        except OSError as exc:
            where = exc.filename or self.run_dir
            self._show_failure(f"Cannot prepare the training data: {where}: {reason(exc)}")
            return False
        args = self.planned_args(self.run_dir)
        self.command.setPlainText(display_command(args))
        self.result = None
        self.use_button.setVisible(False)
        self.show_run()
        self.run = TrainingRun(child_argv(args), self.run_dir, self)
        self.run.event.connect(self._on_event)
        self.run.log.connect(self.panel.add_log)
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
            self.panel.stopping = True
            self.stop_button.setEnabled(False)
            self.status.setText("Stopping after this step; the best model so far is kept\u2026")

    @Slot()
    def cancel(self) -> None:
        """Ask (non-blocking; Enter keeps the run going) before ``discard_run`` deletes the run."""
        if self.run is None or not self.run.running:
            return
        box = self._question = open_box(
            self,
            QMessageBox.Icon.Warning,
            "Cancel the training run?",
            "Stop the training now and delete its folder, with every epoch trained so far?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            informative="Stop early instead ends it after this step and keeps the best model so far.",
            on_yes=self.discard_run,
            default=QMessageBox.StandardButton.No,
        )
        box.button(QMessageBox.StandardButton.Yes).setText("Discard Run")
        box.button(QMessageBox.StandardButton.No).setText("Keep Training")

    @Slot()
    def discard_run(self) -> None:
        """Kill the run now and delete its folder (the user said so)."""
        if self.run is not None and self.run.running:
            self.run.cancel()
            self.status.setText("Cancelling\u2026")

    def _set_running(self, running: bool) -> None:
        self.form.setEnabled(not running)
        problem = self.form.start_problem()
        self.start_button.setEnabled(not running and not problem)
        self.start_button.setToolTip(problem or "Train in the background; the model in use stays in use")
        self.stop_button.setEnabled(running)
        self.cancel_button.setEnabled(running)

    def _on_event(self, event: ProgressEvent) -> None:
        self.panel.add_event(event)

    # --- the end -------------------------------------------------------------------------------
    def _on_succeeded(self, done: DoneEvent) -> None:
        self._set_running(False)
        self.result = done
        self.store.notify_changed()
        metrics = done.get("metrics") or {}
        stopped = " (stopped early; the best epoch is kept)" if done.get("stopped_early") else ""
        self.panel.ended(f"Done{stopped}.", done=True)
        self.outcome.setText(self.comparison_text())
        self.use_button.setVisible(self.current is None or not same_file(done["model"], self.current.path))
        self.use_button.setEnabled(True)
        if self._close_waiting():
            return  # kept in Model > Manage Models; no question for a window on its way out
        if metrics:
            self.offer_new_model()

    def comparison_text(self) -> str:
        """New model vs the model in use, on the run's own validation images."""
        if self.result is None:
            return ""
        metrics = self.result.get("metrics") or {}
        images = metrics.get("val_images")
        on = f"{images:,} validation images" if isinstance(images, int) else "the validation images"
        accuracy = metrics.get("val_acc")
        text = (
            f"New model: validation accuracy {pct(accuracy)}{_margin(accuracy, images)} "
            f"(epoch {metrics.get('epoch')}, {on} of this run)."
        )
        if self.current is not None:
            compare = self.result.get("compare_val_acc")
            text += (
                f" Model in use ({self.current.label}): {pct(compare)}{_margin(compare, images)} on the same images."
            )
            verdict = self.verdict()
            if verdict is not None:
                difference = abs(accuracy - compare) * 100
                text += {
                    "better": f" The new model is better by {difference:.1f} points, beyond the \u00b1 margin.",
                    "worse": f" The new model is worse by {difference:.1f} points: keep the model in use.",
                    "same": " The difference is inside the \u00b1 margin: it may be chance.",
                }[verdict]
        return text

    def verdict(self) -> str | None:
        """``"better"``, ``"worse"`` or ``"same"``: the new model against the one in use, on the run's
        validation images, beyond the 95% margin of the figure in use or not; None where either is unknown."""
        metrics = (self.result or {}).get("metrics") or {}
        new, old, images = metrics.get("val_acc"), (self.result or {}).get("compare_val_acc"), metrics.get("val_images")
        if not all(isinstance(v, (int, float)) for v in (new, old)) or not isinstance(images, int) or images <= 0:
            return None
        if abs(new - old) <= interval_margin(old, images):
            return "same"
        return "better" if new > old else "worse"

    @Slot()
    def offer_new_model(self) -> None:
        """Ask whether to switch (non-blocking); ``accept_new_model`` runs on Yes."""
        self._question = open_box(
            self,
            QMessageBox.Icon.Question,
            "Use the new model?",
            self.comparison_text() + "\n\nSwitch to the new model?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            on_yes=self.accept_new_model,
            # Enter switches only to a model that is better beyond the margin
            default=QMessageBox.StandardButton.Yes if self.verdict() == "better" else QMessageBox.StandardButton.No,
        )

    @Slot()
    def accept_new_model(self) -> None:
        """Switch to the run's model (the user said yes)."""
        if self.result is None:
            return
        path = Path(self.result["model"])
        self.use_button.setVisible(False)
        self.outcome.setText(self.comparison_text() + " Switched to the new model.")
        self.model_switch_requested.emit(path)

    def _on_failed(self, reason: str, details: str) -> None:
        self._set_running(False)
        self.panel.ended("Training failed; the model in use is unchanged.")
        if not self._close_waiting():
            self._show_failure(reason, details)

    def _show_failure(self, reason: str, details: str = "") -> None:
        """Say it once: one box in the dialog's words (the child's output under Show Details),
        the log opened on what the child wrote (it is already there, not added again)."""
        self.outcome.setText("The model in use is unchanged. The log below has the training's own output.")
        if self.log.toPlainText().strip():
            self.log_toggle.setChecked(True)
        self._question = open_box(
            self,
            QMessageBox.Icon.Warning,
            "Training failed",
            in_dialog_words(reason),
            informative="The model in use is unchanged.",
            details=details.strip(),
        )

    def _on_cancelled(self) -> None:
        self._set_running(False)
        self.panel.ended("Cancelled; the run's folder was removed.")
        self._close_waiting()

    def _close_waiting(self) -> bool:
        """The run ended: close the windows that waited for it (``ask_before_closing``). Whether any did."""
        waiting, self.close_when_ended = self.close_when_ended, []
        for window in waiting:
            QTimer.singleShot(0, window.close)  # after this slot: the run is no longer running then
        return bool(waiting)

    def ask_before_closing(self, window: QWidget, title: str, what: str) -> bool:
        """The close guard of ``window`` (this dialog, or the main window): True when nothing is
        left running and it may close now (``digitsum_gui.retrain.closing``'s three answers).

        Stop and Keep Best Epoch returns False and closes ``window`` once the run has ended.
        """
        if self.run is None or not self.run.running:
            return True
        answer = ask_how_to_close(window, title, what)
        if answer == DISCARD:
            self.run.cancel_and_wait()
            return True
        if answer == STOP_AND_KEEP:
            self.stop_early()
            if window not in self.close_when_ended:
                self.close_when_ended.append(window)
        return False

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self.ask_before_closing(self, "Training is running", "Close the Retrain dialog?"):
            event.ignore()
            return
        super().closeEvent(event)
