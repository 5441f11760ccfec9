"""The results table: a Qt adapter over a plain Python list of ``core`` prediction rows.

``PredictionTableModel`` owns two parallel lists, ``items`` (what was listed, from
``core.inputs.listing.list_inputs``) and ``rows`` (``core.predict.predictor.PredictionRow``, appended batch by
batch in the same input order), so row ``i`` of the table is always file ``items[i]``. It
creates no widget per row and no thumbnail until the view paints one, which keeps 100,000
rows as cheap as 100. Thumbnails are ``digitsum_gui.thumbnails``'s: read by a thread of their
own, they arrive as ``dataChanged`` for their cell, so a paint never waits for a disk.
Every column is one ``ColumnSpec`` in ``COLUMNS``: header, width, text, sort key, tooltip.
``PredictionFilterProxyModel`` sorts (numerically; confidence ascending is "doubtful first")
and filters (text, errors only, confidence below a threshold).

Why the sort lives in the table model: ``QSortFilterProxyModel`` sorts by calling
``lessThan`` about ``n log n`` times, and every call crosses from C++ into Python: 100,000
rows took 17 s. Sorting a Python list with a key takes 50 ms, so the proxy hands ``sort()``
to the table model, which keeps a display order beside the input order (``rows`` and the
CSV export stay in input order) and puts rows arriving during a run straight into place.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, QSortFilterProxyModel, Qt, Signal
from PySide6.QtGui import QColor, QPixmap

from core.predict.spreadsheet import confidence_text, format_probability  # one format: the table's and the export's
from digitsum_gui import corrections
from digitsum_gui.doubtful import DoubtfulThreshold, is_doubtful
from digitsum_gui.thumbnails import Thumbnails
from digitsum_gui.undo import LabelsUndoStack

MANY_ROWS = 256  # appended while sorted: from this many on, one layout change beats inserts one by one

# Light backgrounds with dark text of the same hue: readable under light and dark palettes.
ERROR_BACKGROUND, ERROR_FOREGROUND = QColor("#f8d7da"), QColor("#721c24")
DOUBT_BACKGROUND, DOUBT_FOREGROUND = QColor("#fff3cd"), QColor("#664d03")

SortRole = Qt.ItemDataRole.UserRole + 1  # a plain number or string that orders the column
RowRole = Qt.ItemDataRole.UserRole + 2  # the PredictionRow itself

_INDEX = QModelIndex | QPersistentModelIndex


class Column(IntEnum):
    """Table columns, in model order (the view shows them in ``results_view.DISPLAY_ORDER``).
    New columns go at the end (saved header states)."""

    THUMBNAIL = 0
    FILE = 1
    SUM = 2
    CONFIDENCE = 3
    DIGITS = 4
    ERROR = 5
    TRUE_SUM = 6  # editable where the open folder's labels are known (``set_labels``)


@dataclass(frozen=True)
class ColumnSpec:
    """Everything the table and its view know about one column.

    ``display(row)`` is the cell's text (None: no text); ``sort_key(row, index, labels)``
    what the column sorts by, one type per column so comparisons never mix types; rows
    without a value (errors) sort as -1, i.e. first when ascending: doubtful first.
    ``tooltip(row, item)`` is the cell's tooltip beyond the error every cell of an error
    row shows (``item``: the ``InputItem``, or None). ``width``: px at start (None: Qt's).
    """

    header: str
    display: Callable[[Any], str | None]
    sort_key: Callable[[Any, int, Any], Any]
    tooltip: Callable[[Any, Any], str | None] = lambda row, item: None
    width: int | None = None
    numeric: bool = False  # right-aligned


def _top3(row, item) -> str | None:
    return "Most likely sums: " + ", ".join(f"{s} ({format_probability(p)})" for s, p in row.top3) if row.top3 else None


COLUMNS = {
    Column.THUMBNAIL: ColumnSpec("Image", lambda row: None, lambda row, index, labels: index, width=178),  # input order
    Column.FILE: ColumnSpec(
        "File",
        lambda row: row.file,
        lambda row, index, labels: row.file.casefold(),
        tooltip=lambda row, item: str(item.path) if item is not None else row.file,
        width=240,
    ),
    Column.SUM: ColumnSpec(
        "Sum",
        lambda row: "" if row.predicted_sum is None else str(row.predicted_sum),
        lambda row, index, labels: -1 if row.predicted_sum is None else row.predicted_sum,
        tooltip=_top3,
        width=56,
        numeric=True,
    ),
    Column.CONFIDENCE: ColumnSpec(
        "Confidence",
        lambda row: confidence_text(row.confidence),
        lambda row, index, labels: -1.0 if row.confidence is None else row.confidence,
        tooltip=_top3,
        width=96,
        numeric=True,
    ),
    Column.DIGITS: ColumnSpec(
        "Digits read", lambda row: row.digits, lambda row, index, labels: row.digits, width=96, numeric=True
    ),
    # the last column, stretched to the table's edge; this narrow (reasons elide, tooltips hold them)
    Column.ERROR: ColumnSpec("Error", lambda row: row.error, lambda row, index, labels: row.error, width=56),
    # editable: its text, tooltip and font are corrections.true_sum_cell's (PredictionTableModel.data)
    Column.TRUE_SUM: ColumnSpec(
        "True sum",
        lambda row: None,
        lambda row, index, labels: corrections.true_sum_sort_key(labels, row),
        width=84,  # its header and sort arrow, and two digits typed
        numeric=True,
    ),
}


def sort_key(row, index: int, column: int, labels=None):
    """What ``column`` sorts by (``labels``: the folder's, for the True sum column)."""
    return COLUMNS[Column(column)].sort_key(row, index, labels)


class PredictionTableModel(QAbstractTableModel):
    """Rows of predictions with lazily made, cached thumbnails and a fast sort.

    Parameters
    ----------
    parent : QObject, optional

    Notes
    -----
    Table rows are *display* rows; ``input_index(r)`` says which input a display row is.
    Without a sort they are the same. ``rows``/``items`` and ``thumbnail`` use input indices.

    The "True sum" column shows and edits ``labels`` (``core.labels.folder_labels.FolderLabels``, set
    by ``set_labels``): an edit is validated (0..36, or empty to forget) and saved at once.

    ``doubtful`` (``digitsum_gui.doubtful.DoubtfulThreshold``) says which rows are coloured
    doubtful; when the filter bar moves it, every row's colours are asked for again.

    Signals
    -------
    labels_changed()
        A true sum was saved, or the labels were put back by Undo / Redo (``undo_stack``).
    true_sum_saved(str file, object sum)
        The same, saying which file and what (None: the sum was forgotten).
    rows_about_to_append()
        ``append_rows`` is about to add rows (views keep the row a person is on in place).
    labels_failed(str)
        A true sum could not be saved (one line); the cell keeps its old value.
    """

    labels_changed = Signal()
    true_sum_saved = Signal(str, object)
    rows_about_to_append = Signal()
    labels_failed = Signal(str)
    rows_appended = Signal(int)  # how many rows one ``append_rows`` added (after all their inserts)
    thumbnail_ready = Signal(int)  # input index whose thumbnail ``thumbnail_when_ready`` has read

    def __init__(self, parent=None):
        super().__init__(parent)
        self._items: list = []  # core.inputs.listing.InputItem, input order
        self._rows: list = []  # core.predict.predictor.PredictionRow, same order, possibly fewer
        self.thumbnails = Thumbnails(self)
        self.thumbnails.ready.connect(self._on_thumbnail_ready)
        self._sort_column = -1  # -1: input order
        self._descending = False
        # While sorted: (key, +-input index) ascending, so bisect can place new rows. For a
        # descending sort the display is this list reversed and the index is negated, which
        # keeps equal keys in input order either way (what a stable sort would do).
        self._sorted: list[tuple] = []
        self._labels = None  # core.labels.folder_labels.FolderLabels of the open folder, or None
        self.undo_stack = LabelsUndoStack(self)  # every true sum typed or cleared (Edit > Undo)
        self.doubtful = DoubtfulThreshold(parent=self)  # ``self.doubtful(row)``: coloured as doubtful now?
        self.doubtful.changed.connect(self._recolour)

    # --- the plain-Python side -------------------------------------------------------------
    @property
    def rows(self) -> list:
        """The rows in input order (do not modify; use the methods below)."""
        return self._rows

    @property
    def items(self) -> list:
        return self._items

    @property
    def sort_column(self) -> int:
        return self._sort_column

    def input_index(self, row: int) -> int:
        """The input index shown at display row ``row``."""
        if self._sort_column < 0 or row >= len(self._sorted):
            return row  # (while sorted, new rows are shown last until ``append_rows`` places them)
        entry = self._sorted[len(self._sorted) - 1 - row] if self._descending else self._sorted[row]
        return abs(entry[1])

    def display_row(self, input_index: int) -> int | None:
        """Where input ``input_index`` is shown, by bisection while sorted; None if it has no row yet."""
        if input_index >= len(self._rows):
            return None
        if self._sort_column < 0 or input_index >= len(self._sorted):
            return input_index
        entry = self._entry(self._rows[input_index], input_index)
        pos = bisect_left(self._sorted, entry)
        if pos == len(self._sorted) or self._sorted[pos] != entry:
            return None
        return len(self._sorted) - 1 - pos if self._descending else pos

    def row_at(self, row: int):
        """The PredictionRow at display row ``row``."""
        return self._rows[self.input_index(row)]

    def item_at(self, row: int):
        """The input behind display row ``row``, or None when rows came without items."""
        i = self.input_index(row)
        return self._items[i] if i < len(self._items) else None

    def set_items(self, items) -> None:
        """Start over for a new run over ``items`` (no rows yet)."""
        self.set_rows([], items)

    def set_rows(self, rows, items=None) -> None:
        """Replace everything: ``rows`` and optionally the ``items`` behind them (in input order)."""
        self.beginResetModel()
        self._rows = list(rows)
        self._items = list(items) if items is not None else []
        self.thumbnails.reset(self._items)
        self._sorted = self._sorted_entries() if self._sort_column >= 0 else []
        self.endResetModel()

    def append_rows(self, rows) -> None:
        """Add a batch of rows (the next inputs in input order); while sorted, they go into place.

        Qt's proxy and view pay a pass over all rows for every insert and for every layout
        change (100,000 rows: ~0.25 ms an insert, ~55 ms a layout change, mostly the proxy
        asking ``filterAcceptsRow`` of each row). So while sorted, a few rows are inserted one
        by one where they belong, and many (a GPU's batches) are inserted at the end in one go
        and then moved into place by one layout change.
        """
        if not rows:
            return
        self.rows_about_to_append.emit()
        first = len(self._rows)
        if self._sort_column >= 0 and len(rows) < MANY_ROWS:
            for offset, row in enumerate(rows):
                entry = self._entry(row, first + offset)
                pos = bisect_right(self._sorted, entry)
                shown = len(self._sorted) - pos if self._descending else pos
                self.beginInsertRows(QModelIndex(), shown, shown)
                self._rows.append(row)
                self._sorted.insert(pos, entry)
                self.endInsertRows()
        else:
            self.beginInsertRows(QModelIndex(), first, first + len(rows) - 1)
            self._rows.extend(rows)
            self.endInsertRows()
            if self._sort_column >= 0:
                entries = [self._entry(row, first + offset) for offset, row in enumerate(rows)]
                self._relayout(lambda: (self._sorted.extend(entries), self._sorted.sort()))  # timsort merges the runs
        self.rows_appended.emit(len(rows))

    def clear(self) -> None:
        self.set_rows([], [])

    @property
    def labels(self):
        return self._labels

    def set_labels(self, labels) -> None:
        """Show (and edit) the true sums of ``labels`` (a ``FolderLabels``, or None)."""
        if labels is not self._labels:  # another folder's, or read again: the old steps do not apply
            self.undo_stack.clear()
        self._labels = labels
        self._true_sums_changed()

    def labels_restored(self) -> None:
        """The labels were put back by an undo or redo: show them (``labels_changed`` follows)."""
        self._true_sums_changed()
        self.labels_changed.emit()

    def _true_sums_changed(self) -> None:
        if self._sort_column == Column.TRUE_SUM:  # keep the order true to the column
            self.sort(
                self._sort_column, Qt.SortOrder.DescendingOrder if self._descending else Qt.SortOrder.AscendingOrder
            )
        if self._rows:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._rows) - 1, len(Column) - 1))

    def _recolour(self, *_) -> None:
        if self._rows:
            colours = [Qt.ItemDataRole.BackgroundRole, Qt.ItemDataRole.ForegroundRole]
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._rows) - 1, len(Column) - 1), colours)

    def thumbnail_when_ready(self, input_index: int, urgent: bool = False) -> QPixmap | None:
        """The thumbnail of input ``input_index`` (168x40) if cached, else None and a read
        (``Thumbnails.when_ready``; ``urgent``: the detail pane's own reader).

        ``thumbnail_ready(input_index)`` and a ``dataChanged`` for its cell follow the read,
        so neither a paint nor a click waits for a disk. None also for an unreadable file.
        """
        return self.thumbnails.when_ready(input_index, urgent)

    def is_reading(self, input_index: int) -> bool:
        """True while the thumbnail of ``input_index`` is being read for ``thumbnail_when_ready``."""
        return self.thumbnails.is_reading(input_index)

    def stop_reading(self) -> None:
        """Drop the thumbnail reads still queued (scrolling far queues many) and let the readers end."""
        self.thumbnails.stop()

    def _on_thumbnail_ready(self, input_index: int) -> None:
        row = self.display_row(input_index)
        if row is not None:
            cell = self.index(row, Column.THUMBNAIL)
            self.dataChanged.emit(cell, cell, [Qt.ItemDataRole.DecorationRole])
        self.thumbnail_ready.emit(input_index)

    def _key(self, row, index: int, column: int):
        return sort_key(row, index, column, self._labels)

    def _entry(self, row, index: int) -> tuple:
        return (self._key(row, index, self._sort_column), -index if self._descending else index)

    def _sorted_entries(self) -> list[tuple]:
        # _entry for every row, with the column's key looked up once (100,000 rows: ~10% of the sort)
        key, labels, sign = COLUMNS[Column(self._sort_column)].sort_key, self._labels, -1 if self._descending else 1
        return sorted((key(row, i, labels), sign * i) for i, row in enumerate(self._rows))

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Order the display by ``column`` (-1: input order), keeping selections in place."""
        column = column if 0 <= column < len(Column) else -1

        def reorder():
            self._sort_column = column
            self._descending = order == Qt.SortOrder.DescendingOrder
            self._sorted = self._sorted_entries() if column >= 0 else []

        self._relayout(reorder)

    def _relayout(self, reorder) -> None:
        """Run ``reorder()`` (a new display order, same rows) as one layout change; persistent
        indexes (selection, current row) stay on their inputs."""
        self.layoutAboutToBeChanged.emit()
        persistent = self.persistentIndexList()
        before = [self.input_index(p.row()) for p in persistent]
        reorder()
        if persistent:  # (every input has a display row: a true-sum edit re-sorts before anything else)
            self.changePersistentIndexList(
                persistent,
                [self.index(self.display_row(i), p.column()) for i, p in zip(before, persistent, strict=True)],
            )
        self.layoutChanged.emit()

    # --- the Qt side ---------------------------------------------------------------------------
    def rowCount(self, parent: _INDEX = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _INDEX = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(Column)

    def flags(self, index: _INDEX) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren
        if index.column() == Column.TRUE_SUM and self._labels is not None and 0 <= index.row() < len(self._rows):
            if not self.row_at(index.row()).error:  # an unreadable image cannot be trained on
                flags |= Qt.ItemFlag.ItemIsEditable
        return flags

    def setData(self, index: _INDEX, value, role: int = Qt.ItemDataRole.EditRole) -> bool:
        """Save a true sum (0..36; None, "" or -1 forgets it) to the folder's labels at once."""
        if role != Qt.ItemDataRole.EditRole or not index.isValid() or index.column() != Column.TRUE_SUM:
            return False
        if not self.flags(index) & Qt.ItemFlag.ItemIsEditable:
            return False
        row = self.row_at(index.row())
        with self.undo_stack.recording(f"True Sum of {row.file}"):
            problem = corrections.save_true_sum(self._labels, row, value)
        if problem:
            self.labels_failed.emit(problem)
            return False
        self.dataChanged.emit(index.siblingAtColumn(0), index.siblingAtColumn(len(Column) - 1))
        if self._sort_column == Column.TRUE_SUM:
            self._true_sums_changed()
        self.labels_changed.emit()
        self.true_sum_saved.emit(row.file, corrections.known_sum(self._labels, row))
        return True

    def forget_true_sums(self, rows: list[int], what: str) -> int:
        """Forget the true sums of these (source) rows in one write and one undo step named ``what``.

        Returns how many were forgotten (0, said through ``labels_failed``, when the file could
        not be written). One write, not one per row: 1,500 rows took ~5 s of rewriting labels.csv.
        """
        from core.errors import reason
        from core.files import WriteError

        rows = [
            r
            for r in rows
            if self.flags(self.index(r, Column.TRUE_SUM)) & Qt.ItemFlag.ItemIsEditable
            and corrections.known_sum(self._labels, self.row_at(r)) is not None
        ]
        if not rows:
            return 0
        with self.undo_stack.recording(what):
            try:
                self._labels.forget(self.row_at(r).file for r in rows)
            except (WriteError, OSError) as exc:
                self.labels_failed.emit(f"The true sums were not cleared: {reason(exc)}")
                return 0
        self.dataChanged.emit(self.index(min(rows), 0), self.index(max(rows), len(Column) - 1))
        if self._sort_column == Column.TRUE_SUM:
            self._true_sums_changed()
        self.labels_changed.emit()
        # (saved beside the folder, a sum that came with its labels.csv still shows: not cleared)
        return sum(corrections.known_sum(self._labels, self.row_at(r)) is None for r in rows)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal:
            return COLUMNS[Column(section)].header if 0 <= section < len(Column) else None
        return str(section + 1)

    def data(self, index: _INDEX, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self._rows) or not 0 <= index.column() < len(Column):
            return None
        i = self.input_index(index.row())
        row, column = self._rows[i], Column(index.column())
        if column == Column.TRUE_SUM and role in (
            Qt.ItemDataRole.DisplayRole,
            Qt.ItemDataRole.EditRole,
            Qt.ItemDataRole.ToolTipRole,
            Qt.ItemDataRole.FontRole,
        ):
            return corrections.true_sum_cell(self._labels, row, role)
        if role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[column].display(row)
        if role == Qt.ItemDataRole.DecorationRole:
            return self.thumbnail_when_ready(i) if column == Column.THUMBNAIL else None
        if role == Qt.ItemDataRole.ToolTipRole:
            if row.error:
                return f"{row.file}: {row.error}"
            return COLUMNS[column].tooltip(row, self._items[i] if i < len(self._items) else None)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            if COLUMNS[column].numeric:
                return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            return int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.BackgroundRole:
            if row.error:
                return ERROR_BACKGROUND
            if colours := corrections.truth_colours(self._labels, row):  # typed, or from labels.csv
                return colours[0]
            return DOUBT_BACKGROUND if self.doubtful(row) else None
        if role == Qt.ItemDataRole.ForegroundRole:
            if row.error:
                return ERROR_FOREGROUND
            if colours := corrections.truth_colours(self._labels, row):
                return colours[1]
            return DOUBT_FOREGROUND if self.doubtful(row) else None
        if role == SortRole:
            return self._key(row, i, column)
        if role == RowRole:
            return row
        return None


