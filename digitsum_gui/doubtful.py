"""Which rows are doubtful: the one threshold the row colours, the legend, the detail pane, the
"Confidence below" filter and keyboard review all read.

It starts at ``core.spec.DOUBTFUL_BELOW`` (how that was chosen is written there) and the filter
bar's spin box moves it; every reader follows ``DoubtfulThreshold.changed``, so a person who
raises it to 99.5% sees more rows coloured, the legend say so, and Next Doubtful visit them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from core.spec import DOUBTFUL_BELOW  # the threshold a session starts with (how it was chosen: there)

if TYPE_CHECKING:
    from core.predict.rows import PredictionRow


def is_doubtful(row: PredictionRow, below: float = DOUBTFUL_BELOW) -> bool:
    """A row that needs a human look: unreadable, or a sum read with confidence below ``below``."""
    return bool(row.error) or (row.confidence is not None and row.confidence < below)


def format_threshold(below: float) -> str:
    """``98%``, ``99.5%``: as the spin box shows it (a tenth of a percent at most, no trailing zero)."""
    return f"{below * 100:.1f}".removesuffix(".0") + "%"


class DoubtfulThreshold(QObject):
    """The confidence under which a row is doubtful, as a fraction (0.98).

    Calling it with a row says whether that row is doubtful now.

    Signals
    -------
    changed(float)
        The threshold moved (the new fraction).
    """

    changed = Signal(float)

    def __init__(self, below: float = DOUBTFUL_BELOW, parent: QObject | None = None):
        super().__init__(parent)
        self._below = below

    @property
    def below(self) -> float:
        return self._below

    def set_below(self, below: float) -> None:
        below = round(float(below), 4)  # a spin box's 99.5 / 100 is 0.995, not 0.9950000000000001
        if below != self._below:
            self._below = below
            self.changed.emit(below)

    def __call__(self, row: PredictionRow) -> bool:
        """Whether ``row`` is doubtful at the threshold set now."""
        return is_doubtful(row, self._below)
