"""The results table model and its proxy: Qt's model contract, thumbnails in their cells, sorting,
filtering, 100,000 rows."""

import time

import pytest
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QTableView

from core.inputs.listing import list_inputs
from core.predict.rows import PredictionRow
from digitsum_gui.style import DOUBT_BACKGROUND, ERROR_BACKGROUND
from digitsum_gui.table.columns import Column, sort_key
from digitsum_gui.table.filter_proxy import PredictionFilterProxyModel
from digitsum_gui.table.model import MANY_ROWS, PredictionTableModel


def make_rows(n):
    """Rows of every kind: confident, doubtful, unreadable."""
    rows = []
    for i in range(n):
        if i % 7 == 3:
            rows.append(PredictionRow(f"img{i}.png", error="not an image (or not a supported format)"))
        else:
            conf = 0.5 + (i * 37 % 50) / 100
            rows.append(
                PredictionRow(
                    f"img{i}.png",
                    i % 37,
                    conf,
                    "1234",
                    top3=((i % 37, conf), (1, 0.01), (2, 0.001)),
                    digit_confidence=(0.9, 0.9, 0.9, 0.9),
                )
            )
    return rows


@pytest.fixture
def model_and_proxy(qtbot):
    model = PredictionTableModel()
    proxy = PredictionFilterProxyModel()
    proxy.setSourceModel(model)
    return model, proxy


def test_model_passes_qt_model_tester(qtmodeltester, model_and_proxy, synth_folder):
    model, proxy = model_and_proxy
    items = list_inputs([synth_folder])[:20]
    model.set_items(items)
    model.append_rows(make_rows(10))
    model.append_rows(make_rows(20)[10:])
    qtmodeltester.check(model)
    model.sort(Column.CONFIDENCE, Qt.SortOrder.DescendingOrder)
    qtmodeltester.check(model)
    proxy.set_filter(confidence_below=0.8)
    qtmodeltester.check(proxy)


def test_data_roles(qtbot, model_and_proxy, synth_folder):
    model, _ = model_and_proxy
    items = list_inputs([synth_folder])[:8]
    model.set_items(items)
    model.append_rows(make_rows(8))
    ok, bad = model.index(0, Column.SUM), model.index(3, Column.SUM)
    assert model.data(ok) == "0"
    assert model.data(model.index(0, Column.CONFIDENCE)) == "50.00%"
    assert model.data(bad) == ""
    assert model.data(model.index(3, Column.ERROR)).startswith("not an image")
    assert model.data(bad, Qt.ItemDataRole.BackgroundRole) == ERROR_BACKGROUND
    assert model.data(ok, Qt.ItemDataRole.BackgroundRole) == DOUBT_BACKGROUND  # 0.50: below DOUBTFUL_BELOW
    assert model.data(model.index(4, Column.SUM), Qt.ItemDataRole.BackgroundRole) is None  # 0.98: confident
    assert model.data(QModelIndex()) is None
    assert model.data(model.index(0, Column.FILE), Qt.ItemDataRole.UserRole + 99) is None
    # thumbnails: read when asked for (the detail pane's urgent reader), at the model's input size, then cached
    with qtbot.waitSignal(model.thumbnail_ready, timeout=10_000, check_params_cb=lambda i: i == 0):
        assert model.thumbnail_when_ready(0, urgent=True) is None and model.is_reading(0)
    thumb = model.thumbnail_when_ready(0)
    assert isinstance(thumb, QPixmap) and (thumb.width(), thumb.height()) == (168, 40)
    assert model.data(model.index(0, Column.THUMBNAIL), Qt.ItemDataRole.DecorationRole) is thumb
    assert not model.is_reading(0)
    model.stop_reading()


@pytest.mark.parametrize("order", [Qt.SortOrder.AscendingOrder, Qt.SortOrder.DescendingOrder])
def test_thumbnails_for_painting_arrive_later_in_their_own_cell(qtbot, model_and_proxy, synth_folder, order):
    """A paint never waits for a disk: data() says None, the reader thread reads, the cell changes."""
    model, _ = model_and_proxy
    model.set_items(list_inputs([synth_folder])[:8])
    model.append_rows(make_rows(8))
    model.sort(Column.CONFIDENCE, order)
    assert [model.input_index(model.display_row(i)) for i in range(8)] == list(range(8))
    cell = model.index(model.display_row(5), Column.THUMBNAIL)
    with qtbot.waitSignal(
        model.dataChanged, timeout=10_000, check_params_cb=lambda first, last, roles: first == cell and last == cell
    ):
        assert model.data(cell, Qt.ItemDataRole.DecorationRole) is None
    thumb = model.data(cell, Qt.ItemDataRole.DecorationRole)
    assert isinstance(thumb, QPixmap) and (thumb.width(), thumb.height()) == (168, 40)
    assert model.thumbnail_when_ready(5) is thumb
    # a read still under way when the folder changes is dropped, not shown against the new rows
    model.data(model.index(model.display_row(6), Column.THUMBNAIL), Qt.ItemDataRole.DecorationRole)
    model.set_items(list_inputs([synth_folder])[8:12])
    qtbot.wait(300)
    assert model.thumbnails._pixmaps == {}
    # closing the window stops the reader; painting later starts another
    model.append_rows(make_rows(4))
    model.stop_reading()
    cell = model.index(0, Column.THUMBNAIL)
    with qtbot.waitSignal(model.dataChanged, timeout=10_000):
        assert model.data(cell, Qt.ItemDataRole.DecorationRole) is None
    assert isinstance(model.data(cell, Qt.ItemDataRole.DecorationRole), QPixmap)
    model.stop_reading()


