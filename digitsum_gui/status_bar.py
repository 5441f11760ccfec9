"""The status bar: device, model and its accuracy, rows done / total, images/s and time left.

It must fit a 1250 px window without cutting a word: the progress bar and the speed show
only while a run goes on (afterwards the message on the left says how it ended), and the
model's name and figure are elided, never clipped, with everything in its tooltip.

The message on the left takes its room from the model's name: on a narrow window (a laptop
at 1.5x is 910 px wide) the name is elided further while a message shows, and a message
longer than all the room there is ends in "..." rather than being cut mid-letter by the
fields on its right. Those fields hold their width while their counts change
(``digitsum_gui.steady``): nothing jitters sideways as the rows come in.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QRect, QSize, Qt
from PySide6.QtGui import QPainter, QPaintEvent, QPalette, QResizeEvent
from PySide6.QtWidgets import QLabel, QProgressBar, QSizeGrip, QStatusBar, QStyle, QStyleOption, QWidget

from core.durations import format_duration
from digitsum_gui.steady import SteadyLabel

if TYPE_CHECKING:
    from digitsum_gui.worker import ModelSummary

MODEL_LABEL_MAX = 540  # px: a long run-folder name gives way to the message, not the other way round
MESSAGE_LEFT = 6  # px: where QStatusBar draws its message from ...
MESSAGE_GAP = 2  # ... and how far short of the first field on its right it stops
# the widest speed line: five-digit speeds, and the widest time left ("99 h 59 min", "59 min 59 s")
WIDEST_SPEEDS = tuple(f"{88_888:,} images/s, about {format_duration(s)} left" for s in (99 * 3600 + 59 * 60, 3599))


def plural(count: int, word: str, words: str | None = None) -> str:
    """``1 row``, ``1,004 rows``: the count with thousands separators and the right form."""
    return f"{count:,} {word if count == 1 else (words or word + 's')}"


class ElidedLabel(QLabel):
    """A one-line label that, when squeezed, ends in "..." instead of being cut mid-letter."""

    def minimumSizeHint(self) -> QSize:
        hint = super().minimumSizeHint()
        return QSize(min(hint.width(), self.fontMetrics().horizontalAdvance("Model: \u2026") + 8), hint.height())

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        rect = self.contentsRect()
        text = self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideRight, rect.width())
        self.style().drawItemText(
            painter,
            rect,
            int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
            self.palette(),
            self.isEnabled(),
            text,
            QPalette.ColorRole.WindowText,
        )


class RunStatusBar(QStatusBar):
    """Permanent labels on the right, transient messages (``showMessage``) on the left."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.device_label = QLabel("Device: ...")
        self.model_label = ElidedLabel("Model: loading...")
        self.model_label.setMaximumWidth(MODEL_LABEL_MAX)
        self.progress_bar = QProgressBar()
        self.progress_bar.setMinimumWidth(160)
        self.progress_bar.setMaximumWidth(240)
        self.progress_bar.setTextVisible(True)
        self.progress_bar.setRange(0, 1)
        self.progress_bar.setValue(0)
        self.speed_label = SteadyLabel()
        self.speed_label.hold_width_for("starting...", *WIDEST_SPEEDS)
        for widget in (self.progress_bar, self.speed_label, self.model_label, self.device_label):
            self.addPermanentWidget(widget)
        self._show_running(False)
        self.messageChanged.connect(self._make_room)

    # --- the message's room ----------------------------------------------------------------------
    def fields(self) -> list[QWidget]:
        """The visible fields on the right (every widget here is a permanent one), left to right."""
        children = self.findChildren(QWidget, options=Qt.FindChildOption.FindDirectChildrenOnly)
        shown = [w for w in children if w.isVisible() and not isinstance(w, QSizeGrip)]
        return sorted(shown, key=lambda w: w.x())

    def message_room(self) -> QRect:
        """Where the message is drawn: from the left to just short of the first field."""
        fields = self.fields()
        right = (fields[0].x() if fields else self.width()) - MESSAGE_GAP
        return QRect(MESSAGE_LEFT, 0, max(0, right - MESSAGE_LEFT), self.height())

    def _make_room(self, *_args) -> None:
        """Narrow the model's name (elided, whole in its tooltip) until the message fits, or
        widen it again (up to ``MODEL_LABEL_MAX``) once the message is shorter or gone."""
        label, message = self.model_label, self.currentMessage()
        if self.layout() is not None:
            self.layout().activate()  # measured where the fields are now, not before a field was hidden
        if not message:
            wanted = MODEL_LABEL_MAX
        else:
            needed = self.fontMetrics().horizontalAdvance(message)
            wanted = label.width() - (needed - self.message_room().width())
        # (the same maximum again changes nothing and asks for no new layout: this settles)
        label.setMaximumWidth(max(label.minimumSizeHint().width(), min(MODEL_LABEL_MAX, wanted)))

    def event(self, event: QEvent) -> bool:
        handled = super().event(event)
        if event.type() == QEvent.Type.LayoutRequest:  # a field changed its width: laid out again by now
            self._make_room()
        return handled

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._make_room()

    def paintEvent(self, event: QPaintEvent) -> None:
        """What ``QStatusBar`` paints, with the message elided to its room instead of cut off."""
        message = self.currentMessage()
        if not message:
            super().paintEvent(event)
            return
        painter = QPainter(self)
        option = QStyleOption()
        option.initFrom(self)
        self.style().drawPrimitive(QStyle.PrimitiveElement.PE_PanelStatusBar, option, painter, self)
        for field in self.fields():
            frame = QStyleOption()
            frame.rect = field.geometry().adjusted(-2, -1, 2, 1)
            frame.palette = self.palette()
            frame.state = QStyle.StateFlag.State_None
            self.style().drawPrimitive(QStyle.PrimitiveElement.PE_FrameStatusBarItem, frame, painter, field)
        room = self.message_room()
        painter.setPen(self.palette().color(QPalette.ColorRole.WindowText))
        painter.drawText(
            room,
            int(Qt.AlignmentFlag.AlignLeading | Qt.AlignmentFlag.AlignVCenter | Qt.TextFlag.TextSingleLine),
            self.fontMetrics().elidedText(message, Qt.TextElideMode.ElideRight, room.width()),
        )

    def _show_running(self, running: bool) -> None:
        self.progress_bar.setVisible(running)
        self.speed_label.setVisible(running)
        if not running:
            self.speed_label.clear()  # a finished run has no rate or ETA to show

    def set_loading(self, path_text: str) -> None:
        self.model_label.setText(f"Model: loading {path_text}...")

    def set_model(self, summary: ModelSummary | None) -> None:
        """Show a ``worker.ModelSummary`` (or None: no model)."""
        if summary is None:
            self.model_label.setText("Model: none")
            self.model_label.setToolTip("")
            return
        accuracy = summary.accuracy_text
        self.model_label.setText(f"Model: {summary.name}" + (f" \u00b7 {accuracy}" if accuracy else ""))
        self.model_label.setToolTip(
            f"{summary.name}: {summary.arch} / {summary.head} head\n{summary.path}\n\n{summary.accuracy_tooltip}"
        )
        self.device_label.setText(f"Device: {summary.device_name}")

    def _set_count(self, done: int, total: int) -> None:
        self.progress_bar.setRange(0, max(total, 1))
        self.progress_bar.setValue(done)
        # Qt's %v / %m would print 1004 beside the message's 1,004
        self.progress_bar.setFormat(f"{done:,} / {plural(total, 'row')}")

    def run_started(self, total: int) -> None:
        self._set_count(0, total)
        self._show_running(True)
        self.speed_label.setText("starting...")
        self.clearMessage()  # the bar says what is going on; the space is the labels' now

    def run_progress(self, done: int, total: int, images_per_s: float, eta: float) -> None:
        self._set_count(done, total)
        left = f", about {format_duration(eta)} left" if eta >= 0 and done < total else ""
        self.speed_label.setText(f"{images_per_s:,.0f} images/s{left}")

    def run_finished(self, message: str) -> None:
        """Say how the run ended on the left; the bar and the rate go (the message has the count)."""
        self._show_running(False)
        self.showMessage(message)

    def reset(self) -> None:
        """Nothing has run yet (a folder was opened without predicting, or could not be read)."""
        self._show_running(False)