class PredictionFilterProxyModel(QSortFilterProxyModel):
    """Sorting and filtering for the table view, over a ``PredictionTableModel``.

    ``sort()`` is handed to the table model (see the module docstring: a Python ``lessThan``
    is far too slow for 100,000 rows); this proxy itself only filters. Filters combine (all
    must hold): ``text`` is a case-insensitive substring of the file name; ``errors_only``
    keeps unreadable files; ``confidence_below`` keeps rows whose confidence is below it, and
    error rows (they have none: the most doubtful of all).
    """

    def __init__(self, parent=None):
        super().__init__(parent)
        self._text = ""
        self._errors_only = False
        self._confidence_below: float | None = None
        self.setSortRole(SortRole)

    @property
    def filtering(self) -> bool:
        return bool(self._text or self._errors_only or self._confidence_below is not None)

    def set_filter(
        self, text: str | None = None, errors_only: bool | None = None, confidence_below: float | None | bool = False
    ) -> None:
        """Change any of the filters (arguments left out keep their value).

        ``confidence_below=None`` turns that filter off (``False``, the default, leaves it).
        """
        self.beginFilterChange()
        if text is not None:
            self._text = text.strip().casefold()
        if errors_only is not None:
            self._errors_only = bool(errors_only)
        if confidence_below is not False:
            self._confidence_below = confidence_below
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        source = self.sourceModel()
        if source is not None:
            source.sort(column, order)

    def source_row(self, proxy_row: int):
        """The PredictionRow shown at ``proxy_row`` of this proxy."""
        source = self.sourceModel()
        return source.row_at(self.mapToSource(self.index(proxy_row, 0)).row())

    def filterAcceptsRow(self, source_row: int, source_parent: _INDEX) -> bool:
        if not self.filtering:  # the common case stays cheap with 100,000 rows
            return True
        row = self.sourceModel().row_at(source_row)
        if self._text and self._text not in row.file.casefold():
            return False
        if self._errors_only and not row.error:
            return False
        if self._confidence_below is not None and not is_doubtful(row, self._confidence_below):
            return False
        return True
