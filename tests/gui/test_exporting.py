"""File > Export CSV (issue #24 item 13): the scope of rows, and columns that read in a spreadsheet
as the table does, with the prediction CSV's own columns kept exactly as ``digitsum predict`` writes them."""

import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtWidgets import QFileDialog

from core.inputs.listing import list_inputs
from core.predict.prediction_csv import CSV_COLUMNS, read_predictions_csv, write_predictions_csv
from core.predict.rows import PredictionRow
from core.spec import DOUBTFUL_BELOW
from digitsum_gui.export_dialog import ExportDialog
from digitsum_gui.model_store import ModelStore
from digitsum_gui.table.columns import Column


@pytest.fixture
def window(make_window, settings, synth_folder, tmp_path):
    """A window on a labelled folder of 40 images, its rows as a digits model would give them
    (no run: the rows are put in the table, so the test says which are doubtful)."""
    folder = shutil.copytree(synth_folder, tmp_path / "images")
    settings.setValue("auto_predict", False)
    window = make_window(store=ModelStore(tmp_path / "appdata"))
    assert window.open_folder(folder)
    items = list_inputs([folder])
    confidences = [0.99998, 0.9877, 0.5, 1.0, 0.00001]
    rows = [
        PredictionRow(item.name, i % 37, confidences[i % 5], f"{i % 10}4{i % 7}9")
        if i != 7
        else PredictionRow(item.name, error="truncated image file")
        for i, item in enumerate(items)
    ]
    window.table_model.set_rows(rows, items)
    return window


def export_through_the_dialog(qtbot, window, monkeypatch, dest, scope, spreadsheet):
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(dest), "CSV files (*.csv)"))
    window.export_action.trigger()
    dialog = next(d for d in window.findChildren(ExportDialog) if d.isVisible())
    dialog.scope_radios[scope].click()
    dialog.spreadsheet_box.setChecked(spreadsheet)
    dialog.export_button.click()
    return dialog


def test_each_scope_exports_its_rows_in_input_order(qtbot, window, monkeypatch, tmp_path):
    model, proxy, view = window.table_model, window.proxy, window.table_view
    names = [r.file for r in model.rows]
    view.sortByColumn(Column.CONFIDENCE, Qt.SortOrder.AscendingOrder)  # shown in another order than the input's
    proxy.set_filter(text="synth_0000")  # synth_00000 .. synth_00009
    flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
    for r in (6, 1, 4):
        view.selectionModel().select(proxy.index(r, 0), flags)
    selected = {proxy.source_row(r).file for r in (6, 1, 4)}
    doubtful = [r.file for r in model.rows if r.error or r.confidence < DOUBTFUL_BELOW]
    expected = {
        "all": names,
        "shown": [n for n in names if "synth_0000" in n],
        "selected": [n for n in names if n in selected],
        "doubtful": doubtful,
    }
    assert 0 < len(doubtful) < 40 and len(expected["shown"]) == 10

    for scope, files in expected.items():
        dest = tmp_path / f"{scope}.csv"
        dialog = export_through_the_dialog(qtbot, window, monkeypatch, dest, scope, spreadsheet=False)
        assert f"({len(files):,}" in dialog.scope_radios[scope].text()  # the dialog says how many
        assert [r["file"] for r in read_predictions_csv(dest)] == files  # input order, whatever the sort
        assert f"Exported {len(files)} " in window.status.currentMessage()
    # the rows shown are the filter's: the same file as writing those rows directly, byte for byte
    plain = tmp_path / "plain.csv"
    write_predictions_csv([r for r in model.rows if r.file in expected["shown"]], plain)
    shown = (tmp_path / "shown.csv").read_bytes().splitlines()
    assert [line.rsplit(b",", 1)[0] for line in shown] == plain.read_bytes().splitlines()  # + corrected_sum

    # the doubtful rows are those below the threshold the filter bar sets now, as the colours say
    model.doubtful.set_below(0.5)
    fewer = [r.file for r in model.rows if r.error or r.confidence < 0.5]
    dialog = export_through_the_dialog(qtbot, window, monkeypatch, tmp_path / "d.csv", "doubtful", spreadsheet=False)
    assert "below 50%" in dialog.scope_radios["doubtful"].text()
    assert [r["file"] for r in read_predictions_csv(tmp_path / "d.csv")] == fewer != doubtful


