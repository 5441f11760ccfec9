"""File > Export CSV: the rows done so far, in input order, as ``digitsum predict --output`` writes them.

The columns are ``core.export.write_predictions_csv``'s, byte for byte the CLI's, followed by
the window's ``export_columns`` (``corrected_sum``) only where one has something to say: a
folder without labels exports exactly the CLI's bytes.
"""

from __future__ import annotations

import traceback
from pathlib import Path

from PySide6.QtWidgets import QFileDialog

from digitsum_gui.dialogs import show_error, show_info
from digitsum_gui.status_bar import plural


def export_rows(window, dest) -> int | None:
    """Write ``window``'s rows to ``dest``; the number written, or None on failure (said in a box)."""
    from core.export import ExportError, write_predictions_csv

    rows = list(window.table_model.rows)  # a snapshot: rows may still arrive during a run
    if not rows:
        window.status.showMessage("Nothing to export yet")
        return None
    try:
        extra = {k: f for k, f in window.export_columns.items() if any(f(r) not in (None, "") for r in rows)}
        count = write_predictions_csv(rows, dest, extra_columns=extra)
    except ExportError as exc:
        show_error(window, "Export failed", f"The CSV was not written: {exc}", traceback.format_exc())
        return None
    window.settings.setValue("export_dir", str(Path(dest).parent))
    total = len(window.table_model.items)
    message = f"Exported {plural(count, 'row')} to {dest}"
    if count < total:
        state = "prediction is still running" if window.running else "the run did not finish"
        message = (
            f"Exported {count:,} of {plural(total, 'row')} to {dest} ({state}: only finished rows are in the file)"
        )
        show_info(window, "Partial export", message)
    window.status.showMessage(message)
    return count


def ask_export(window) -> int | None:
    """Ask where (beside the last export, named after the folder), then ``export_rows``."""
    base = Path(window.source[0]) if window.source else Path.home() / "digitsum"
    folder = Path(window.settings.value("export_dir", str(base.parent), type=str))
    dest, _ = QFileDialog.getSaveFileName(
        window, "Export CSV", str(folder / f"{base.stem}-sums.csv"), "CSV files (*.csv);;All files (*)"
    )
    return export_rows(window, dest) if dest else None
