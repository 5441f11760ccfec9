"""The window's centre: filter bar and results table on the left, the detail pane on the right.

``ResultsView`` wires a ``PredictionTableModel`` (through its filter proxy) to the table's
view (``digitsum_gui.table.view``), keeps the detail pane on the current row, and
keeps that row where the person sees it while a sorted table takes in new rows. A legend
under the table says what the row colours mean, with the doubtful threshold the filter bar
sets. "Doubtful first" starts a review at the top: the least confident row, current and in view.

The detail pane has a fixed width (its loupe's), so it never takes room from the table row by
row. The table's columns from the thumbnail to the True sum come first: where the window is too
narrow for them and the pane both, the pane is hidden, and it comes back when the window is
widened (View > Detail Pane widens it, as far as the screen allows).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QPersistentModelIndex, QSettings, QSize, Qt, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from digitsum_gui.detail_pane import DetailPane
from digitsum_gui.empty_hint import EmptyHint
from digitsum_gui.filter_bar import FilterBar
from digitsum_gui.table.columns import Column
from digitsum_gui.table.filter_proxy import PredictionFilterProxyModel
from digitsum_gui.table.legend import doubtful_text, make_legend
from digitsum_gui.table.model import PredictionTableModel
from digitsum_gui.table.true_sum import TYPED, truth_source
from digitsum_gui.table.view import HEADER_STATE_VERSION, make_table_view

if TYPE_CHECKING:
    from PySide6.QtCore import QModelIndex

FILE_MIN = 140  # how far the File column gives way for the True sum (a pane shown on a narrow window)
DETAIL_GAP = 2  # px between the table (its margin: 4 more) and the detail pane


class ResultsView(QWidget):
    """Filter bar + table | detail pane.

    Parameters
    ----------
    model : PredictionTableModel
    proxy : PredictionFilterProxyModel
        Already set up over ``model``.

    Signals
    -------
    detail_shown(bool)
        The detail pane was shown or hidden (by ``set_detail_wanted``, or for room).
    """

    detail_shown = Signal(bool)

    def __init__(self, model: PredictionTableModel, proxy: PredictionFilterProxyModel, parent: QWidget | None = None):
        super().__init__(parent)
        self.model, self.proxy = model, proxy
        self.table_view = make_table_view(proxy)
        self.filter_bar = FilterBar(proxy)
        self.filter_bar.doubtful_first_requested.connect(self.sort_doubtful_first)
        self.detail = DetailPane()

        self.hint = EmptyHint()  # in place of the table until something is opened
        self.results_box = QWidget()
        layout = QVBoxLayout(self.results_box)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.filter_bar)
        layout.addWidget(self.table_view)
        self.legend = make_legend(model.doubtful.below)
        layout.addWidget(self.legend)
        self.left = QWidget()
        layout = QVBoxLayout(self.left)
        layout.setContentsMargins(4, 4, 4, 0)  # 4 px from the window edge, or from the pane
        layout.addWidget(self.hint)
        layout.addWidget(self.results_box)
        self.set_empty(True)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(DETAIL_GAP)
        layout.addWidget(self.left, 1)
        layout.addWidget(self.detail, 0)
        self.detail_wanted = True  # the user's choice (View > Detail Pane); a narrow window still hides it

        self._detail_input: int | None = None  # the input shown in the detail pane
        self.table_view.selectionModel().currentRowChanged.connect(self._show_current)
        model.modelReset.connect(self._show_current)
        model.thumbnail_ready.connect(self._on_thumbnail_ready)
        model.true_sum_saved.connect(self._update_truth)
        model.labels_changed.connect(self._update_truth)  # (Undo and Redo too)
        self._held = None  # (current index, its top in the viewport) while rows are being added
        model.rows_about_to_append.connect(self._hold_current_row)
        model.rows_appended.connect(self._restore_current_row)
        model.doubtful.changed.connect(self._doubtful_changed)

    def set_empty(self, empty: bool) -> None:
        """Show the first-run hint (nothing open) or the results."""
        self.hint.setVisible(empty)
        self.results_box.setVisible(not empty)

    def sort_doubtful_first(self) -> None:
        """Least confident first (unreadable files on top), and there the review starts: the top
        row current and in view, whatever was scrolled to or selected before, the focus on the
        table (the button took it) so the next key is the row's."""
        view = self.table_view
        view.sortByColumn(Column.CONFIDENCE, Qt.SortOrder.AscendingOrder)
        if self.proxy.rowCount():
            view.setCurrentIndex(self.proxy.index(0, Column.TRUE_SUM))  # selects the row
        view.scrollToTop()
        view.setFocus(Qt.FocusReason.OtherFocusReason)

    def _doubtful_changed(self, below: float) -> None:
        self.legend.findChild(QLabel, "doubtful").setText(doubtful_text(below))
        self.detail.doubtful_below = below
        self._show_current(self.table_view.currentIndex())  # its "(doubtful)" follows

    def select_first_if_none(self) -> None:
        """Select the top row unless the user has chosen one: the detail pane is never idle."""
        if self.proxy.rowCount() and not self.table_view.selectionModel().hasSelection():
            self.table_view.selectRow(0)

    def _hold_current_row(self) -> None:
        """Before rows arrive: remember where the current row is on screen, if it is there."""
        view, current = self.table_view, self.table_view.currentIndex()
        self._held = None
        if current.isValid():
            top = view.visualRect(current).top()
            if 0 <= top < view.viewport().height():
                self._held = (QPersistentModelIndex(current), top)

    def _restore_current_row(self, _count: int = 0) -> None:
        """After rows arrived (sorted rows go in above it too): scroll it back to where it was.

        The selection stays on its row by itself (persistent indexes); without this its row
        would slide down and out of view as rows are inserted above it.
        """
        held, self._held = self._held, None
        if held is None or not held[0].isValid():
            return
        view = self.table_view
        view.updateGeometries()  # the scroll range must cover the new rows before scrolling
        index = view.model().index(held[0].row(), held[0].column())
        shift = view.visualRect(index).top() - held[1]
        if shift:
            bar = view.verticalScrollBar()
            bar.setValue(bar.value() + shift)

    def restore_settings(self, settings: QSettings) -> None:
        version = settings.value("table_header_version", 1, type=int)
        if version == HEADER_STATE_VERSION and (header := settings.value("table_header")):
            self.table_view.horizontalHeader().restoreState(header)
        self.detail_wanted = settings.value("detail_pane", True, type=bool)
        self._show_detail(self.detail_wanted)  # until the first resize says whether it fits
        self.filter_bar.restore_settings(settings)

    def set_detail_wanted(self, on: bool) -> bool:
        """Show or hide the detail pane because the user said so (View > Detail Pane). A pane
        wanted but without room waits for the window to widen. Returns whether it shows."""
        self.detail_wanted = on
        self._show_detail(on and self.width() >= self.detail_room())
        return self.detail.isVisibleTo(self)

    def _show_detail(self, on: bool) -> None:
        if on != self.detail.isVisibleTo(self):
            self.detail.setVisible(on)
            self.detail_shown.emit(on)

    def true_sum_room(self) -> int:
        """px the table takes to show its columns from the thumbnail to the True sum whole: the
        columns, the table's frame and margin, and a vertical scroll bar."""
        view = self.table_view
        header = view.horizontalHeader()
        columns = header.sectionPosition(Column.TRUE_SUM) + header.sectionSize(Column.TRUE_SUM)
        margins = self.left.layout().contentsMargins()
        scroll_bar = view.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent, None, view)
        return columns + margins.left() + margins.right() + 2 * view.frameWidth() + scroll_bar

    def detail_room(self) -> int:
        """The width this view needs to show the detail pane beside the table up to the True sum."""
        table = max(self.true_sum_room(), self.left.minimumSizeHint().width())
        return table + DETAIL_GAP + self.detail.width()

    def minimumSizeHint(self) -> QSize:
        # the table's alone: the pane gives way to a narrow window rather than hold it wide
        return self.left.minimumSizeHint()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._show_detail(self.detail_wanted and self.width() >= self.detail_room())
        self.keep_true_sum_in_view()

    def keep_true_sum_in_view(self) -> None:
        """Make the True sum column show without scrolling sideways on a window narrower still:
        the File column narrows (down to ``FILE_MIN``)."""
        room = self.width() - (DETAIL_GAP + self.detail.width() if self.detail.isVisibleTo(self) else 0)
        short = self.true_sum_room() - room
        if short > 0:
            view = self.table_view
            view.setColumnWidth(Column.FILE, max(FILE_MIN, view.columnWidth(Column.FILE) - short))

    def save_settings(self, settings: QSettings) -> None:
        settings.setValue("table_header", self.table_view.horizontalHeader().saveState())  # column widths, sort
        settings.setValue("table_header_version", HEADER_STATE_VERSION)
        settings.setValue("detail_pane", self.detail_wanted)
        self.filter_bar.save_settings(settings)

    def _show_current(self, current: QModelIndex | None = None, _previous: QModelIndex | None = None) -> None:
        if current is None or not current.isValid():
            self._detail_input = None
            self.detail.show_row(None, None)
            return
        row = self.proxy.mapToSource(current).row()
        # the image comes from the thumbnail reader: a slow disk never stalls a click
        self._detail_input = i = self.model.input_index(row)
        self.detail.show_row(
            self.model.row_at(row),
            self.model.thumbnail_when_ready(i, urgent=True),
            self.model.is_reading(i),
            *self._truth_of(i),
        )

    def _truth_of(self, input_index: int) -> tuple:
        """(true sum or None, whether the open folder takes true sums, whether the sum was typed) of an input."""
        labels, row = self.model.labels, self.model.rows[input_index]
        if labels is None:
            return None, False, False
        return labels.sum_of(row.file), True, truth_source(labels, row) == TYPED

    def _update_truth(self, *_args) -> None:
        if self._detail_input is not None and self._detail_input < len(self.model.rows):
            self.detail.set_truth(self.model.rows[self._detail_input], *self._truth_of(self._detail_input))

    def _on_thumbnail_ready(self, input_index: int) -> None:
        if input_index == self._detail_input:
            self.detail.set_image(self.model.thumbnail_when_ready(input_index))
