"""The table's filters: file name, errors only, confidence below the doubtful threshold.

The proxy filters and hands ``sort()`` to the table model (``digitsum_gui.table.display_order``
says why: a Python ``lessThan`` is far too slow for 100,000 rows).
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, QSortFilterProxyModel, Qt

from digitsum_gui.doubtful import is_doubtful
from digitsum_gui.table.model import SortRole


class PredictionFilterProxyModel(QSortFilterProxyModel):
    """Sorting and filtering for the table view, over a ``PredictionTableModel``.

    Filters combine (all must hold): ``text`` is a case-insensitive substring of the file
    name; ``errors_only`` keeps unreadable files; ``confidence_below`` keeps rows whose
    confidence is below it, and error rows (they have none: the most doubtful of all).
    """

    def __init__(self, parent: QObject | None = None) -> None:
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

    def filterAcceptsRow(self, source_row: int, source_parent: QModelIndex | QPersistentModelIndex) -> bool:
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
