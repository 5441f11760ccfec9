"""The filter bar: the doubtful threshold in percent, Esc in the name filter, a row count that holds still."""

import threading
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from core.inputs.listing import InputItem
from core.predict.rows import PredictionRow
from core.spec import DOUBTFUL_BELOW
from digitsum_gui.doubtful import format_threshold
from digitsum_gui.filter_bar import FilterBar
from digitsum_gui.style import DOUBT_BACKGROUND
from digitsum_gui.table.columns import Column
from digitsum_gui.table.filter_proxy import PredictionFilterProxyModel
from digitsum_gui.table.model import PredictionTableModel

# confidences a point below the default threshold, 98.6%, 99.2%, 99.7%: doubtful by default is one
# row, below 99.5% three
ROWS = [PredictionRow(f"img_{i}.png", i, c, "") for i, c in enumerate((DOUBTFUL_BELOW - 0.01, 0.986, 0.992, 0.997))]
DEFAULT_TEXT = format_threshold(DOUBTFUL_BELOW)  # the spin box's "96%"


def coloured(window) -> list[str]:
    proxy = window.proxy
    return [
        proxy.source_row(r).file
        for r in range(proxy.rowCount())
        if proxy.index(r, Column.FILE).data(Qt.ItemDataRole.BackgroundRole) == DOUBT_BACKGROUND
    ]


def test_the_doubtful_threshold_is_in_percent_and_moves_the_colours_the_legend_and_the_review(qtbot, rows_window):
    """Issue #24 item 14: the spin box speaks percent like the table, and it is *the* doubtful
    threshold: the legend, the row colours and Next Doubtful follow it."""
    window = rows_window(ROWS)
    spin, legend = window.filter_bar.below_spin, window.results.legend.findChild(QLabel, "doubtful")
    assert spin.text() == DEFAULT_TEXT and legend.text() == f"Doubtful: below {DEFAULT_TEXT}"
    assert window.proxy.index(0, Column.CONFIDENCE).data() == f"{100 * DOUBTFUL_BELOW - 1:.2f}%"  # the table's unit
    assert coloured(window) == ["img_0.png"]
    assert window.review.progress.text() == "Reviewed 0 of 1 doubtful"

    spin.setFocus()
    spin.selectAll()  # the number, not its % sign
    qtbot.keyClicks(spin, "99.5")  # typed, as a person would
    assert spin.text() == "99.5%"
    assert legend.text() == "Doubtful: below 99.5%"
    assert coloured(window) == ["img_0.png", "img_1.png", "img_2.png"]
    assert window.review.progress.text() == "Reviewed 0 of 3 doubtful"
    view = window.table_view
    view.setFocus()
    view.setCurrentIndex(window.proxy.index(0, Column.FILE))
    qtbot.keyClick(view, Qt.Key.Key_N)
    assert window.proxy.source_row(view.currentIndex().row()).file == "img_1.png"  # doubtful now, visited

    window.filter_bar.below_check.setChecked(True)  # the filter and the colours agree
    assert window.proxy.rowCount() == 3
    window.table_view.selectRow(2)
    assert "(doubtful)" in window.detail.sum_label.text()  # and the detail pane (99.2% < 99.5%)


def test_the_threshold_steps_by_1_percent_and_by_a_tenth_from_99_and_is_remembered(qtbot, make_window):
    window = make_window()
    spin = window.filter_bar.below_spin
    assert spin.minimum() == 50 and spin.maximum() == 99.9 and spin.suffix() == "%"
    spin.set_fraction(0.98)
    for expected in ("99%", "99.1%", "99.2%"):
        spin.stepBy(1)
        assert spin.text() == expected
    for expected in ("99.1%", "99%", "98%", "97%"):
        spin.stepBy(-1)
        assert spin.text() == expected
    spin.set_fraction(0.995)
    window.close()
    again = make_window()
    assert again.filter_bar.below_spin.fraction() == 0.995  # kept as a fraction, as before percent
    assert again.table_model.doubtful.below == 0.995


def test_esc_in_the_name_filter_empties_it_and_is_left_to_cancel_when_it_is_empty(qtbot, rows_window):
    window = rows_window(ROWS)
    edit = window.filter_bar.text_edit
    window.state.stop = threading.Event()  # as if a run were going: Model > Cancel (Esc) is enabled
    window.update_actions()
    cancelled = []
    window.cancel_action.triggered.connect(lambda: cancelled.append(True))
    edit.setFocus()
    qtbot.keyClicks(edit, "img_3")
    qtbot.waitUntil(lambda: window.proxy.rowCount() == 1, timeout=2000)
    qtbot.keyClick(edit, Qt.Key.Key_Escape)
    assert edit.text() == "" and window.proxy.rowCount() == 4  # at once, not after the typing pause
    assert cancelled == []  # the filter's Esc, not the run's
    qtbot.keyClick(edit, Qt.Key.Key_Escape)  # an empty filter leaves Esc to Cancel
    assert cancelled == [True]
    window.state.stop = None


# --- issue #24 item 23: no jitter as rows come in ---------------------------------------------------------------


def test_the_row_count_keeps_its_width_while_rows_come_in(qtbot):
    model = PredictionTableModel()
    proxy = PredictionFilterProxyModel()
    proxy.setSourceModel(model)
    bar = FilterBar(proxy)
    qtbot.addWidget(bar)
    bar.resize(bar.minimumSizeHint().width(), bar.sizeHint().height())  # tight: nothing absorbs a change
    bar.show()
    qtbot.waitExposed(bar)

    model.set_items([InputItem(f"img_{i:05d}.png", Path(f"img_{i:05d}.png")) for i in range(1004)])
    bar.layout().activate()
    seen, texts = set(), []
    for count in (1, 9, 90, 400, 504):  # 1, 10, 100, 500, 1,004 rows read
        done = model.rowCount()
        model.append_rows([PredictionRow(f"img_{done + i:05d}.png", 7, 0.999, "1222") for i in range(count)])
        bar.layout().activate()
        texts.append(bar.count_label.text())
        seen.add((bar.count_label.geometry().getRect(), bar.text_edit.width(), bar.doubtful_button.x()))
    assert texts == ["1 row", "10 rows", "100 rows", "500 rows", "1,004 rows"]
    bar.below_check.setChecked(True)  # a filter: the longest text it says
    bar.layout().activate()
    assert bar.count_label.text() == "0 of 1,004 rows shown"
    seen.add((bar.count_label.geometry().getRect(), bar.text_edit.width(), bar.doubtful_button.x()))
    assert len(seen) == 1, seen
    assert bar.count_label.width() >= bar.count_label.fontMetrics().horizontalAdvance("1,004 of 1,004 rows shown")
