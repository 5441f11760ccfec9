"""The table's columns: one ``ColumnSpec`` in ``COLUMNS`` says everything about one column.

Its header and width, the text, tooltip and font of its cells, what it sorts by, and for an
editable column when a cell takes an edit and how the edit is saved. The table model
(``digitsum_gui.table.model``) asks the spec for every cell and names no column itself; the
view (``digitsum_gui.table.view``) takes widths and the display order from here.

Every function a spec holds gets the ``PredictionRow`` and the open folder's labels
(``core.labels.folder_labels.FolderLabels``, or None), so a column that shows the labels
(the True sum, ``digitsum_gui.table.true_sum``) is a column like the others.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum
from typing import TYPE_CHECKING, Any

from PySide6.QtGui import QFont

from core.predict.spreadsheet import confidence_text, format_probability  # one format: the table's and the export's
from digitsum_gui.table import true_sum

if TYPE_CHECKING:
    from core.inputs.listing import InputItem
    from core.labels.folder_labels import FolderLabels
    from core.predict.rows import PredictionRow


class Column(IntEnum):
    """Table columns, in model order (the view shows them in ``digitsum_gui.table.view.DISPLAY_ORDER``).
    New columns go at the end (saved header states)."""

    THUMBNAIL = 0
    FILE = 1
    SUM = 2
    CONFIDENCE = 3
    DIGITS = 4
    ERROR = 5
    TRUE_SUM = 6  # editable where the open folder's labels are known (``PredictionTableModel.set_labels``)


def error_first(tooltip: Callable[[Any, Any, Any], str | None]) -> Callable[[Any, Any, Any], str | None]:
    """A cell's tooltip that gives an unreadable file's error first, as every cell of its row does,
    and ``tooltip(row, item, labels)`` for the other rows."""

    def tip(row: PredictionRow, item: InputItem | None, labels: FolderLabels | None) -> str | None:
        return f"{row.file}: {row.error}" if row.error else tooltip(row, item, labels)

    return tip


def _no_tooltip(row: PredictionRow, item: InputItem | None, labels: FolderLabels | None) -> None:
    return None


def _plain_font(row: PredictionRow, labels: FolderLabels | None) -> QFont | None:
    return None  # the view's own


def _no_value(row: PredictionRow, labels: FolderLabels | None) -> None:
    return None


def _never_editable(row: PredictionRow, labels: FolderLabels | None) -> bool:
    return False


@dataclass(frozen=True)
class ColumnSpec:
    """Everything the table and its view know about one column.

    Rows are ``core.predict.rows.PredictionRow``s, ``labels`` the open folder's
    ``FolderLabels`` or None, ``item`` the row's ``InputItem`` or None, ``index`` its input index.

    Attributes
    ----------
    header : str
    text : callable
        ``text(row, labels)``: the cell's text (None: no text).
    sort_key : callable
        ``sort_key(row, index, labels)``: what the column sorts by, one type per column so
        comparisons never mix types; rows without a value (errors) sort as -1, i.e. first
        when ascending: doubtful first.
    tooltip : callable
        ``tooltip(row, item, labels)``; by default none beyond the error every cell of an
        error row shows (``error_first``).
    font : callable
        ``font(row, labels)``: a QFont, or None for the view's.
    width : int or None
        px at start (None: Qt's).
    numeric : bool
        Right-aligned.
    shows_thumbnail : bool
        Its cells show the input's image as the model saw it (``digitsum_gui.table.thumbnails``).
    value : callable
        ``value(row, labels)``: what an editor starts from (Qt's edit role), and what a saved
        edit reports (``PredictionTableModel.true_sum_saved``).
    editable : callable
        ``editable(row, labels)``: whether this cell takes an edit now (with ``save`` set).
    save : callable or None
        ``save(row, labels, value)``: validate and save an edit at once; "" when saved, else
        why not in one line. None: the column is read-only.
    edit_name : str
        What Edit > Undo calls one edit: ``"{edit_name} of {file}"``.
    shows_labels : bool
        Its cells and sort key read the labels: a table sorted by it sorts again when they change.
    """

    header: str
    text: Callable[[Any, Any], str | None]
    sort_key: Callable[[Any, int, Any], Any]
    tooltip: Callable[[Any, Any, Any], str | None] = error_first(_no_tooltip)
    font: Callable[[Any, Any], QFont | None] = _plain_font
    width: int | None = None
    numeric: bool = False
    shows_thumbnail: bool = False
    value: Callable[[Any, Any], Any] = _no_value
    editable: Callable[[Any, Any], bool] = _never_editable
    save: Callable[[Any, Any, Any], str] | None = None
    edit_name: str = ""
    shows_labels: bool = False


def _top3(row: PredictionRow, item: InputItem | None, labels: FolderLabels | None) -> str | None:
    return "Most likely sums: " + ", ".join(f"{s} ({format_probability(p)})" for s, p in row.top3) if row.top3 else None


def _path(row: PredictionRow, item: InputItem | None, labels: FolderLabels | None) -> str:
    return str(item.path) if item is not None else row.file


COLUMNS = {
    # sorted by this column, the table is in input order
    Column.THUMBNAIL: ColumnSpec(
        "Image", lambda row, labels: None, lambda row, index, labels: index, width=178, shows_thumbnail=True
    ),
    Column.FILE: ColumnSpec(
        "File",
        lambda row, labels: row.file,
        lambda row, index, labels: row.file.casefold(),
        tooltip=error_first(_path),
        width=240,
    ),
    Column.SUM: ColumnSpec(
        "Sum",
        lambda row, labels: "" if row.predicted_sum is None else str(row.predicted_sum),
        lambda row, index, labels: -1 if row.predicted_sum is None else row.predicted_sum,
        tooltip=error_first(_top3),
        width=56,
        numeric=True,
    ),
    Column.CONFIDENCE: ColumnSpec(
        "Confidence",
        lambda row, labels: confidence_text(row.confidence),
        lambda row, index, labels: -1.0 if row.confidence is None else row.confidence,
        tooltip=error_first(_top3),
        width=96,
        numeric=True,
    ),
    Column.DIGITS: ColumnSpec(
        "Digits read", lambda row, labels: row.digits, lambda row, index, labels: row.digits, width=96, numeric=True
    ),
    # the last column, stretched to the table's edge; this narrow (reasons elide, tooltips hold them)
    Column.ERROR: ColumnSpec("Error", lambda row, labels: row.error, lambda row, index, labels: row.error, width=56),
    Column.TRUE_SUM: ColumnSpec(
        "True sum",
        true_sum.true_sum_text,
        true_sum.true_sum_sort_key,
        tooltip=true_sum.true_sum_tooltip,  # (with no folder open, that comes before an error)
        font=true_sum.true_sum_font,
        width=84,  # its header and sort arrow, and two digits typed
        numeric=True,
        value=lambda row, labels: true_sum.known_sum(labels, row),
        editable=true_sum.can_type_true_sum,
        save=true_sum.save_true_sum,
        edit_name="True Sum",
        shows_labels=True,
    ),
}


def sort_key(row: PredictionRow, index: int, column: int, labels: FolderLabels | None = None) -> Any:
    """What ``column`` sorts by (``labels``: the folder's, for the True sum column)."""
    return COLUMNS[Column(column)].sort_key(row, index, labels)
