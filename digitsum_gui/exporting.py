"""File > Export CSV: the rows of a scope, in input order, as ``digitsum predict --output`` writes them.

A scope is all rows done so far, the rows shown (after the filter), the selected rows, or
the doubtful rows; whatever the table's sort, they are written in input order. The columns
are ``core.predict.prediction_csv.write_predictions_csv``'s, byte for byte the CLI's, followed by the
window's ``export_columns`` (``corrected_sum``) and, for a spreadsheet, its
``spreadsheet_columns`` (``true_sum_from``) and ``core.predict.spreadsheet.SPREADSHEET_COLUMNS``
(``confidence_text``, ``digits_text``), each only where one has something to say: a folder
without labels exported without the spreadsheet columns is exactly the CLI's bytes.
The dialog that asks is ``digitsum_gui.export_dialog``.
"""

from __future__ import annotations

import os
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QModelIndex

from digitsum_gui.message_boxes import show_error, show_info
from digitsum_gui.status_bar import plural

if TYPE_CHECKING:
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QStatusBar, QTableView, QWidget

    from core.predict.rows import PredictionRow
    from digitsum_gui.table.filter_proxy import PredictionFilterProxyModel
    from digitsum_gui.table.model import PredictionTableModel
    from digitsum_gui.window_state import WindowState

# scope -> the word before "rows" in what the window says ("" for all of them)
SCOPES = {"all": "", "shown": "shown", "selected": "selected", "doubtful": "doubtful"}


class Exporter:
    """File > Export CSV's work, given the parts it reads rather than the window.

    Parameters
    ----------
    model : PredictionTableModel
        The rows, in input order, and the doubtful threshold.
    proxy : PredictionFilterProxyModel
        What the filter shows.
    view : QTableView
        Its selection is the "selected" scope.
    columns : dict
        The window's columns after the contract's (name -> function(row)), filled by the parts
        that have something to add (``LabelsController.export_columns``); read at each export.
    spreadsheet_columns : dict
        The same, added only for a spreadsheet.
    status : QStatusBar
        Where the outcome is said.
    settings : QSettings
        The folder exported to last is kept there.
    state : WindowState
        Whether a run goes on (a partial export says so).
    parent : QWidget
        Boxes open over it.
    """

    def __init__(
        self,
        model: PredictionTableModel,
        proxy: PredictionFilterProxyModel,
        view: QTableView,
        columns: dict,
        spreadsheet_columns: dict,
        status: QStatusBar,
        settings: QSettings,
        state: WindowState,
        parent: QWidget,
    ):
        self.model, self.proxy, self.view = model, proxy, view
        self.columns, self.spreadsheet_columns = columns, spreadsheet_columns
        self.status, self.settings, self.state, self.parent = status, settings, state, parent

    def _shown_rows(self) -> range | list[int]:
        """The table model's (display) rows the view shows, in its order.

        The proxy only filters (the table model sorts), so its rows are the rows its filter
        accepts, in the table model's order: asked of the filter in Python, not through
        ``mapToSource`` row by row, which took 1 s for 100,000 rows.
        """
        model, proxy = self.model, self.proxy
        if not proxy.filtering:
            return range(model.rowCount())
        root = QModelIndex()
        return [r for r in range(model.rowCount()) if proxy.filterAcceptsRow(r, root)]

    def scope_indices(self, scope: str) -> list[int]:
        """The input indices of the rows in ``scope``, ascending (input order, as the CSV keeps it)."""
        model = self.model
        if scope == "all":
            return list(range(len(model.rows)))
        if scope == "doubtful":
            return [i for i, row in enumerate(model.rows) if model.doubtful(row)]  # at the threshold set now
        shown = self._shown_rows()
        if scope == "shown":
            rows = shown
        elif scope == "selected":
            # by the selection's ranges: selectedRows() took 12 s for 100,000 rows selected with Ctrl+A
            ranges = self.view.selectionModel().selection()
            rows = [shown[p] for r in ranges for p in range(r.top(), r.bottom() + 1)]
        else:
            raise ValueError(f"no such export scope: {scope!r} (one of {', '.join(SCOPES)})")
        return sorted({model.input_index(r) for r in rows})

    def export_columns(
        self, rows: list[PredictionRow], spreadsheet: bool
    ) -> dict[str, Callable[[PredictionRow], object]]:
        """The columns after the contract's: those with something to say for ``rows``."""
        from core.predict.spreadsheet import SPREADSHEET_COLUMNS

        columns = dict(self.columns)
        if spreadsheet:
            columns |= self.spreadsheet_columns | SPREADSHEET_COLUMNS
        return {name: f for name, f in columns.items() if any(f(r) not in (None, "") for r in rows)}

    def export_rows(self, dest: str | os.PathLike, scope: str = "all", spreadsheet: bool = False) -> int | None:
        """Write the rows in ``scope`` to ``dest``; the number written, or None on failure (said).

        ``spreadsheet`` adds the columns that read in a spreadsheet as the table does.
        """
        from core.predict.prediction_csv import ExportError, write_predictions_csv

        rows = list(self.model.rows)  # a snapshot: rows may still arrive during a run
        if scope != "all":
            rows = [rows[i] for i in self.scope_indices(scope)]
        what = f"{SCOPES[scope]} row".lstrip()
        if not rows:
            self.status.showMessage(f"No {what}s to export" if scope != "all" else "Nothing to export yet")
            return None
        try:
            count = write_predictions_csv(rows, dest, extra_columns=self.export_columns(rows, spreadsheet))
        except ExportError as exc:
            show_error(self.parent, "Export failed", f"The CSV was not written: {exc}", traceback.format_exc())
            return None
        self.settings.setValue("export_dir", str(Path(dest).parent))
        self._say_exported(count, what, dest, scope)
        return count

    def _say_exported(self, count: int, what: str, dest: str | os.PathLike, scope: str) -> None:
        """The status line (and, for a partial export of all rows, a box): how many, and why not all."""
        total = len(self.model.items)
        message = f"Exported {plural(count, what)} to {dest}"
        state = "prediction is still running" if self.state.running else "the run did not finish"
        if scope == "all" and count < total:
            message = (
                f"Exported {count:,} of {plural(total, 'row')} to {dest} ({state}: only finished rows are in the file)"
            )
            show_info(self.parent, "Partial export", message)
        elif len(self.model.rows) < total:
            message += f" ({state}: rows not read yet are not in it)"
        self.status.showMessage(message)
