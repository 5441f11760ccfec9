"""The results table: a Qt adapter over a plain Python list of ``core`` prediction rows.

``PredictionTableModel`` owns two parallel lists, ``items`` (what was listed, from
``core.inputs.listing.list_inputs``) and ``rows`` (``core.predict.rows.PredictionRow``, appended batch by
batch in the same input order), so row ``i`` of the table is always file ``items[i]``. It
creates no widget per row and no thumbnail until the view paints one, which keeps 100,000
rows as cheap as 100. Thumbnails are ``digitsum_gui.table.thumbnails``'s: read by a thread of
their own, they arrive as ``dataChanged`` for their cell, so a paint never waits for a disk.

What a cell shows, and whether and how it is edited, is its column's ``ColumnSpec``
(``digitsum_gui.table.columns``); the row's colours are ``digitsum_gui.table.row_colours``'s.
The model sorts itself (``digitsum_gui.table.display_order`` says why), keeping a display
order beside the input order; ``digitsum_gui.table.filter_proxy`` filters.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QPixmap

from digitsum_gui.doubtful import DoubtfulThreshold
from digitsum_gui.table.columns import COLUMNS, Column
from digitsum_gui.table.display_order import DisplayOrder
from digitsum_gui.table.row_colours import row_colours
from digitsum_gui.table.thumbnails import Thumbnails
from digitsum_gui.table.true_sum import known_sum
from digitsum_gui.undo import LabelsUndoStack

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence

    from PySide6.QtCore import QObject

    from core.inputs.listing import InputItem
    from core.labels.folder_labels import FolderLabels
    from core.predict.rows import PredictionRow

MANY_ROWS = 256  # appended while sorted: from this many on, one layout change beats inserts one by one

SortRole = Qt.ItemDataRole.UserRole + 1  # a plain number or string that orders the column
RowRole = Qt.ItemDataRole.UserRole + 2  # the PredictionRow itself

_INDEX = QModelIndex | QPersistentModelIndex


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
    by ``set_labels``): an edit is validated (0..36, or empty to forget) and saved at once, by
    the column's ``ColumnSpec.save``.

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

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._items: list = []  # core.inputs.listing.InputItem, input order
        self._rows: list = []  # core.predict.rows.PredictionRow, same order, possibly fewer
        self.thumbnails = Thumbnails(self)
        self.thumbnails.ready.connect(self._on_thumbnail_ready)
        self._order = DisplayOrder()  # which input each display row shows
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
        return self._order.column

    def input_index(self, row: int) -> int:
        """The input index shown at display row ``row``."""
        return self._order.input_index(row)  # (while sorted, new rows are shown last until ``append_rows`` places them)

    def display_row(self, input_index: int) -> int | None:
        """Where input ``input_index`` is shown, by bisection while sorted; None if it has no row yet."""
        if input_index >= len(self._rows):
            return None
        if not self._order.placed(input_index):
            return input_index
        return self._order.display_row(self._key(self._rows[input_index], input_index), input_index)

    def row_at(self, row: int):
        """The PredictionRow at display row ``row``."""
        return self._rows[self.input_index(row)]

    def item_at(self, row: int):
        """The input behind display row ``row``, or None when rows came without items."""
        i = self.input_index(row)
        return self._items[i] if i < len(self._items) else None

    def set_items(self, items: Iterable[InputItem]) -> None:
        """Start over for a new run over ``items`` (no rows yet)."""
        self.set_rows([], items)

    def set_rows(self, rows: Iterable[PredictionRow], items: Iterable[InputItem] | None = None) -> None:
        """Replace everything: ``rows`` and optionally the ``items`` behind them (in input order)."""
        self.beginResetModel()
        self._rows = list(rows)
        self._items = list(items) if items is not None else []
        self.thumbnails.reset(self._items)
        self._order.resort(self._keys())
        self.endResetModel()

    def append_rows(self, rows: Sequence[PredictionRow]) -> None:
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
        order = self._order
        if order.is_sorted and len(rows) < MANY_ROWS:
            for index, row in enumerate(rows, first):
                key = self._key(row, index)
                shown = order.row_for(key, index)
                self.beginInsertRows(QModelIndex(), shown, shown)
                self._rows.append(row)
                order.insert(key, index)
                self.endInsertRows()
        else:
            self.beginInsertRows(QModelIndex(), first, first + len(rows) - 1)
            self._rows.extend(rows)
            self.endInsertRows()
            if order.is_sorted:
                keyed = [(self._key(row, index), index) for index, row in enumerate(rows, first)]
                self._relayout(lambda: order.extend(keyed))
        self.rows_appended.emit(len(rows))

    def clear(self) -> None:
        self.set_rows([], [])

    @property
    def labels(self):
        return self._labels

    def set_labels(self, labels: FolderLabels | None) -> None:
        """Show (and edit) the true sums of ``labels`` (a ``FolderLabels``, or None)."""
        if labels is not self._labels:  # another folder's, or read again: the old steps do not apply
            self.undo_stack.clear()
        self._labels = labels
        self._labels_shown_changed()

    def labels_restored(self) -> None:
        """The labels were put back by an undo or redo: show them (``labels_changed`` follows)."""
        self._labels_shown_changed()
        self.labels_changed.emit()

    def _sorted_by_labels(self) -> bool:
        """Whether the display is sorted by a column that shows the labels (the True sum)."""
        return self._order.is_sorted and COLUMNS[Column(self._order.column)].shows_labels

    def _labels_shown_changed(self) -> None:
        if self._sorted_by_labels():  # keep the order true to the column
            self._relayout(lambda: self._order.resort(self._keys()))
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

    def _key(self, row: PredictionRow, index: int, column: int | None = None):
        """What ``row`` (input ``index``) sorts by in ``column`` (None: the column sorted by now)."""
        column = self._order.column if column is None else column
        return COLUMNS[Column(column)].sort_key(row, index, self._labels)

    def _keys(self, column: int | None = None):
        """The sort keys of every row in input order in ``column`` (None: the column sorted by now;
        -1, input order: none)."""
        column = self._order.column if column is None else column
        if column < 0:
            return ()
        # the column's key looked up once (100,000 rows: ~10% of the sort)
        key, labels = COLUMNS[Column(column)].sort_key, self._labels
        return (key(row, i, labels) for i, row in enumerate(self._rows))

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Order the display by ``column`` (-1: input order), keeping selections in place."""
        column = column if 0 <= column < len(Column) else -1

        def reorder():
            self._order.sort(column, order == Qt.SortOrder.DescendingOrder, self._keys(column))

        self._relayout(reorder)

    def _relayout(self, reorder: Callable[[], object]) -> None:
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
        if not 0 <= index.column() < len(Column) or not 0 <= index.row() < len(self._rows):
            return flags
        spec = COLUMNS[Column(index.column())]
        if spec.save is not None and spec.editable(self.row_at(index.row()), self._labels):
            flags |= Qt.ItemFlag.ItemIsEditable
        return flags

    def setData(self, index: _INDEX, value: object, role: int = Qt.ItemDataRole.EditRole) -> bool:
        """Save an edit at once through its column's ``ColumnSpec.save``: for the True sum, a sum
        0..36 (None, "" or -1 forgets it) into the folder's labels. One undo step each."""
        if role != Qt.ItemDataRole.EditRole or not index.isValid():
            return False
        if not self.flags(index) & Qt.ItemFlag.ItemIsEditable:
            return False
        spec, row = COLUMNS[Column(index.column())], self.row_at(index.row())
        with self.undo_stack.recording(f"{spec.edit_name} of {row.file}"):
            problem = spec.save(row, self._labels, value)
        if problem:
            self.labels_failed.emit(problem)
            return False
        self.dataChanged.emit(index.siblingAtColumn(0), index.siblingAtColumn(len(Column) - 1))
        if self._sorted_by_labels():
            self._labels_shown_changed()
        self.labels_changed.emit()
        self.true_sum_saved.emit(row.file, spec.value(row, self._labels))
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
            and known_sum(self._labels, self.row_at(r)) is not None
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
        if self._sorted_by_labels():
            self._labels_shown_changed()
        self.labels_changed.emit()
        # (saved beside the folder, a sum that came with its labels.csv still shows: not cleared)
        return sum(known_sum(self._labels, self.row_at(r)) is None for r in rows)

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
        spec = COLUMNS[column]
        if role == Qt.ItemDataRole.DisplayRole:
            return spec.text(row, self._labels)
        if role == Qt.ItemDataRole.EditRole:
            return spec.value(row, self._labels)
        if role == Qt.ItemDataRole.DecorationRole:
            return self.thumbnail_when_ready(i) if spec.shows_thumbnail else None
        if role == Qt.ItemDataRole.ToolTipRole:
            return spec.tooltip(row, self._items[i] if i < len(self._items) else None, self._labels)
        if role == Qt.ItemDataRole.FontRole:
            return spec.font(row, self._labels)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            if spec.numeric:
                return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            return int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        if role in (Qt.ItemDataRole.BackgroundRole, Qt.ItemDataRole.ForegroundRole):
            colours = row_colours(row, self._labels, self.doubtful)
            return None if colours is None else colours[role == Qt.ItemDataRole.ForegroundRole]
        if role == SortRole:
            return self._key(row, i, column)
        if role == RowRole:
            return row
        return None
