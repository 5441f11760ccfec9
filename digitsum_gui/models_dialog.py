"""Model > Manage models: every trained model in the store, and which one is in use.

Lists the store's runs (newest first), then the bundled default model and the model in use
when it is a file from elsewhere. Switch to one, reveal its folder in the file manager, or
delete a run (never the model in use, never a file outside the store).

Accuracy figures say what they were measured on (``digitsum_gui.model_figures``): a run's own
validation images and a held-out set are different columns, each with its image count and
interval, so a validation figure on 100 images is never read as a rival of a held-out one
on 10,000. Two models are compared on the same images in the Retrain dialog.

Every column stays in sight on a laptop at 1.5x (a 910 px wide screen): the long headers and
the date and held-out cells take two lines, and the model's name, the one long text left,
takes the room there is and is shortened in the middle (its tooltip has the whole path).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Qt, Signal, Slot
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QStyle,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from core.models.store import DEFAULT_MODEL, StoreError, same_file
from digitsum_gui.message_boxes import open_or_offer_copy, show_error
from digitsum_gui.model_figures import figures_tooltip, model_figures
from digitsum_gui.paths import home_relative
from digitsum_gui.style import bold

COLUMNS = ("Created", "Model", "Network", "Training\nimages", "Validation\n(own images)", "Held-out", "In use")
CREATED_COLUMN, MODEL_COLUMN, VAL_COLUMN, HELDOUT_COLUMN, IN_USE_COLUMN = 0, 1, 4, 5, 6
MODEL_MIN = 240  # px for the model's name before the figures take two lines (bundled: ~280 px)
TWO_LINE_COLUMNS = (CREATED_COLUMN, HELDOUT_COLUMN)  # "2026-12-01 / 15:30", "writers it never saw / 98.3% ..."
HEADER_TIPS = {
    VAL_COLUMN: "Accuracy on the run's own validation images, used to pick its best epoch. Each run has its "
    "own set: compare two runs on it only in the Retrain dialog, which scores both on the same images.",
    HELDOUT_COLUMN: "Accuracy on images kept out of training. \u201cwriters it never saw\u201d: strangers' hands "
    "(what to expect on new handwriting); \u201cheld-out digits\u201d: digits never trained on, "
    "by writers it did see (higher).",
}
NOTE = (
    "Each figure says what it was measured on and how many images (\u00b1: its 95% interval). "
    "A validation figure and a held-out one are not comparable."
)

if TYPE_CHECKING:
    from core.models.store import StoredModel
    from digitsum_gui.model_store import ModelStore


def two_line_width(text: str, metrics: QFontMetrics) -> int:
    """The least width in which ``text`` wraps at a space into two lines (one, without a space)."""
    words = text.split(" ")
    return min(
        max(metrics.horizontalAdvance(" ".join(words[:cut])), metrics.horizontalAdvance(" ".join(words[cut:])))
        for cut in range(1, len(words) + 1)
    )


def figure_cells(meta: dict | None) -> tuple[str, str]:
    """The validation and held-out cells of a model: ``98.6% of 4,000 (±0.4)``, ``held-out digits 98.9% of ...``."""
    figures = model_figures((meta or {}).get("metrics"))
    val = next((f.value_text(always_margin=True) for f in figures if f.key == "val_acc"), "\u2014")
    if ((meta or {}).get("metrics") or {}).get("partial"):  # a run stopped in its first epoch kept what it had
        val += ", epoch cut short"
    held = next((f"{f.name} {f.value_text(always_margin=True)}" for f in figures if f.key != "val_acc"), "\u2014")
    return val, held


class ModelsDialog(QDialog):
    """The Manage models dialog.

    Parameters
    ----------
    store : digitsum_gui.model_store.ModelStore
    current : str or Path or None
        The model file in use.

    Signals
    -------
    model_switch_requested(Path)
    """

    model_switch_requested = Signal(Path)

    def __init__(self, store: ModelStore, current: str | os.PathLike | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Manage models")
        self.store = store
        self.current = Path(current) if current is not None else None
        self.models: list = []
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(True)
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)  # a run's name keeps its time and network
        rows = self.table.verticalHeader()
        rows.setVisible(False)
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)  # rows alike: one line high, or two (_fit_columns)
        self._row_height = rows.defaultSectionSize()  # the style's, for one line
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)  # figures whole
        header.setSectionResizeMode(MODEL_COLUMN, QHeaderView.ResizeMode.Stretch)
        for column in TWO_LINE_COLUMNS:
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Fixed)
        self.table.viewport().installEventFilter(self)  # its width decides one line or two (_fit_columns)
        for column, tip in HEADER_TIPS.items():
            self.table.horizontalHeaderItem(column).setToolTip(tip)
        self.note = QLabel(NOTE)
        self.note.setWordWrap(True)
        self.where = QLabel(f"Trained models are kept in {home_relative(store.runs_dir)}")
        self.where.setToolTip(str(store.runs_dir))
        self.where.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.use_button = QPushButton("Use this model")
        self.reveal_button = QPushButton("Show in file manager")
        self.delete_button = QPushButton("Delete\u2026")
        close = QPushButton("Close")

        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.note)
        layout.addWidget(self.where)
        row = QHBoxLayout()
        for b in (self.use_button, self.reveal_button, self.delete_button):
            row.addWidget(b)
        row.addStretch(1)
        row.addWidget(close)
        layout.addLayout(row)

        self.use_button.clicked.connect(self.use_selected)
        self.reveal_button.clicked.connect(self.reveal_selected)
        self.delete_button.clicked.connect(lambda: self.delete_selected())
        close.clicked.connect(self.close)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.table.doubleClicked.connect(lambda _index: self.use_selected())
        store.changed.connect(self.refresh)
        self.refresh()
        self.resize(min(1200, self.screen().availableGeometry().width() - 20), 400)

    # --- listing -------------------------------------------------------------------------------
    @Slot()
    def refresh(self) -> None:
        """Re-read the store, keeping the selected model selected."""
        keep = self.selected()
        self.models = self.store.models(extra=(DEFAULT_MODEL, self.current))
        self.table.setRowCount(len(self.models))
        in_use_font = bold()
        for r, m in enumerate(self.models):
            in_use = same_file(m.path, self.current)
            val, held = figure_cells(m.meta)
            cells = (
                m.created.strftime("%Y-%m-%d %H:%M") if m.created else "",
                m.label,
                f"{m.arch}/{m.head}",
                f"{m.train_images:,}" if isinstance(m.train_images, int) else "\u2014",
                val,
                held,
                "\u2714 in use" if in_use else "",
            )
            figures = f"{m.path}\n\n{figures_tooltip(m.meta.get('metrics'), m.meta.get('digit_split'))}"
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(figures if c in (VAL_COLUMN, HELDOUT_COLUMN) else str(m.path))
                if c in (3, VAL_COLUMN, HELDOUT_COLUMN):
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if in_use:
                    item.setFont(in_use_font)
                self.table.setItem(r, c, item)
        row = next((r for r, m in enumerate(self.models) if keep is not None and same_file(m.path, keep.path)), None)
        if row is None:
            rows_in_use = (r for r, m in enumerate(self.models) if same_file(m.path, self.current))
            row = next(rows_in_use, 0 if self.models else None)
        if row is not None:
            self.table.selectRow(row)
        self._fit_columns()
        self._update_buttons()

    def _fit_columns(self) -> None:
        """Every cell on one line where the table is wide enough for them; else the date and
        held-out cells wrap at a space into two lines, as wide as their wider half."""
        metrics = QFontMetrics(bold(self.table.font()))  # the row in use is bold, and any row may be the one in use
        # the delegate's text margins, each side (Qt: the focus frame's margin, plus one)
        pad = 2 * (self.table.style().pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, self.table) + 1) + 4
        header = self.table.horizontalHeader()

        def widest(column: int, measure: Callable[[str], int]) -> int:
            cells = (self.table.item(r, column).text() for r in range(self.table.rowCount()))
            most = max((measure(text) for text in cells if text), default=0)
            return max(most + pad, header.sectionSizeFromContents(column).width())

        widths = {c: widest(c, metrics.horizontalAdvance) for c in TWO_LINE_COLUMNS}  # one line each
        others = sum(
            max(self.table.sizeHintForColumn(c), header.sectionSizeFromContents(c).width())
            for c in range(len(COLUMNS))
            if c not in TWO_LINE_COLUMNS and c != MODEL_COLUMN
        )
        # the name may wrap or be shortened; the figures had better not
        model = min(widest(MODEL_COLUMN, metrics.horizontalAdvance), MODEL_MIN)
        wrap = others + sum(widths.values()) + model > self.table.viewport().width()
        if wrap:
            widths = {c: widest(c, lambda text: two_line_width(text, metrics)) for c in TWO_LINE_COLUMNS}
        for column, width in widths.items():
            header.resizeSection(column, width)
        self.table.verticalHeader().setDefaultSectionSize(
            self._row_height + (self.table.fontMetrics().lineSpacing() if wrap else 0)
        )

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.table.viewport() and event.type() == QEvent.Type.Resize:
            self._fit_columns()  # the room the table has now: on one line, or two
        return super().eventFilter(watched, event)

    def set_current(self, path: str | os.PathLike | None) -> None:
        """Mark ``path`` as the model in use."""
        self.current = Path(path) if path is not None else None
        self.refresh()

    def selected(self) -> StoredModel | None:
        """The model of the selected row, or None."""
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        if not rows or rows[0].row() >= len(self.models):
            return None
        return self.models[rows[0].row()]

    def select_path(self, path: str | os.PathLike) -> bool:
        """Select the row of ``path``; False when it is not listed."""
        for r, m in enumerate(self.models):
            if same_file(m.path, path):
                self.table.selectRow(r)
                return True
        return False

    def _update_buttons(self) -> None:
        m = self.selected()
        in_use = m is not None and same_file(m.path, self.current)
        self.use_button.setEnabled(m is not None and not in_use)
        self.reveal_button.setEnabled(m is not None)
        self.delete_button.setEnabled(m is not None and m.in_store and not in_use)
        if in_use:
            tip = "The model in use cannot be deleted"
        elif m is not None and not m.in_store:
            tip = "Only trained runs of the store can be deleted"
        else:
            tip = ""
        self.delete_button.setToolTip(tip)

    # --- actions -------------------------------------------------------------------------------
    @Slot()
    def use_selected(self) -> None:
        m = self.selected()
        if m is not None and not same_file(m.path, self.current):
            self.model_switch_requested.emit(m.path)

    @Slot()
    def reveal_selected(self) -> bool:
        m = self.selected()
        if m is None:
            return False
        return open_or_offer_copy(self, m.folder, "folder")

    def delete_selected(self, confirm: bool = True) -> bool:
        """Delete the selected run after asking; returns True when it was deleted."""
        m = self.selected()
        if m is None:
            return False
        if confirm:
            # No is the default: Return, pressed out of habit, must not delete a model
            answer = QMessageBox.question(
                self,
                "Delete model",
                f"Delete {m.label} and its run folder?\n{m.folder}\nThis cannot be undone.",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                QMessageBox.StandardButton.No,
            )
            if answer != QMessageBox.StandardButton.Yes:
                return False
        try:
            self.store.delete(m.path, self.current)
        except StoreError as exc:
            show_error(self, "Cannot delete", str(exc))
            return False
        return True
