"""One image opened alone takes a typed sum as its folder would (issue #24 item 19), with real widgets."""

import shutil

from PySide6.QtCore import Qt

from core.inputs.listing import list_inputs
from core.inputs.samples import SAMPLES
from core.labels.folder_labels import labels_of
from core.labels.labels_csv import read_labels_csv
from core.predict.rows import PredictionRow
from digitsum_gui.labels_status import where_saved
from digitsum_gui.model_store import ModelStore
from digitsum_gui.table.columns import Column


def test_a_sum_typed_for_an_image_opened_alone_is_saved_beside_it(qtbot, make_window, settings, synth_folder, tmp_path):
    folder = shutil.copytree(synth_folder, tmp_path / "images")
    image = folder / "synth_00005.png"
    settings.setValue("auto_predict", False)
    window = make_window(store=ModelStore(tmp_path / "appdata"))
    assert window.open_paths([image])
    items = list_inputs([image])
    window.table_model.set_rows([PredictionRow(items[0].name, 3, 0.5)], items)
    cell = window.proxy.index(0, Column.TRUE_SUM)
    known = read_labels_csv(folder / "labels.csv")["synth_00005.png"][0]
    assert cell.data() == str(known)  # its folder's labels.csv is read too
    assert cell.flags() & Qt.ItemFlag.ItemIsEditable  # the legend's "Type a sum on a row" works here

    assert window.proxy.setData(cell, "36")
    assert read_labels_csv(folder / "labels.csv")["synth_00005.png"] == (36, None)
    assert "labels.csv" in window.status.currentMessage()
    assert window.labels_controller.accuracy_label.text() == "Right: 0/1 labelled (0.0%)"

    assert window.open_folder(folder)  # the folder opened later finds it
    window.table_model.set_rows([PredictionRow(i.name, 3, 0.5) for i in list_inputs([folder])])
    row = next(r for r in range(window.proxy.rowCount()) if window.proxy.source_row(r).file == "synth_00005.png")
    assert window.proxy.index(row, Column.TRUE_SUM).data() == "36"


def test_a_sum_for_an_installed_sample_says_why_it_went_to_the_corrections_file(tmp_path):
    labels = labels_of([sorted(SAMPLES.glob("*.png"))[0]], tmp_path / "corrections")
    assert where_saved(labels) == f"in {labels.corrections_path}, as the app's own sample images are never changed"
