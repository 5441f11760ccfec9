"""core.labels.folder_labels: whose labels a window's inputs have (``labels_of``), on real files."""

import shutil

import numpy as np
from helpers.clitools import python_json

from core.labels.folder_labels import FolderLabels, labels_of
from core.labels.labels_csv import read_labels_csv


def test_an_image_opened_alone_has_its_folders_labels_by_the_name_it_was_given(synth_folder, tmp_path, monkeypatch):
    folder = shutil.copytree(synth_folder, tmp_path / "images")
    before = read_labels_csv(folder / "labels.csv")
    image = folder / "synth_00003.png"
    monkeypatch.chdir(folder.parent)
    for given in (str(image), "images/synth_00003.png"):  # a full path, or relative as typed in a shell
        labels = labels_of([given], tmp_path / "corrections")
        assert labels.folder == folder.resolve() and labels.sum_of(given) == before["synth_00003.png"][0]
    labels.set("images/synth_00003.png", 36)  # saved as opening its folder would save it
    after = read_labels_csv(folder / "labels.csv")
    assert after["synth_00003.png"] == (36, None) and len(after) == len(before)
    assert labels.typed("images/synth_00003.png") and not labels.typed("images/synth_00004.png")
    assert FolderLabels(folder, tmp_path / "corrections").sum_of("synth_00003.png") == 36

    two = labels_of([image, folder / "synth_00004.png"], tmp_path / "corrections")  # several from one folder
    assert two.sum_of(str(folder / "synth_00004.png")) == before["synth_00004.png"][0]


def test_inputs_without_one_folders_labels_have_none(synth_folder, tmp_path):
    other = shutil.copytree(synth_folder, tmp_path / "other")
    arrays = tmp_path / "data0.npy"
    np.save(arrays, np.zeros((2, 40, 168), np.uint8))
    corrections = tmp_path / "corrections"
    assert labels_of([synth_folder, other], corrections) is None  # two folders
    assert labels_of([synth_folder / "synth_00000.png", other / "synth_00000.png"], corrections) is None
    assert labels_of([arrays], corrections) is None  # an array's sums are its lab*.npy
    assert labels_of([], corrections) is None
    assert labels_of([synth_folder], corrections).folder == synth_folder.resolve()


def test_the_labels_code_needs_nothing_of_the_prediction_csv():
    """Labels are written with ``core.files.atomic_text_file`` and ``core.csv_cells`` and fail as
    ``core.files.WriteError``: the prediction CSV's module and its ``ExportError`` are not theirs."""
    code = (
        "import json, sys\n"
        "import core.labels.backup, core.labels.folder_labels\n"
        "print(json.dumps('core.predict.prediction_csv' in sys.modules))\n"
    )
    assert python_json(code, timeout=120) is False
