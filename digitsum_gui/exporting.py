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
    from core.predict.rows import PredictionRow
    from digitsum_gui.main_window import MainWindow

# scope -> the word before "rows" in what the window says ("" for all of them)
SCOPES = {"all": "", "shown": "shown", "selected": "selected", "doubtful": "doubtful"}


def _shown_rows(window: MainWindow) -> range | list[int]:
    """The table model's (display) rows the view shows, in its order.

    The proxy only filters (the table model sorts), so its rows are the rows its filter
    accepts, in the table model's order: asked of the filter in Python, not through
    ``mapToSource`` row by row, which took 1 s for 100,000 rows.
    """
    model, proxy = window.table_model, window.proxy
    if not proxy.filtering:
        return range(model.rowCount())
    root = QModelIndex()
    return [r for r in range(model.rowCount()) if proxy.filterAcceptsRow(r, root)]


def scope_indices(window: MainWindow, scope: str) -> list[int]:
    """The input indices of the rows in ``scope``, ascending (input order, as the CSV keeps it)."""
    model = window.table_model
    if scope == "all":
        return list(range(len(model.rows)))
    if scope == "doubtful":
        return [i for i, row in enumerate(model.rows) if model.doubtful(row)]  # at the threshold set now
    shown = _shown_rows(window)
    if scope == "shown":
        rows = shown
    elif scope == "selected":
        # by the selection's ranges: selectedRows() took 12 s for 100,000 rows selected with Ctrl+A
        ranges = window.table_view.selectionModel().selection()
        rows = [shown[p] for r in ranges for p in range(r.top(), r.bottom() + 1)]
    else:
        raise ValueError(f"no such export scope: {scope!r} (one of {', '.join(SCOPES)})")
    return sorted({model.input_index(r) for r in rows})


def export_columns(
    window: MainWindow, rows: list[PredictionRow], spreadsheet: bool
) -> dict[str, Callable[[PredictionRow], object]]:
    """The columns after the contract's: those of the window with something to say for ``rows``."""
    from core.predict.spreadsheet import SPREADSHEET_COLUMNS

    columns = dict(window.export_columns)
    if spreadsheet:
        columns |= window.spreadsheet_columns | SPREADSHEET_COLUMNS
    return {name: f for name, f in columns.items() if any(f(r) not in (None, "") for r in rows)}


def export_rows(
    window: MainWindow, dest: str | os.PathLike, scope: str = "all", spreadsheet: bool = False
) -> int | None:
    """Write ``window``'s rows in ``scope`` to ``dest``; the number written, or None on failure (said).

    ``spreadsheet`` adds the columns that read in a spreadsheet as the table does.
    """
    from core.predict.prediction_csv import ExportError, write_predictions_csv

    rows = list(window.table_model.rows)  # a snapshot: rows may still arrive during a run
    if scope != "all":
        rows = [rows[i] for i in scope_indices(window, scope)]
    what = f"{SCOPES[scope]} row".lstrip()
    if not rows:
        window.status.showMessage(f"No {what}s to export" if scope != "all" else "Nothing to export yet")
        return None
    try:
        count = write_predictions_csv(rows, dest, extra_columns=export_columns(window, rows, spreadsheet))
    except ExportError as exc:
        show_error(window, "Export failed", f"The CSV was not written: {exc}", traceback.format_exc())
        return None
    window.settings.setValue("export_dir", str(Path(dest).parent))
    total = len(window.table_model.items)
    message = f"Exported {plural(count, what)} to {dest}"
    state = "prediction is still running" if window.running else "the run did not finish"
    if scope == "all" and count < total:
        message = (
            f"Exported {count:,} of {plural(total, 'row')} to {dest} ({state}: only finished rows are in the file)"
        )
        show_info(window, "Partial export", message)
    elif len(window.table_model.rows) < total:
        message += f" ({state}: rows not read yet are not in it)"
    window.status.showMessage(message)
    return count