def test_doubtful_first_sort_and_filters(model_and_proxy):
    model, proxy = model_and_proxy
    rows = make_rows(50)
    model.append_rows(rows[:30])
    proxy.sort(Column.CONFIDENCE, Qt.SortOrder.AscendingOrder)
    model.append_rows(rows[30:])  # rows arriving during a run go into place

    shown = [proxy.source_row(r) for r in range(proxy.rowCount())]
    keys = [-1.0 if r.confidence is None else r.confidence for r in shown]
    assert keys == sorted(keys) and shown[0].error  # errors (no confidence) lead
    assert sorted(r.file for r in shown) == sorted(r.file for r in rows)
    assert [r.file for r in model.rows] == [r.file for r in rows]  # input order kept for export

    proxy.set_filter(errors_only=True)
    assert proxy.rowCount() == sum(1 for r in rows if r.error)
    proxy.set_filter(errors_only=False, confidence_below=0.7)
    expected = sum(1 for r in rows if r.error or r.confidence < 0.7)
    assert proxy.rowCount() == expected
    proxy.set_filter(confidence_below=None, text="IMG1")
    assert {proxy.source_row(r).file for r in range(proxy.rowCount())} == {r.file for r in rows if "img1" in r.file}

    proxy.set_filter(text="")
    proxy.sort(Column.SUM, Qt.SortOrder.DescendingOrder)
    sums = [-1 if proxy.source_row(r).predicted_sum is None else proxy.source_row(r).predicted_sum for r in range(50)]
    assert sums == sorted(sums, reverse=True)
    proxy.sort(-1)  # back to input order
    assert [proxy.source_row(r).file for r in range(50)] == [r.file for r in rows]


def test_sort_keeps_the_selection(qtbot, model_and_proxy):
    model, proxy = model_and_proxy
    view = QTableView()
    qtbot.addWidget(view)
    view.setModel(proxy)
    model.append_rows(make_rows(40))
    view.selectRow(10)
    chosen = proxy.source_row(10).file
    proxy.sort(Column.CONFIDENCE)
    selected = view.selectionModel().selectedRows()
    assert [proxy.source_row(i.row()).file for i in selected] == [chosen]


@pytest.mark.parametrize("order", [Qt.SortOrder.AscendingOrder, Qt.SortOrder.DescendingOrder])
@pytest.mark.parametrize("batch", [7, MANY_ROWS + 1])  # rows put in place one by one / in one layout change
def test_rows_arriving_while_sorted_go_into_place(qtbot, qtmodeltester, model_and_proxy, order, batch):
    model, proxy = model_and_proxy
    view = QTableView()
    qtbot.addWidget(view)
    view.setModel(proxy)
    rows = make_rows(3 * batch + 5)
    model.append_rows(rows[:5])
    proxy.sort(Column.CONFIDENCE, order)
    view.selectRow(2)
    chosen = proxy.source_row(2).file
    qtmodeltester.check(model)  # from here on it checks every insert and layout change as it happens
    for s in range(5, len(rows), batch):
        model.append_rows(rows[s : s + batch])
    expected = sorted(
        range(len(rows)),
        key=lambda i: sort_key(rows[i], i, Column.CONFIDENCE),
        reverse=order == Qt.SortOrder.DescendingOrder,
    )  # stable: equal keys in input order
    assert [proxy.source_row(r).file for r in range(proxy.rowCount())] == [rows[i].file for i in expected]
    assert [model.display_row(i) for i in expected] == list(range(len(rows)))
    assert [proxy.source_row(i.row()).file for i in view.selectionModel().selectedRows()] == [chosen]

    proxy.set_filter(confidence_below=0.8)  # a filtered view takes them in place too
    more = make_rows(len(rows) + batch)[len(rows) :]
    model.append_rows(more)
    doubtful = [r for r in rows + more if r.error or r.confidence < 0.8]
    keys = [sort_key(proxy.source_row(i), 0, Column.CONFIDENCE) for i in range(proxy.rowCount())]
    assert proxy.rowCount() == len(doubtful)
    assert keys == sorted(keys, reverse=order == Qt.SortOrder.DescendingOrder)


def test_hundred_thousand_rows_are_cheap(qtbot, model_and_proxy):
    model, proxy = model_and_proxy
    view = QTableView()
    qtbot.addWidget(view)
    view.setModel(proxy)
    view.verticalHeader().setDefaultSectionSize(44)
    view.resize(900, 700)
    view.show()
    rows = [PredictionRow(f"f{i}.png", i % 37, (i % 1000) / 1000, "1234") for i in range(100_000)]

    start = time.perf_counter()
    for s in range(0, len(rows), 10_000):  # in batches, as a run delivers them
        model.append_rows(rows[s : s + 10_000])
    view.scrollToBottom()
    qtbot.wait(10)
    assert time.perf_counter() - start < 5
    assert proxy.rowCount() == 100_000
    assert model.thumbnails._pixmaps == {}  # no thumbnails were made for rows nobody looked at

    start = time.perf_counter()
    proxy.sort(Column.CONFIDENCE)
    assert time.perf_counter() - start < 5
    assert proxy.source_row(0).confidence == 0.0
