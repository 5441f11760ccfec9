"""Which colours a row of the table has: the one rule its cells follow and its legend names.

Unreadable first, then a known sum that differs from the model's (typed here, or from the
folder's labels.csv), then doubtful; the colours themselves are ``digitsum_gui.style``'s.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtGui import QColor

from digitsum_gui import style
from digitsum_gui.table.true_sum import truth_colours

if TYPE_CHECKING:
    from collections.abc import Callable

    from core.labels.folder_labels import FolderLabels
    from core.predict.rows import PredictionRow


def row_colours(
    row: PredictionRow, labels: FolderLabels | None, doubtful: Callable[[PredictionRow], bool]
) -> tuple[QColor, QColor] | None:
    """(background, foreground) of every cell of ``row``, or None for the view's own.

    Parameters
    ----------
    row : PredictionRow
    labels : FolderLabels or None
        The open folder's, for the true sums.
    doubtful : callable
        ``doubtful(row)``: whether the row is doubtful under the threshold now
        (``digitsum_gui.doubtful.DoubtfulThreshold``).
    """
    if row.error:
        return style.ERROR_BACKGROUND, style.ERROR_FOREGROUND
    if colours := truth_colours(labels, row):  # typed, or from labels.csv
        return colours
    return (style.DOUBT_BACKGROUND, style.DOUBT_FOREGROUND) if doubtful(row) else None
