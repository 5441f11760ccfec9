"""The selected row, up close: a loupe on its image, the digits read, the likeliest sums.

The loupe opens on the 40x168 image at ``LOUPE_ZOOM`` (3x), smoothly scaled: a stroke reads as
a stroke, not a staircase, and the table's thumbnail beside it keeps the pixels at 1x. Its
window has a fixed size, the whole image at 3x; Ctrl+wheel over it, or its - and + buttons,
zoom from ``MIN_ZOOM`` to ``MAX_ZOOM`` inside that window (scroll bars pan a zoomed image), and
the zoom stays from row to row. The pane's width is the loupe's and never the text's or the
zoom's: a long file name is shortened in the middle, other texts wrap under the image, so
moving from row to row, or zooming, never reflows the table.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QFont, QPixmap
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from core.predict.spreadsheet import format_probability
from core.spec import DOUBTFUL_BELOW, IMAGE_HEIGHT, IMAGE_WIDTH, NUM_DIGITS
from digitsum_gui.doubtful import is_doubtful
from digitsum_gui.style import bold, problem_style, scaled

if TYPE_CHECKING:
    from core.predict.rows import PredictionRow

LOUPE_ZOOM = 3  # the zoom the loupe opens at, and the size of its window
MIN_ZOOM, MAX_ZOOM = 1, 8  # 1x: the pixels as the model sees them; 8x: one stroke fills the window
LOUPE_FRAME = 8  # the loupe's frame and a little air around the image


class DetailPane(QWidget):
    """Shows one PredictionRow and its image; ``show_row(None, None)`` empties it."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._pixmap: QPixmap | None = None
        self._reading = False  # the image of the row shown is still being read
        # the table's threshold (ResultsView keeps it so): the sum's "(doubtful)" and the red digits
        self.doubtful_below = DOUBTFUL_BELOW
        self.zoom = LOUPE_ZOOM
        self._build_loupe()
        self._build_title_row()
        sum_font = self._build_sum_label()
        self._build_digits(scaled(sum_font, 0.9))
        self._build_texts()
        self._lay_out()
        self._show_zoom()
        self.show_row(None, None)

    # --- building -----------------------------------------------------------------------------
    def _build_loupe(self) -> None:
        """The loupe's window: a fixed size whatever the zoom. The image in it is as large as its
        zoom makes it, centred while smaller than the window, scrollable once larger."""
        self.image_label = QLabel()
        self.image_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.loupe = QScrollArea()
        self.loupe.setFrameShape(QFrame.Shape.StyledPanel)
        self.loupe.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.loupe.setWidgetResizable(True)
        self.loupe.setWidget(self.image_label)
        self.loupe.setFixedSize(IMAGE_WIDTH * LOUPE_ZOOM + LOUPE_FRAME, IMAGE_HEIGHT * LOUPE_ZOOM + LOUPE_FRAME)
        self.loupe.viewport().installEventFilter(self)  # Ctrl+wheel zooms
        self.loupe.setToolTip("Ctrl+wheel zooms in and out")

    def _build_title_row(self) -> None:
        """The file's name and the zoom (its - and + buttons) on one line: the text under the
        image keeps its room."""
        self.file_label = QLabel()
        self.file_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.file_label.setFont(bold(self.file_label.font()))
        self.zoom_out_button, self.zoom_in_button = QToolButton(), QToolButton()
        self.zoom_out_button.setText("\u2212")
        self.zoom_out_button.setToolTip("Zoom out (Ctrl+wheel over the image)")
        self.zoom_in_button.setText("+")
        self.zoom_in_button.setToolTip("Zoom in (Ctrl+wheel over the image; the scroll bars move a zoomed image)")
        self.zoom_label = QLabel()
        self.zoom_label.setToolTip("How many screen pixels show each pixel of the image, each way")
        self.title_row = QWidget()
        row = QHBoxLayout(self.title_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.file_label, 1)
        for widget in (self.zoom_out_button, self.zoom_label, self.zoom_in_button):
            row.addWidget(widget)
        self.zoom_out_button.clicked.connect(lambda: self.set_zoom(self.zoom - 1))
        self.zoom_in_button.clicked.connect(lambda: self.set_zoom(self.zoom + 1))

    def _build_sum_label(self) -> QFont:
        """The predicted sum, large and bold; returns its font (the digits' is a little smaller)."""
        self.sum_label = QLabel()
        big = bold(scaled(self.sum_label.font(), 1.8))
        self.sum_label.setFont(big)
        self.sum_label.setWordWrap(True)
        return big

    def _build_digits(self, digit_font: QFont) -> None:
        """Four digit cells: the digit large, its probability small under it."""
        self.digits_box = QWidget()
        grid = QGridLayout(self.digits_box)
        grid.setContentsMargins(0, 0, 0, 0)
        self.digit_labels: list[QLabel] = []
        self.digit_conf_labels: list[QLabel] = []
        for k in range(NUM_DIGITS):
            d, c = QLabel(), QLabel()
            d.setFont(digit_font)
            for label in (d, c):
                label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            grid.addWidget(d, 0, k)
            grid.addWidget(c, 1, k)
            self.digit_labels.append(d)
            self.digit_conf_labels.append(c)
        self.digits_caption = QLabel("Digits read, left to right:")

    def _build_texts(self) -> None:
        """The likeliest sums, the true sum, a file's error, and what the empty pane says."""
        self.top3_caption = QLabel("Most likely sums:")
        self.top3_label = QLabel()
        self.top3_label.setTextFormat(Qt.TextFormat.RichText)
        self.top3_label.setWordWrap(True)

        self.truth_label = QLabel()
        self.truth_label.setWordWrap(True)

        self.error_label = QLabel()
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet(problem_style())
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.placeholder = QLabel("Select a row to see it here.")
        self.placeholder.setEnabled(False)

    def _lay_out(self) -> None:
        """One column, as wide as the loupe: texts wrap or are cut, they never widen the pane."""
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)  # narrow: every pixel of the pane is one the table does not get
        for widget in (
            self.placeholder,
            self.title_row,
            self.loupe,
            self.sum_label,
            self.truth_label,
            self.digits_caption,
            self.digits_box,
            self.top3_caption,
            self.top3_label,
            self.error_label,
        ):
            layout.addWidget(widget)
        layout.addStretch(1)
        for label in (self.placeholder, self.digits_caption, self.top3_caption):
            label.setWordWrap(True)  # a translation or a large font wraps; it never widens the pane
        for widget in (self.file_label, self.sum_label, self.digits_box, self.truth_label, self.error_label):
            widget.setSizePolicy(QSizePolicy.Policy.Ignored, widget.sizePolicy().verticalPolicy())
        margins = layout.contentsMargins()
        self.setFixedWidth(self.loupe.width() + margins.left() + margins.right())

    # --- zoom ---------------------------------------------------------------------------------
    def set_zoom(self, zoom: int) -> None:
        """Show the image at ``zoom`` (clamped to ``MIN_ZOOM``..``MAX_ZOOM``), about the same centre."""
        zoom = max(MIN_ZOOM, min(MAX_ZOOM, int(zoom)))
        if zoom == self.zoom:
            return
        bars = (self.loupe.horizontalScrollBar(), self.loupe.verticalScrollBar())
        # the point in the middle of the window, as a share of the image: it stays in the middle
        centre = [(bar.value() + bar.pageStep() / 2) / max(1, bar.maximum() + bar.pageStep()) for bar in bars]
        self.zoom = zoom
        self._show_zoom()
        self._update_image()
        self.loupe.setWidgetResizable(True)  # lays the image out now, not later: the scroll bars know its size
        for bar, share in zip(bars, centre, strict=True):
            bar.setValue(round(share * (bar.maximum() + bar.pageStep()) - bar.pageStep() / 2))

    def _show_zoom(self) -> None:
        self.zoom_label.setText(f"{self.zoom}x")
        self.zoom_out_button.setEnabled(self.zoom > MIN_ZOOM)
        self.zoom_in_button.setEnabled(self.zoom < MAX_ZOOM)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            watched is self.loupe.viewport()
            and event.type() == QEvent.Type.Wheel
            and event.modifiers() & Qt.KeyboardModifier.ControlModifier
        ):
            steps = event.angleDelta().y()
            if steps:
                self.set_zoom(self.zoom + (1 if steps > 0 else -1))
            return True  # not a scroll as well
        return super().eventFilter(watched, event)

    def show_row(
        self,
        row: PredictionRow | None,
        pixmap: QPixmap | None,
        reading: bool = False,
        truth: int | None = None,
        can_label: bool = False,
        typed: bool = False,
    ) -> None:
        """Show ``row`` (a PredictionRow, or None) with its model-size ``pixmap`` (or None).

        ``reading``: the image is on its way (``set_image`` follows); until then the image
        area stays blank rather than saying there is none. ``truth``: the sum a person gave
        (``typed`` in this app, or from labels.csv); ``can_label``: the open folder takes true sums.
        """
        self._pixmap, self._reading = pixmap, reading
        empty = row is None
        self.set_truth(row, truth, can_label, typed)
        self.placeholder.setVisible(empty)
        for widget in (self.title_row, self.loupe, self.sum_label):
            widget.setVisible(not empty)
        reads_digits = not empty and bool(row.digits)
        self.digits_caption.setVisible(reads_digits)
        self.digits_box.setVisible(reads_digits)
        self.top3_caption.setVisible(not empty and bool(row.top3))
        self.top3_label.setVisible(not empty and bool(row.top3))
        self.error_label.setVisible(not empty and bool(row.error))
        if empty:
            return

        self.file_label.setText(self._fitted_file_name(row.file))
        self.file_label.setToolTip(row.file)
        self._update_image()
        if row.error:
            self.sum_label.setText("No sum")
            self.error_label.setText(f"Could not read this file: {row.error}")
        else:
            doubt = "  (doubtful)" if is_doubtful(row, self.doubtful_below) else ""
            self.sum_label.setText(f"Sum {row.predicted_sum}   {format_probability(row.confidence)}{doubt}")
        for k, (d, c) in enumerate(zip(self.digit_labels, self.digit_conf_labels, strict=True)):
            digit = row.digits[k] if k < len(row.digits) else ""
            conf = row.digit_confidence[k] if k < len(row.digit_confidence) else None
            d.setText(digit)
            c.setText("" if conf is None else format_probability(conf))
            # a digit the model hesitated over is what a reviewer should look at first
            c.setStyleSheet(problem_style(conf is not None and conf < self.doubtful_below))
        self.top3_label.setText(
            # escaped: "<0.01%" would otherwise be read as the start of an HTML tag
            "<br>".join(f"<b>{s}</b> &nbsp; {html.escape(format_probability(p))}" for s, p in row.top3)
        )

    def set_truth(
        self, row: PredictionRow | None, truth: int | None, can_label: bool = True, typed: bool = False
    ) -> None:
        """The true sum of the row shown (after it was typed, cleared, or read from labels.csv)."""
        if row is None or row.error or (truth is None and not can_label):
            self.truth_label.hide()
            return
        source = "typed by you" if typed else "from labels.csv"
        if truth is None:
            text = "True sum: not given (type it in the table's True sum column)"
        elif truth == row.predicted_sum:
            text = f"True sum: {truth}, as read ({source})"
        elif typed:
            text = f"<b>True sum: {truth}</b>, not {row.predicted_sum}: corrected by you"
        else:
            text = f"<b>True sum: {truth}</b>, not {row.predicted_sum}: from labels.csv"
        self.truth_label.setText(text)
        self.truth_label.show()

    def set_image(self, pixmap: QPixmap | None) -> None:
        """The image of the row shown, once read (None: it could not be read)."""
        self._pixmap, self._reading = pixmap, False
        self._update_image()

    def _fitted_file_name(self, name: str) -> str:
        """``name``, shortened in the middle to the pane's width (the folder and the extension stay)."""
        zoom = sum(w.sizeHint().width() for w in (self.zoom_out_button, self.zoom_label, self.zoom_in_button))
        room = self.loupe.width() - zoom - 3 * max(0, self.title_row.layout().spacing())
        return self.file_label.fontMetrics().elidedText(name, Qt.TextElideMode.ElideMiddle, room)

    def _update_image(self) -> None:
        if self._pixmap is None or self._pixmap.isNull():
            self.image_label.setPixmap(QPixmap())
            self.image_label.setText("" if self._reading else "(no image)")
            return
        # scaled once, to the screen's own pixels (at 1.5x, 4.5 of them for each image pixel at 3x):
        # Qt does not scale it a second time on the way there
        ratio = self.devicePixelRatioF()
        scaled = self._pixmap.scaled(
            round(IMAGE_WIDTH * self.zoom * ratio),
            round(IMAGE_HEIGHT * self.zoom * ratio),
            Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.SmoothTransformation,
        )
        scaled.setDevicePixelRatio(ratio)
        self.image_label.setPixmap(scaled)
