"""The table's view: a ``QTableView`` set up for very long tables, its columns in display order.

Fixed row heights and no widget per row keep 100,000 rows fast; widths come from each
column's ``ColumnSpec`` (``digitsum_gui.table.columns``). ``digitsum_gui.results_view``
places it in the window, and saves and restores its header (``HEADER_STATE_VERSION``).
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView

from core.spec import IMAGE_HEIGHT, IMAGE_WIDTH
from digitsum_gui.table.columns import COLUMNS, Column
from digitsum_gui.table.filter_proxy import PredictionFilterProxyModel

ROW_HEIGHT = 44  # the 40 px thumbnail plus a little air
# The True sum, where the user types, beside the model's sum, where the eye compares them: never
# past the window's edge. The model's columns (``Column``) keep their order: the CSV export and
# the code that names columns do not change, only where the view shows them.
DISPLAY_ORDER = (
    Column.THUMBNAIL,
    Column.FILE,
    Column.SUM,
    Column.TRUE_SUM,
    Column.CONFIDENCE,
    Column.DIGITS,
    Column.ERROR,
)
# Saved header states (widths, order) of another version are not restored: version 1's put the
# True sum back at the end, stretched to the table's edge.
HEADER_STATE_VERSION = 2


def make_table_view(proxy: PredictionFilterProxyModel) -> QTableView:
    """A table view that stays fast with 100,000 rows: fixed row heights, no per-row widgets."""
    view = QTableView()
    view.setModel(proxy)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
    # typing on a row goes straight into an editable cell ("True sum"): no double-click needed
    view.setEditTriggers(
        QAbstractItemView.EditTrigger.DoubleClicked
        | QAbstractItemView.EditTrigger.EditKeyPressed
        | QAbstractItemView.EditTrigger.AnyKeyPressed
    )
    view.setIconSize(QSize(IMAGE_WIDTH, IMAGE_HEIGHT))  # thumbnails at the model's own size: no scaling blur
    view.setWordWrap(False)
    view.setTextElideMode(Qt.TextElideMode.ElideRight)  # error reasons read from the start; tooltips hold the rest
    view.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
    view.setTabKeyNavigation(False)  # Tab leaves the table for the next control; arrows move between cells
    rows = view.verticalHeader()
    rows.hide()
    # Fixed heights: the view never measures rows, which is what keeps 100,000 of them fast.
    rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    rows.setDefaultSectionSize(ROW_HEIGHT)
    header = view.horizontalHeader()
    header.setStretchLastSection(True)
    header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    for column, spec in COLUMNS.items():
        if spec.width is not None:
            view.setColumnWidth(column, spec.width)
    for place, column in enumerate(DISPLAY_ORDER):
        header.moveSection(header.visualIndex(column), place)
    header.setSortIndicatorClearable(True)  # a third click goes back to input order
    header.setSortIndicator(-1, Qt.SortOrder.AscendingOrder)  # start in input order
    view.setSortingEnabled(True)
    return view