def test_spreadsheet_columns_read_as_the_table_and_leave_the_contract_columns_alone(
    qtbot, window, monkeypatch, tmp_path
):
    model = window.table_model
    typed = model.rows[3].file
    assert window.proxy.setData(window.proxy.index(3, Column.TRUE_SUM), "5")  # one sum typed, the rest from labels.csv

    plain, sheet = tmp_path / "plain.csv", tmp_path / "sheet.csv"
    assert window.export_csv(plain) == 40  # the file as before: the contract's columns and corrected_sum
    export_through_the_dialog(qtbot, window, monkeypatch, sheet, "all", spreadsheet=True)
    assert window.settings.value("export_spreadsheet", type=bool) is True  # remembered for the next export

    header = [*CSV_COLUMNS, "corrected_sum"]
    extra = ["true_sum_from", "confidence_text", "digits_text"]
    plain_lines = plain.read_bytes().splitlines()
    sheet_rows = read_predictions_csv(sheet)
    assert list(sheet_rows[0]) == header + extra
    assert plain_lines[0] == b"\xef\xbb\xbf" + ",".join(header).encode()
    # every contract cell byte for byte as before: the added columns only follow them
    for line, row in zip(plain_lines[1:], sheet_rows, strict=True):
        assert line.decode() == ",".join(row[c] for c in header)
    shown = {r.file: model.data(model.index(i, Column.CONFIDENCE)) for i, r in enumerate(model.rows)}
    for row in sheet_rows:
        assert row["confidence_text"] == shown[row["file"]]  # as the table shows it
    first = sheet_rows[0]
    assert (first["confidence"], first["confidence_text"]) == ("1.0000", ">99.99%")
    assert (first["digits"], first["digits_text"]) == ("0409", "0 4 0 9")  # spaced: a spreadsheet keeps the 0
    assert sheet_rows[4]["confidence_text"] == "<0.01%" and sheet_rows[7]["confidence_text"] == ""
    sources = {r["file"]: r["true_sum_from"] for r in sheet_rows}
    assert sources[typed] == "typed" and {sources[f] for f in sources if f != typed} == {"labels.csv"}


def test_the_dialog_counts_100000_rows_selected_with_ctrl_a(qtbot, make_window, tmp_path):
    """How fast it counts is benchmarks/bench_export_scopes.py's; what it counts is checked here."""
    window = make_window(store=ModelStore(tmp_path / "appdata"))
    rows = [PredictionRow(f"img{i}.png", i % 37, 0.5 + (i % 50) / 100) for i in range(100_000)]
    window.table_model.set_rows(rows)
    window.table_view.sortByColumn(Column.CONFIDENCE, Qt.SortOrder.DescendingOrder)
    window.table_view.selectAll()
    counts = {scope: len(window.exporter.scope_indices(scope)) for scope in ("all", "shown", "selected", "doubtful")}
    doubtful = sum(r.confidence < DOUBTFUL_BELOW for r in rows)
    assert counts == {"all": 100_000, "shown": 100_000, "selected": 100_000, "doubtful": doubtful}


def test_the_csv_is_proposed_where_a_person_finds_it(window, monkeypatch, tmp_path):
    """Beside the open folder; for a folder inside the app's own data folder (the sample images'
    copy), the home folder instead; then wherever the last CSV went."""
    from digitsum_gui.export_dialog import _export

    proposed = []
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (proposed.append(a[2]), ("", ""))[1])
    samples = window.app_data / "samples"
    for source, expected in (
        (tmp_path / "images", tmp_path / "images-sums.csv"),
        (samples, Path.home() / "samples-sums.csv"),
        (tmp_path / ".hidden" / "images", tmp_path / ".hidden" / "images-sums.csv"),  # chosen: theirs
    ):
        _export(window.exporter, [str(source)], "all", False, window.app_data)
        assert proposed[-1] == str(expected)
    window.settings.setValue("export_dir", str(samples))  # the last CSV went there, by the person's choice
    _export(window.exporter, [str(tmp_path / "images")], "all", False, window.app_data)
    assert proposed[-1] == str(samples / "images-sums.csv")
