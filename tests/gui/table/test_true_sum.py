"""``digitsum_gui.table.true_sum`` in a real window: a true sum that came with the folder told apart from
one the user typed (colour, tooltip, detail pane)."""

import shutil

from PySide6.QtCore import Qt

from core.inputs.listing import list_inputs
from core.labels.labels_csv import read_labels_csv
from core.predict.rows import PredictionRow
from digitsum_gui.model_store import ModelStore
from digitsum_gui.style import (
    CORRECTED_BACKGROUND,
    CORRECTED_FOREGROUND,
    DOUBT_BACKGROUND,
    FROM_FOLDER_BACKGROUND,
    FROM_FOLDER_FOREGROUND,
)
from digitsum_gui.table.columns import Column


def test_a_sum_from_labels_csv_is_not_called_a_correction_until_the_user_types_one(
    qtbot, make_window, settings, synth_folder, tmp_path
):
    folder = shutil.copytree(synth_folder, tmp_path / "images")
    truth = {name: total for name, (total, _) in read_labels_csv(folder / "labels.csv").items()}
    settings.setValue("auto_predict", False)
    window = make_window(store=ModelStore(tmp_path / "appdata"))
    assert window.open_folder(folder)
    items = list_inputs([folder])
    # the model reads the first row wrong and the second right
    rows = [PredictionRow(i.name, (truth[i.name] + (k != 1)) % 37, 0.5) for k, i in enumerate(items)]
    window.table_model.set_rows(rows, items)
    proxy, view = window.proxy, window.table_view

    def looks(row, column=Column.TRUE_SUM):
        index = proxy.index(row, column)
        return (
            index.data(Qt.ItemDataRole.BackgroundRole),
            index.data(Qt.ItemDataRole.ForegroundRole),
            index.data(Qt.ItemDataRole.ToolTipRole),
        )

    background, foreground, tip = looks(0)
    assert (background, foreground) == (FROM_FOLDER_BACKGROUND, FROM_FOLDER_FOREGROUND)  # not "corrected"
    assert FROM_FOLDER_BACKGROUND != CORRECTED_BACKGROUND and FROM_FOLDER_FOREGROUND != CORRECTED_FOREGROUND
    assert tip.startswith("From the folder's labels.csv") and "Corrected" not in tip
    # read right: the row keeps its doubtful colour, and the tooltip says where the sum came from
    assert looks(1)[0] == DOUBT_BACKGROUND and looks(1)[2].endswith("(from the folder's labels.csv)")
    view.selectRow(0)
    assert window.detail.truth_label.text().endswith(": from labels.csv")

    typed = (truth[rows[0].file] + 2) % 37
    assert proxy.setData(proxy.index(0, Column.TRUE_SUM), str(typed))
    background, foreground, tip = looks(0, Column.FILE)
    assert (background, foreground) == (CORRECTED_BACKGROUND, CORRECTED_FOREGROUND)
    assert tip is None or "Corrected" not in tip  # (the file cell's tooltip is its path)
    assert looks(0)[2].startswith(f"Corrected by you: the model read {rows[0].predicted_sum}, you typed {typed}")
    assert window.detail.truth_label.text().endswith("corrected by you")

    window.table_model.undo_stack.undo()  # the folder's own sum again: its colour and words again
    assert looks(0)[:2] == (FROM_FOLDER_BACKGROUND, FROM_FOLDER_FOREGROUND)
    assert looks(0)[2].startswith("From the folder's labels.csv")


def test_a_sum_that_cannot_be_saved_says_why_in_one_line():
    """Neither the folder nor the corrections folder writable (root: as nobody): one line, the OS's reason."""
    import os
    import tempfile
    from pathlib import Path

    from helpers.hostile import as_ordinary_user

    from core.labels.folder_labels import FolderLabels
    from digitsum_gui.table.true_sum import save_true_sum

    base = Path(tempfile.mkdtemp(prefix="digitsum-ro-"))  # outside root's 0700 pytest folders
    folder, corrections = base / "scans", base / "corrections"
    try:
        folder.mkdir(), corrections.mkdir()
        for path in (base, folder, corrections):
            os.chmod(path, 0o555)

        def attempt() -> str:
            return save_true_sum(PredictionRow("a.png", 5, 0.5), FolderLabels(folder, corrections), "7")

        said = as_ordinary_user(attempt)
        assert said.startswith("The sum of a.png was not saved: cannot write ") and said.endswith(": Permission denied")
        assert "\n" not in said and "Errno" not in said
    finally:
        os.chmod(base, 0o755)
        shutil.rmtree(base, ignore_errors=True)
