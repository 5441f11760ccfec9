"""The "True sum" column: the sum a person gave for a row, what its cell shows, and saving one.

The labels themselves (``labels.csv`` or the folder's corrections file, saved at once) are
``core.labels.folder_labels.FolderLabels``; this module reads and writes them for one row,
and its functions are the column's ``ColumnSpec`` (``digitsum_gui.table.columns``). The
cell's editor is ``digitsum_gui.table.true_sum_editor``. ``known_sum`` is also the CSV
export's ``corrected_sum`` column, ``truth_source`` its ``true_sum_from``.

A true sum is either typed in this app ("corrected by you") or came with the folder's
labels.csv: the two are worded and coloured apart (``truth_source``, ``truth_colours``), so
rows nobody corrected never read as corrections.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtGui import QColor, QFont

from core.errors import reason
from core.spec import MAX_SUM  # torch-free: the GUI's start-up stays light
from digitsum_gui import style

if TYPE_CHECKING:
    from core.inputs.listing import InputItem
    from core.labels.folder_labels import FolderLabels
    from core.predict.rows import PredictionRow

NO_SUM = -1  # what older callers pass to forget the sum of this file
TYPED, FROM_FOLDER = "typed", "labels.csv"  # truth_source; also the export's true_sum_from cells


def parse_sum(value: object) -> tuple[bool, int | None]:
    """``(ok, sum or None)`` for what an editor or a caller hands to ``setData``.

    Accepts an int 0..36, a string of digits 0..36 (typed or pasted), ``None``, ``""`` or
    ``-1`` (forget); everything else is refused.
    """
    if value is None or value == "" or (isinstance(value, int) and not isinstance(value, bool) and value == NO_SUM):
        return True, None
    if isinstance(value, str):
        text = value.strip()
        if not text.isascii() or not text.isdigit():
            return False, None
        value = int(text)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_SUM:
        return False, None
    return True, value


def known_sum(labels: FolderLabels | None, row: PredictionRow) -> int | None:
    """The sum a person gave for ``row`` (labels.csv or typed), or None (also with no labels)."""
    return None if labels is None else labels.sum_of(row.file)


def truth_source(labels: FolderLabels | None, row: PredictionRow) -> str:
    """``TYPED`` for a sum typed in this app, ``FROM_FOLDER`` for one from the folder's labels.csv, "" for none."""
    if known_sum(labels, row) is None:
        return ""
    return TYPED if labels.typed(row.file) else FROM_FOLDER


def is_corrected(labels: FolderLabels | None, row: PredictionRow) -> bool:
    """True when the known sum of ``row`` differs from what the model read."""
    truth = known_sum(labels, row)
    return truth is not None and truth != row.predicted_sum


def truth_colours(labels: FolderLabels | None, row: PredictionRow) -> tuple[QColor, QColor] | None:
    """(background, foreground) of a row whose known sum differs from the model's, by where
    the sum came from; None for the others."""
    if not is_corrected(labels, row):
        return None
    if truth_source(labels, row) == TYPED:
        return style.CORRECTED_BACKGROUND, style.CORRECTED_FOREGROUND
    return style.FROM_FOLDER_BACKGROUND, style.FROM_FOLDER_FOREGROUND


def true_sum_text(row: PredictionRow, labels: FolderLabels | None) -> str:
    """The cell's text: the known sum, or empty."""
    truth = known_sum(labels, row)
    return "" if truth is None else str(truth)


def true_sum_font(row: PredictionRow, labels: FolderLabels | None) -> QFont | None:
    """Bold where the known sum differs from the model's (the legend says so), else the view's font."""
    return style.bold() if is_corrected(labels, row) else None


def true_sum_tooltip(row: PredictionRow, item: InputItem | None, labels: FolderLabels | None) -> str:
    """What the cell says on hover: how to type a sum, or where the known one came from.

    With no folder open, that comes before an unreadable file's error (every other cell
    of an error row gives the error first).
    """
    if labels is None:
        return "Open a folder to type true sums: they are saved to its labels.csv"
    if row.error:
        return f"{row.file}: {row.error}"
    truth = known_sum(labels, row)
    if truth is None:
        return f"Double-click to type the true sum (0-{MAX_SUM}); it is saved to {labels.saved_to}"
    typed = truth_source(labels, row) == TYPED
    if truth == row.predicted_sum:
        source = "typed by you" if typed else "from the folder's labels.csv"
        return f"The model read it right: {truth} ({source})"
    read = "nothing" if row.predicted_sum is None else row.predicted_sum
    if typed:
        return f"Corrected by you: the model read {read}, you typed {truth} (saved to {labels.saved_to})"
    return f"From the folder's labels.csv: the true sum is {truth}, the model read {read}"


def true_sum_sort_key(row: PredictionRow, index: int, labels: FolderLabels | None) -> int:
    """Unknown sums first (as -1), like the predicted-sum column's errors."""
    truth = known_sum(labels, row)
    return -1 if truth is None else truth


def can_type_true_sum(row: PredictionRow, labels: FolderLabels | None) -> bool:
    """Whether the cell takes a typed sum: a folder's labels are open and the image could be read
    (an unreadable image cannot be trained on)."""
    return labels is not None and not row.error


def save_true_sum(row: PredictionRow, labels: FolderLabels, value: object) -> str:
    """Validate ``value`` and save it as the true sum of ``row``; a one-line problem, or "" when saved."""
    from core.files import WriteError

    ok, total = parse_sum(value)
    if not ok:
        return f"A sum is a whole number from 0 to {MAX_SUM}, not {value!r}."
    if total == labels.sum_of(row.file):
        return ""
    try:
        labels.set(row.file, total)
    except (WriteError, OSError, ValueError) as exc:
        return f"The sum of {row.file} was not saved: {reason(exc)}"
    return ""
