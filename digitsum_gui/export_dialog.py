"""The Export CSV dialog: which rows, whether to add the spreadsheet columns, then where.

The rows are all of them, those shown (after the filter), those selected, or the doubtful
ones, each with its count; the spreadsheet columns are ``digitsum_gui.exporting``'s (the
choice is remembered). Export... then asks for the file with the system's save dialog,
which asks before replacing one.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QGroupBox,
    QLabel,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from core.spec import DOUBTFUL_BELOW
from digitsum_gui.doubtful import format_threshold
from digitsum_gui.exporting import SCOPES
from digitsum_gui.paths import findable_folder

SPREADSHEET_NOTE = (
    "Adds confidence_text (as the table shows it: >99.99%), digits_text (0 4 5 9: a spreadsheet "
    "keeps the leading 0) and true_sum_from (typed, or labels.csv). The first columns stay "
    "exactly those of digitsum predict."
)

if TYPE_CHECKING:
    from digitsum_gui.exporting import Exporter


class ExportDialog(QDialog):
    """Which rows and columns to export.

    Parameters
    ----------
    counts : dict
        scope (``exporting.SCOPES``) -> how many rows it holds now; a scope without rows is
        offered disabled.
    spreadsheet : bool
        Whether the spreadsheet columns start ticked.
    doubtful_below : float
        The doubtful threshold the window uses now (the filter bar moves it), as a fraction.
    parent : QWidget, optional
    """

    def __init__(
        self,
        counts: dict[str, int],
        spreadsheet: bool,
        doubtful_below: float = DOUBTFUL_BELOW,
        parent: QWidget | None = None,
    ):
        super().__init__(parent)
        self.setWindowTitle("Export CSV")
        below = format_threshold(doubtful_below)
        texts = {
            "all": f"All rows ({counts['all']:,})",
            "shown": f"Rows shown ({counts['shown']:,}, after the filter)",
            "selected": f"Selected rows ({counts['selected']:,})",
            "doubtful": f"Doubtful rows ({counts['doubtful']:,}: unreadable or below {below})",
        }
        box = QGroupBox("Rows (in input order, whatever the table's sort)")
        rows_layout = QVBoxLayout(box)
        self.scope_buttons = QButtonGroup(self)
        self.scope_radios: dict[str, QRadioButton] = {}
        for scope in SCOPES:
            radio = QRadioButton(texts[scope])
            radio.setEnabled(counts[scope] > 0)
            self.scope_radios[scope] = radio
            self.scope_buttons.addButton(radio)
            rows_layout.addWidget(radio)
        self.scope_radios["all"].setChecked(True)
        self.spreadsheet_box = QCheckBox("Add columns for a spreadsheet")
        self.spreadsheet_box.setChecked(spreadsheet)
        note = QLabel(SPREADSHEET_NOTE)
        note.setWordWrap(True)
        note.setEnabled(False)  # a hint, drawn quieter
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.export_button = buttons.addButton("Export...", QDialogButtonBox.ButtonRole.AcceptRole)
        self.export_button.setDefault(True)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        for widget in (box, self.spreadsheet_box, note, buttons):
            layout.addWidget(widget)
        self.setMinimumWidth(420)

    def scope(self) -> str:
        return next(scope for scope, radio in self.scope_radios.items() if radio.isChecked())

    def spreadsheet(self) -> bool:
        return self.spreadsheet_box.isChecked()


def ask_export(exporter: Exporter, source: list[str], app_data: Path) -> ExportDialog:
    """Open the dialog (window-modal, returns at once); on Export..., ask where, then export.

    ``source`` is what the table shows (the open folder or files): the CSV is named after it
    and proposed beside it, unless it lies in ``app_data``, the app's own data folder.
    """
    counts = {scope: len(exporter.scope_indices(scope)) for scope in SCOPES}
    spreadsheet = exporter.settings.value("export_spreadsheet", True, type=bool)
    dialog = ExportDialog(counts, spreadsheet, exporter.model.doubtful.below, exporter.parent)
    dialog.accepted.connect(lambda: _export(exporter, source, dialog.scope(), dialog.spreadsheet(), app_data))
    dialog.finished.connect(dialog.deleteLater)
    dialog.open()
    return dialog


def _export(exporter: Exporter, source: list[str], scope: str, spreadsheet: bool, app_data: Path) -> int | None:
    settings = exporter.settings
    settings.setValue("export_spreadsheet", spreadsheet)
    base = Path(source[0]) if source else Path.home() / "digitsum"
    folder = Path(settings.value("export_dir", str(findable_folder(base.parent, app_data)), type=str))
    name = f"{base.stem}-sums.csv" if scope == "all" else f"{base.stem}-{scope}-sums.csv"
    dest, _ = QFileDialog.getSaveFileName(
        exporter.parent, "Export CSV", str(folder / name), "CSV files (*.csv);;All files (*)"
    )
    return exporter.export_rows(dest, scope, spreadsheet) if dest else None
