"""The selected row, up close: a loupe on its image, the digits read, the likeliest sums.

The loupe always shows the 40x168 image at ``LOUPE_ZOOM`` (3x), smoothly scaled: a stroke reads
as a stroke, not a staircase, and the table's thumbnail beside it keeps the pixels at 1x. The
pane's width is the loupe's and never the text's: a long file name is shortened in the middle,
other texts wrap under the image, so moving from row to row never reflows the table.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QPixmap
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from core.spec import IMAGE_HEIGHT, IMAGE_WIDTH, NUM_DIGITS
from digitsum_gui.table_model import LOW_CONFIDENCE, format_probability

LOUPE_ZOOM = 3
LOUPE_FRAME = 8  # the loupe's frame and a little air around the image


class DetailPane(QWidget):
    """Shows one PredictionRow and its image; ``show_row(None, None)`` empties it."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._pixmap: QPixmap | None = None
        self._reading = False  # the image of the row shown is still being read
        self.doubtful_below = LOW_CONFIDENCE  # the table's threshold (ResultsView keeps it so)

        self.file_label = QLabel()
        self.file_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        bold = QFont(self.file_label.font())
        bold.setBold(True)
        self.file_label.setFont(bold)

        self.image_label = QLabel()
        self.image_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.image_label.setFrameShape(QFrame.Shape.StyledPanel)
        self.image_label.setFixedSize(IMAGE_WIDTH * LOUPE_ZOOM + LOUPE_FRAME, IMAGE_HEIGHT * LOUPE_ZOOM + LOUPE_FRAME)

        self.sum_label = QLabel()
        big = QFont(self.sum_label.font())
        big.setPointSizeF(big.pointSizeF() * 1.8)
        big.setBold(True)
        self.sum_label.setFont(big)
        self.sum_label.setWordWrap(True)

        # Four digit cells: the digit large, its probability small under it.
        digits_box = QWidget()
        grid = QGridLayout(digits_box)
        grid.setContentsMargins(0, 0, 0, 0)
        self.digit_labels: list[QLabel] = []
        self.digit_conf_labels: list[QLabel] = []
        digit_font = QFont(big)
        digit_font.setPointSizeF(big.pointSizeF() * 0.9)
        for k in range(NUM_DIGITS):
            d, c = QLabel(), QLabel()
            d.setFont(digit_font)
            for label in (d, c):
                label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            grid.addWidget(d, 0, k)
            grid.addWidget(c, 1, k)
            self.digit_labels.append(d)
            self.digit_conf_labels.append(c)
        self.digits_box = digits_box
        self.digits_caption = QLabel("Digits read, left to right:")

        self.top3_caption = QLabel("Most likely sums:")
        self.top3_label = QLabel()
        self.top3_label.setTextFormat(Qt.TextFormat.RichText)
        self.top3_label.setWordWrap(True)

        self.truth_label = QLabel()
        self.truth_label.setWordWrap(True)

        self.error_label = QLabel()
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet("color: #b02a37;")
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.placeholder = QLabel("Select a row to see it here.")
        self.placeholder.setEnabled(False)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)  # narrow: every pixel of the pane is one the table does not get
        for widget in (
            self.placeholder,
            self.file_label,
            self.image_label,
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
        self.setFixedWidth(self.image_label.width() + margins.left() + margins.right())
        self.show_row(None, None)

    def show_row(
        self,
        row,
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
        for widget in (self.file_label, self.image_label, self.sum_label):
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
            doubt = "  (doubtful)" if row.confidence < self.doubtful_below else ""
            self.sum_label.setText(f"Sum {row.predicted_sum}   {format_probability(row.confidence)}{doubt}")
        for k, (d, c) in enumerate(zip(self.digit_labels, self.digit_conf_labels, strict=True)):
            digit = row.digits[k] if k < len(row.digits) else ""
            conf = row.digit_confidence[k] if k < len(row.digit_confidence) else None
            d.setText(digit)
            c.setText("" if conf is None else format_probability(conf))
            # a digit the model hesitated over is what a reviewer should look at first
            c.setStyleSheet("color: #b02a37;" if conf is not None and conf < LOW_CONFIDENCE else "")
        self.top3_label.setText(
            # escaped: "<0.01%" would otherwise be read as the start of an HTML tag
            "<br>".join(f"<b>{s}</b> &nbsp; {html.escape(format_probability(p))}" for s, p in row.top3)
        )

    def set_truth(self, row, truth: int | None, can_label: bool = True, typed: bool = False) -> None:
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
        return self.file_label.fontMetrics().elidedText(name, Qt.TextElideMode.ElideMiddle, self.image_label.width())

    def _update_image(self) -> None:
        if self._pixmap is None or self._pixmap.isNull():
            self.image_label.setPixmap(QPixmap())
            self.image_label.setText("" if self._reading else "(no image)")
            return
        # scaled once, to the screen's own pixels (at 1.5x, 4.5 of them for each image pixel):
        # Qt does not scale it a second time on the way there
        ratio = self.devicePixelRatioF()
        scaled = self._pixmap.scaled(
            round(IMAGE_WIDTH * LOUPE_ZOOM * ratio),
            round(IMAGE_HEIGHT * LOUPE_ZOOM * ratio),
            Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.SmoothTransformation,
        )
        scaled.setDevicePixelRatio(ratio)
        self.image_label.setPixmap(scaled)
