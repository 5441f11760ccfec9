"""Model > Manage models: every trained model in the store, and which one is in use.

Lists the store's runs (newest first), then the bundled default model and the model in use
when it is a file from elsewhere. Switch to one, reveal its folder in the file manager, or
delete a run (never the model in use, never a file outside the store).

Accuracy figures say what they were measured on (``digitsum_gui.figures``): a run's own
validation images and a held-out set are different columns, each with its image count and
interval, so a validation figure on 100 images is never read as a rival of a held-out one
on 10,000. Two models are compared on the same images in the Retrain dialog.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from core.store import DEFAULT_MODEL, StoreError, same_file
from digitsum_gui.dialogs import open_or_offer_copy, show_error
from digitsum_gui.figures import figures_tooltip, model_figures

COLUMNS = ("Created", "Model", "Network", "Training images", "Validation (own images)", "Held-out", "In use")
VAL_COLUMN, HELDOUT_COLUMN, IN_USE_COLUMN = 4, 5, 6
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


def _home_relative(path: Path) -> str:
    """``~/.local/share/digitsum/runs``: shorter, and the same on every account."""
    try:
        return str(Path("~") / Path(path).relative_to(Path.home()))
    except ValueError:
        return str(path)


def figure_cells(meta) -> tuple[str, str]:
    """The validation and held-out cells of a model: ``98.6% of 4,000 (±0.4)``, ``held-out digits 98.9% of ...``."""
    figures = model_figures((meta or {}).get("metrics"))
    val = next((f.value_text(always_margin=True) for f in figures if f.key == "val_acc"), "\u2014")
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

    def __init__(self, store, current=None, parent=None):
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
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)  # names and figures whole
        for column, tip in HEADER_TIPS.items():
            self.table.horizontalHeaderItem(column).setToolTip(tip)
        self.note = QLabel(NOTE)
        self.note.setWordWrap(True)
        self.where = QLabel(f"Trained models are kept in {_home_relative(store.runs_dir)}")
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
        self.resize(min(1200, self.screen().availableGeometry().width() - 40), 400)

    # --- listing -------------------------------------------------------------------------------
    @Slot()
    def refresh(self) -> None:
        """Re-read the store, keeping the selected model selected."""
        keep = self.selected()
        self.models = self.store.models(extra=(DEFAULT_MODEL, self.current))
        self.table.setRowCount(len(self.models))
        bold = QFont()
        bold.setBold(True)
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
                    item.setFont(bold)
                self.table.setItem(r, c, item)
        row = next((r for r, m in enumerate(self.models) if keep is not None and same_file(m.path, keep.path)), None)
        if row is None:
            rows_in_use = (r for r, m in enumerate(self.models) if same_file(m.path, self.current))
            row = next(rows_in_use, 0 if self.models else None)
        if row is not None:
            self.table.selectRow(row)
        self._update_buttons()

    def set_current(self, path) -> None:
        """Mark ``path`` as the model in use."""
        self.current = Path(path) if path is not None else None
        self.refresh()

    def selected(self):
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        if not rows or rows[0].row() >= len(self.models):
            return None
        return self.models[rows[0].row()]

    def select_path(self, path) -> bool:
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
        except (StoreError, OSError) as exc:
            show_error(self, "Cannot delete", str(exc))
            return False
        return True
