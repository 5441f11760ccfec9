"""What the window shows before anything is open: what to do first, and sample images to try."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QStyle, QVBoxLayout, QWidget

from digitsum_gui.style import bold, scaled


class EmptyHint(QWidget):
    """A short welcome in place of the empty table.

    Signals
    -------
    open_requested()
        "Open Folder..." (the same as File > Open Folder, Ctrl+O).
    samples_requested()
        "Try the Sample Images": the 24 labelled images that come with the app.
    """

    open_requested = Signal()
    samples_requested = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        title = QLabel("Read the sums of handwritten digits")
        title.setFont(bold(scaled(title.font(), 1.6)))
        text = QLabel(
            "Open a folder of images, each four handwritten digits in a row (40x168 pixels), "
            "or drop one on this window. Every image's digits are read and added up; the rows "
            "the model is unsure of are marked, so you can check them and type the right sums."
        )
        text.setWordWrap(True)
        text.setFixedWidth(560)
        text.setMinimumHeight(text.heightForWidth(560))  # a centred wrapped label is not asked for its height
        self.open_button = QPushButton(
            self.style().standardIcon(QStyle.StandardPixmap.SP_DirOpenIcon), "Open Folder... (Ctrl+O)"
        )
        self.samples_button = QPushButton("Try the Sample Images")
        self.samples_button.setToolTip("24 images that come with the app, with their true sums")
        self.open_button.clicked.connect(self.open_requested)
        self.samples_button.clicked.connect(self.samples_requested)

        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.open_button)
        buttons.addWidget(self.samples_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        for label in (title, text):
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            layout.addWidget(label, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addSpacing(12)
        layout.addLayout(buttons)
        layout.addStretch(2)
