"""The legend under the table: a swatch of each row colour with what it means, and the review keys.

The colours are ``digitsum_gui.style``'s, the rule that gives a row one of them
``digitsum_gui.table.row_colours``; the doubtful swatch names the threshold the filter bar sets.
"""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget

from digitsum_gui import style
from digitsum_gui.doubtful import format_threshold
from digitsum_gui.status_bar import ElidedLabel


def doubtful_text(below: float) -> str:
    """The legend's name for the doubtful colour: ``Doubtful: below 98%``."""
    return f"Doubtful: below {format_threshold(below)}"


def make_legend(below: float) -> QWidget:
    """A strip of the table's row colours with what each means, and the review keys.

    ``below``: the doubtful threshold; its swatch (object name ``doubtful``) says it.
    """
    legend = QWidget()
    layout = QHBoxLayout(legend)
    layout.setContentsMargins(0, 2, 0, 2)
    for name, background, foreground, text, tip in (
        (
            "unreadable",
            style.ERROR_BACKGROUND,
            style.ERROR_FOREGROUND,
            "Unreadable",
            "The file could not be read: its error says why",
        ),
        (
            "doubtful",
            style.DOUBT_BACKGROUND,
            style.DOUBT_FOREGROUND,
            doubtful_text(below),
            "The model is not sure of this sum: look at these rows first (Doubtful first). "
            'The threshold is the filter bar\'s "Confidence below"',
        ),
        (
            "corrected",
            style.CORRECTED_BACKGROUND,
            style.CORRECTED_FOREGROUND,
            "Corrected by you",
            "The true sum you typed differs from the model's: shown in bold",
        ),
        (
            "from_folder",
            style.FROM_FOLDER_BACKGROUND,
            style.FROM_FOLDER_FOREGROUND,
            "labels.csv differs",
            "The true sum that came with the folder's labels.csv differs from the model's: shown in bold",
        ),
    ):
        swatch = QLabel(text)
        swatch.setObjectName(name)
        swatch.setStyleSheet(style.swatch_style(background, foreground))
        swatch.setToolTip(tip)
        layout.addWidget(swatch)
    keys = ElidedLabel(
        "Type a sum and Enter, or Space to accept the model's: saved, on to the next doubtful row. "
        "N skips, Shift+N goes back, Delete forgets. Help > Keyboard Shortcuts lists them all."
    )
    keys.setToolTip(keys.text())
    keys.setEnabled(False)  # a hint, drawn quieter than the data
    layout.addWidget(keys, 1)
    return legend
