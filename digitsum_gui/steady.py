"""Labels that keep their width while the counts in them change.

A count that grows from 9 to 10 rows, or a speed that goes from 98 to 112 images/s, changes
a label's width, and every widget laid out beside it moves sideways with it: the filter bar
and the status bar jittered while a folder was read. A ``SteadyLabel`` is as wide as the
widest text it was told it may show (``hold_width_for``), so its neighbours stay put.
"""

from __future__ import annotations

import re

from PySide6.QtCore import QSize
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QLabel, QWidget

_DIGIT = re.compile("[0-9]")


def widest_form(text: str, metrics: QFontMetrics) -> str:
    """``text`` with each digit replaced by the font's widest: as wide as any text of its shape.

    Proportional fonts draw a 1 narrower than an 8, so "111 rows" is not as wide as "888 rows".
    """
    widest = max("0123456789", key=metrics.horizontalAdvance)
    return _DIGIT.sub(widest, text)


class SteadyLabel(QLabel):
    """A ``QLabel`` at least as wide as the widest of the texts it may show.

    Its text can be anything; ``hold_width_for`` says which texts to make room for (a count's
    largest value, say). A text wider than those still shows whole: the label then grows.
    """

    def __init__(self, text: str = "", parent: QWidget | None = None):
        super().__init__(text, parent)
        self._held = 0  # px of text room held, whatever the text shown

    def hold_width_for(self, *texts: str) -> None:
        """Keep room for the widest of ``texts``, digits counted as the font's widest digit."""
        metrics = self.fontMetrics()
        width = max((metrics.horizontalAdvance(widest_form(t, metrics)) for t in texts), default=0)
        if width != self._held:
            self._held = width
            self.updateGeometry()

    def held_width(self) -> int:
        """The label's width for the texts held (its margins included)."""
        margins = self.contentsMargins()
        return self._held + margins.left() + margins.right() + 2 * self.margin() if self._held else 0

    def sizeHint(self) -> QSize:
        hint = super().sizeHint()
        return QSize(max(hint.width(), self.held_width()), hint.height())

    def minimumSizeHint(self) -> QSize:
        hint = super().minimumSizeHint()
        return QSize(max(hint.width(), self.held_width()), hint.height())
