"""The window's centre: filter bar and results table on the left, the detail pane on the right.

``ResultsView`` wires a ``PredictionTableModel`` (through its filter proxy) to a
``QTableView`` set up for very long tables, and keeps the detail pane on the current row.
"""

from __future__ import annotations

from PySide6.QtCore import QSettings, QSize, Qt
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QSplitter, QTableView, QVBoxLayout, QWidget

from digitsum_gui.detail_pane import DetailPane
from digitsum_gui.filter_bar import FilterBar
from digitsum_gui.table_model import Column, PredictionFilterProxyModel, PredictionTableModel

ROW_HEIGHT = 44  # the 40 px thumbnail plus a little air
COLUMN_WIDTHS = {Column.THUMBNAIL: 178, Column.FILE: 240, Column.SUM: 56, Column.CONFIDENCE: 96, Column.DIGITS: 96}


def make_table_view(proxy: PredictionFilterProxyModel) -> QTableView:
    """A table view that stays fast with 100,000 rows: fixed row heights, no per-row widgets."""
    view = QTableView()
    view.setModel(proxy)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
    view.setIconSize(QSize(168, 40))  # thumbnails at the model's own size: no scaling blur
    view.setWordWrap(False)
    view.setTextElideMode(Qt.TextElideMode.ElideRight)  # error reasons read from the start; tooltips hold the rest
    view.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
    rows = view.verticalHeader()
    rows.hide()
    # Fixed heights: the view never measures rows, which is what keeps 100,000 of them fast.
    rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    rows.setDefaultSectionSize(ROW_HEIGHT)
    header = view.horizontalHeader()
    header.setStretchLastSection(True)
    header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    for column, width in COLUMN_WIDTHS.items():
        view.setColumnWidth(column, width)
    header.setSortIndicatorClearable(True)  # a third click goes back to input order
    header.setSortIndicator(-1, Qt.SortOrder.AscendingOrder)  # start in input order
    view.setSortingEnabled(True)
    return view


class ResultsView(QSplitter):
    """Filter bar + table | detail pane.

    Parameters
    ----------
    model : PredictionTableModel
    proxy : PredictionFilterProxyModel
        Already set up over ``model``.
    """

    def __init__(self, model: PredictionTableModel, proxy: PredictionFilterProxyModel, parent=None):
        super().__init__(Qt.Orientation.Horizontal, parent)
        self.model, self.proxy = model, proxy
        self.table_view = make_table_view(proxy)
        self.filter_bar = FilterBar(proxy)
        self.filter_bar.doubtful_first_requested.connect(self.sort_doubtful_first)
        self.detail = DetailPane()

        left = QWidget()
        layout = QVBoxLayout(left)
        layout.setContentsMargins(4, 4, 0, 0)
        layout.addWidget(self.filter_bar)
        layout.addWidget(self.table_view)
        self.addWidget(left)
        self.addWidget(self.detail)
        self.setStretchFactor(0, 1)
        self.setStretchFactor(1, 0)
        self.setSizes([960, 420])

        self._detail_input: int | None = None  # the input shown in the detail pane
        self.table_view.selectionModel().currentRowChanged.connect(self._show_current)
        model.modelReset.connect(self._show_current)
        model.thumbnail_ready.connect(self._on_thumbnail_ready)

    def sort_doubtful_first(self) -> None:
        self.table_view.sortByColumn(Column.CONFIDENCE, Qt.SortOrder.AscendingOrder)

    def select_first_if_none(self) -> None:
        """Select the top row unless the user has chosen one: the detail pane is never idle."""
        if self.proxy.rowCount() and not self.table_view.selectionModel().hasSelection():
            self.table_view.selectRow(0)

    def restore_settings(self, settings: QSettings) -> None:
        if header := settings.value("table_header"):
            self.table_view.horizontalHeader().restoreState(header)
        if splitter := settings.value("splitter"):
            self.restoreState(splitter)

    def save_settings(self, settings: QSettings) -> None:
        settings.setValue("table_header", self.table_view.horizontalHeader().saveState())  # column widths, sort
        settings.setValue("splitter", self.saveState())

    def _show_current(self, current=None, _previous=None) -> None:
        if current is None or not current.isValid():
            self._detail_input = None
            self.detail.show_row(None, None)
            return
        row = self.proxy.mapToSource(current).row()
        # the image comes from the thumbnail reader: a slow disk never stalls a click
        self._detail_input = i = self.model.input_index(row)
        self.detail.show_row(self.model.row_at(row), self.model.thumbnail_when_ready(i, urgent=True), self.model.is_reading(i))

    def _on_thumbnail_ready(self, input_index: int) -> None:
        if input_index == self._detail_input:
            self.detail.set_image(self.model.thumbnail_when_ready(input_index))
