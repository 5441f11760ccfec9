"""The lower half of the Retrain dialog: how the run is going, its live chart, its log, the outcome.

``TrainingProgress`` shows the child's progress events (``add_event``); the speed and the
time left come from ``TrainingClock`` (measured here, from when each step was reported) and
the status line is redrawn every second while a run goes on, so it never sits on a stale
"ETA 1 s" while a slow step is under way.

The Log panel gets a line per event as it arrives (``log_line``: the start, a step every
``STEP_LOG_EVERY_S`` seconds, each epoch, the end) between what the child writes to stderr:
with ``--progress json`` the child's stdout is all JSON, so a healthy run wrote nothing there.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from core.durations import format_duration
from core.train.events import EpochEvent, ProgressEvent, StepEvent
from digitsum_gui.paths import home_relative
from digitsum_gui.retrain.chart import TrainingChart
from digitsum_gui.retrain.eta import TrainingClock
from digitsum_gui.status_bar import plural
from digitsum_gui.style import fixed_font

STEP_LOG_EVERY_S = 10.0  # a step line every few seconds: an hour's run stays within the log's 2,000 lines


def pct(value: float | None) -> str:
    """``value`` as a percentage with one decimal, or "not known"."""
    return f"{value:.1%}" if isinstance(value, (int, float)) else "not known"


def _number(value: object, spec: str) -> str:
    return format(value, spec) if isinstance(value, (int, float)) else "?"


def log_line(event: ProgressEvent, epochs: int | None = None, steps_per_epoch: int | None = None) -> str:
    """One line of the Log panel for a progress event ("" for none: an error event's message
    is in the log already, from the child's stderr). ``epochs`` and ``steps_per_epoch`` come
    from the run's start event (a step event does not repeat them)."""
    kind = event.get("event")
    if kind == "start":
        resumed = f", resumed after epoch {event['start_epoch']}" if event.get("start_epoch") else ""
        return (
            f"Start: {event.get('arch')}/{event.get('head')} on {event.get('device')}, "
            f"{plural(event.get('epochs') or 0, 'epoch')} of {_number(event.get('train_images'), ',')} images, "
            f"{_number(event.get('val_images'), ',')} to validate on{resumed}"
        )
    if kind == "step":
        of = f"/{steps_per_epoch}" if steps_per_epoch else ""
        return (
            f"Epoch {event.get('epoch')}/{epochs or '?'} step {event.get('step')}{of}: "
            f"loss {_number(event.get('loss'), '.4g')}, lr {_number(event.get('lr'), '.3g')}, "
            f"{_number(event.get('images_per_s'), ',.0f')} images/s"
        )
    if kind == "epoch":
        count = event.get("val_images")
        return (
            f"Epoch {event.get('epoch')}/{event.get('epochs') or epochs or '?'} done: "
            f"train loss {_number(event.get('train_loss'), '.4g')}, val loss {_number(event.get('val_loss'), '.4g')}, "
            f"val accuracy {pct(event.get('val_acc'))}"
            + (f" of {count:,}" if isinstance(count, int) else "")
            + f" (best {pct(event.get('best_val_acc'))}, epoch {event.get('best_epoch')})"
        )
    if kind == "done":
        metrics = event.get("metrics") or {}
        stopped = ", stopped early" if event.get("stopped_early") else ""
        model = home_relative(event["model"]) if event.get("model") else "?"
        best = f"best epoch {metrics.get('epoch')}, val accuracy {pct(metrics.get('val_acc'))}"
        return f"Done{stopped}: {best}; model {model}"
    return ""


class TrainingProgress(QWidget):
    """Status line, progress bar, chart, log and outcome of one run at a time."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.status = QLabel("Not started.")
        self.status.setWordWrap(True)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.chart = TrainingChart()
        self.chart.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.chart.setMinimumHeight(200)
        self.chart.setVisible(False)  # until a run starts: the dialog's choices get its room
        self.log_toggle = QToolButton()
        self.log_toggle.setText("Log")
        self.log_toggle.setToolTip("What the training process writes: warnings and errors in its own words")
        self.log_toggle.setCheckable(True)
        self.log_toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.log_toggle.setArrowType(Qt.ArrowType.RightArrow)
        self.log = QPlainTextEdit()
        self.log.setReadOnly(True)
        self.log.setMaximumBlockCount(2000)
        self.log.setFont(fixed_font())
        self.log.setVisible(False)
        self.log.setMaximumHeight(140)
        self.outcome = QLabel()
        self.outcome.setWordWrap(True)
        self.outcome.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        row.addWidget(self.status, 1)
        row.addWidget(self.progress, 1)
        layout.addLayout(row)
        layout.addWidget(self.chart, 1)
        layout.addWidget(self.log_toggle)
        layout.addWidget(self.log)
        layout.addWidget(self.outcome)
        self.log_toggle.toggled.connect(self._toggle_log)

        self.clock = TrainingClock()
        self.stopping = False  # the user asked the run to stop early
        self._last: StepEvent | EpochEvent | None = None  # the last step or epoch event
        self._epochs = self._steps_per_epoch = None
        self._step_logged: float | None = None  # when a step line was last logged (the clock's time)
        self._tick = QTimer(self, interval=1000)
        self._tick.timeout.connect(self.refresh)

    def _toggle_log(self, shown: bool) -> None:
        self.log.setVisible(shown)
        self.log_toggle.setArrowType(Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow)

    def add_log(self, text: str) -> None:
        """Text the child wrote, as it came (a line may arrive in pieces); the view follows the
        end unless the user scrolled up to read."""
        bar = self.log.verticalScrollBar()
        at_end = bar.value() == bar.maximum()
        cursor = self.log.textCursor()
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.insertText(text)
        if at_end:
            bar.setValue(bar.maximum())

    def _log_event(self, event: ProgressEvent) -> None:
        if event.get("event") == "step":
            now = self.clock.now()
            if self._step_logged is not None and now - self._step_logged < STEP_LOG_EVERY_S:
                return
            self._step_logged = now
        line = log_line(event, self._epochs, self._steps_per_epoch)
        if line:
            # on a line of its own, even after a piece of stderr that has not ended its line yet
            ends_line = not self.log.document().lastBlock().text()
            self.add_log(("" if ends_line else "\n") + line + "\n")

    def started(self) -> None:
        """A run is starting: clear what the last one showed."""
        self.clock.reset()
        self.stopping = False
        self._last = self._epochs = self._steps_per_epoch = self._step_logged = None
        self.log.clear()
        self.outcome.clear()
        self.chart.reset()
        self.chart.setVisible(True)
        self.progress.setRange(0, 0)  # busy until the start event says how many steps
        self.status.setText("Starting: reading the data and scoring the model in use\u2026")
        self._tick.start()

    def ended(self, status: str, done: bool = False) -> None:
        """The run is over (succeeded, failed or cancelled): a full bar only when it made a model."""
        self._tick.stop()
        self.progress.setRange(0, 1)
        self.progress.setValue(1 if done else 0)
        self.status.setText(status)

    def add_event(self, event: ProgressEvent) -> None:
        self.chart.add_event(event)
        self.clock.add(event)
        kind = event.get("event")
        if kind == "start":
            self._epochs, self._steps_per_epoch = event.get("epochs"), event.get("steps_per_epoch")
        self._log_event(event)
        if kind == "start":
            self.progress.setRange(0, max(1, int(event.get("total_steps", 1))))
            self.progress.setValue(int(event.get("start_epoch", 0)) * int(event.get("steps_per_epoch", 0)))
            self.status.setText(
                f"Epoch 1/{self._epochs} on {event.get('device')}: "
                f"{event.get('train_images'):,} images per epoch, "
                f"{event.get('val_images'):,} for validation"
            )
        elif kind in ("step", "epoch"):
            done = event.get("global_step", event.get("step", 0))
            self.progress.setValue(min(int(done), self.progress.maximum()))
            self._last = event
            self.refresh()

    def refresh(self) -> None:
        """Redraw the status line from the last event and the clock (every second while running)."""
        event = self._last
        if event is None:
            return
        kind = event.get("event")
        text = f"Epoch {event['epoch']}/{event.get('epochs') or self._epochs}" + (" done" if kind == "epoch" else "")
        speed = self.clock.images_per_s()
        text += f" \u00b7 {speed:,.0f} images/s" if speed is not None else " \u00b7 measuring the speed\u2026"
        left = self.clock.seconds_left()
        if left:  # (0: every step is done and the epoch's validation runs)
            text += f" \u00b7 about {format_duration(left)} left"
        if kind == "epoch":
            count = event.get("val_images")
            text += (
                f" \u00b7 val accuracy {pct(event.get('val_acc'))}"
                + (f" of {count:,}" if count else "")
                + f" (best {pct(event.get('best_val_acc'))}, epoch {event.get('best_epoch')})"
            )
        self.status.setText(("Stopping\u2026 " if self.stopping else "") + text)
