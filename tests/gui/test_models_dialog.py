"""Model > Manage Models on a laptop at 1.5x (issue #24 item 25: columns were out of sight)."""

import shutil

import pytest

pytest.importorskip("PySide6")

from PySide6.QtGui import QFontMetrics

from core.models.store import DEFAULT_MODEL
from digitsum_gui.model_store import ModelStore
from digitsum_gui.models_dialog import COLUMNS, MODEL_COLUMN, TWO_LINE_COLUMNS, ModelsDialog, two_line_width


@pytest.fixture
def dialog(qtbot, tmp_path, baseline_model):
    store = ModelStore(tmp_path / "data")
    run = store.runs_dir / "20260101-120000-resnet50-digits-fine-tuned-on-my-corrections"
    run.mkdir(parents=True)
    shutil.copy(baseline_model, run / "best.safetensors")
    dialog = ModelsDialog(store, current=DEFAULT_MODEL)  # the bundled model: the longest figures
    qtbot.addWidget(dialog)
    return dialog


def show_at(qtbot, dialog, width):
    dialog.resize(width, 400)  # before it shows, as when it opens at the size it chose
    dialog.show()
    qtbot.waitExposed(dialog)
    qtbot.wait(10)  # the header lays its sections out


@pytest.mark.parametrize("width", [870, 1200])  # 870: a 1366x768 screen at 1.5x is 910 px wide
def test_every_column_shows_without_scrolling_sideways(qtbot, dialog, width):
    show_at(qtbot, dialog, width)
    table, header = dialog.table, dialog.table.horizontalHeader()
    assert header.length() <= table.viewport().width(), (header.length(), table.viewport().width())
    assert not table.horizontalScrollBar().isVisible()
    bold = table.font()
    bold.setBold(True)  # the row in use
    metrics = QFontMetrics(bold)
    wrapped = set()
    for column in range(len(COLUMNS)):
        if column == MODEL_COLUMN:  # the one that gives way: wrapped or shortened, whole in its tooltip
            assert header.sectionSize(column) >= 150
            continue
        for row in range(table.rowCount()):
            text, room = table.item(row, column).text(), header.sectionSize(column)
            if metrics.horizontalAdvance(text) > room:  # only where it may wrap, and then into two lines
                assert column in TWO_LINE_COLUMNS and two_line_width(text, metrics) <= room, (COLUMNS[column], text)
                assert table.rowHeight(row) >= 2 * table.fontMetrics().lineSpacing() + 4
                wrapped.add(column)
    assert bool(wrapped) == (width < 1000)  # on one line wherever there is room for it


def test_a_model_kept_from_an_epoch_cut_short_says_so_beside_its_figure():
    from digitsum_gui.models_dialog import figure_cells

    metrics = {"val_acc": 0.5, "val_images": 2}
    whole, _ = figure_cells({"metrics": metrics})
    cut, _ = figure_cells({"metrics": {**metrics, "partial": True}})
    assert cut == whole + ", epoch cut short" and "cut short" not in whole
    assert figure_cells({"metrics": None}) == ("\u2014", "\u2014")
