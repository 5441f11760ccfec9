"""core.labels.labelled_set: loading labelled sets (folders with labels.csv, data/lab arrays), on real files."""

from __future__ import annotations

import os

import numpy as np
import pytest
from helpers.digit_images import REF, digits_like, write_png

from core.inputs.listing import InputError, list_inputs, named_file
from core.labels.labelled_set import SkippedFilesWarning, load_labelled
from core.labels.labels_csv import write_labels_csv


def test_load_labelled_folder_skips_unreadable(tmp_path):
    write_png(tmp_path / "a.png")
    write_png(tmp_path / "sub" / "b.png", 255 - digits_like(2))
    (tmp_path / "bad.png").write_text("nope")
    write_png(tmp_path.parent / "escape.png")
    write_labels_csv(
        tmp_path / "labels.csv",
        {
            "a.png": (7, "1222"),
            "sub/b.png": (9, None),
            "bad.png": (1, None),
            "gone.png": (2, None),
            "../escape.png": (3, None),
        },
    )
    with pytest.warns(SkippedFilesWarning, match="3 of 5 labelled files could not be read"):  # never in silence
        got = load_labelled(tmp_path)
    assert got.names == ["a.png", "sub/b.png"]
    assert got.images.dtype == np.uint8 and got.images.shape == (2, 40, 168)
    assert np.array_equal(got.images[0], REF) and np.array_equal(got.images[1], digits_like(2))
    assert got.sums.dtype == np.int64 and got.sums.tolist() == [7, 9]
    assert got.digits.dtype == np.int64 and got.digits.tolist() == [[1, 2, 2, 2], [-1, -1, -1, -1]]
    assert [s.split(":")[0] for s in got.skipped] == ["bad.png", "gone.png", "../escape.png"]


def test_load_labelled_npy(tmp_path):
    data = np.stack([REF, digits_like(1), 255 - digits_like(2)]).astype(np.float32) / 255.0
    np.save(tmp_path / "data0.npy", data)
    np.save(tmp_path / "lab0.npy", np.array([4, 5, 6]))
    got = load_labelled(tmp_path / "data0.npy")
    assert got.images.shape == (3, 40, 168) and got.images.dtype == np.uint8
    assert np.array_equal(got.images[0], REF) and np.array_equal(got.images[2], digits_like(2))
    assert got.sums.tolist() == [4, 5, 6] and (got.digits == -1).all() and got.digits.shape == (3, 4)
    assert got.names[1] == f"{tmp_path / 'data0.npy'}:1" and got.skipped == []


def test_load_labelled_npy_length_mismatch(tmp_path):
    np.save(tmp_path / "data0.npy", np.zeros((3, 40, 168), np.uint8))
    np.save(tmp_path / "lab0.npy", np.array([4, 5]))
    with pytest.raises(InputError, match="3 images but lab0.npy has 2"):
        load_labelled(tmp_path / "data0.npy")


def test_load_labelled_bad_specs_are_one_line_naming_the_spec_once(tmp_path):
    np.save(tmp_path / "f64.npy", np.zeros((3, 40, 168)))  # not named like data0.npy
    (tmp_path / "x.txt").write_text("x")
    for spec, why in (
        (tmp_path, "no labels.csv in this folder"),
        (tmp_path / "absent", "no such file or folder"),
        (tmp_path / "x.txt", "expected a folder with labels.csv or an .npy data file"),
        (tmp_path / "f64.npy", "cannot find its labels: expected a name like data0.npy with lab0.npy beside it"),
    ):
        with pytest.raises(InputError) as refused:
            load_labelled(spec)
        assert str(refused.value) == f"{spec}: {why}"
    (tmp_path / "bad.png").write_text("nope")
    write_labels_csv(tmp_path / "labels.csv", {"bad.png": (1, None)})
    with pytest.raises(InputError, match="no readable"):
        load_labelled(tmp_path)


def test_a_label_typed_for_a_name_that_is_not_utf8_reads_its_file(tmp_path):
    from core.labels.folder_labels import FolderLabels

    raw = os.fsdecode(b"caf\xe9.png")  # a Latin-1 name, as an old archive has them
    write_png(tmp_path / raw)
    (item,) = list_inputs([tmp_path])
    assert item.name == "caf\\xe9.png"
    FolderLabels(tmp_path, tmp_path / "corrections").set(item.name, 11)
    labelled = load_labelled(tmp_path)
    assert labelled.names == ["caf\\xe9.png"] and labelled.skipped == [] and list(labelled.sums) == [11]


def test_no_two_files_share_a_name_in_labels(tmp_path):
    """The Latin-1 ``café.png`` and a file really spelled ``caf\\xe9.png`` (or with ``\\x5c``)
    get names of their own, and each label reads the file it was typed for."""
    from core.labels.folder_labels import FolderLabels

    files = [os.fsdecode(b"caf\xe9.png"), "caf\\xe9.png", "caf\\x5c.png", "plain\\n.png"]
    for raw in files:
        write_png(tmp_path / raw)
    items = list_inputs([tmp_path])
    names = {item.path.name: item.name for item in items}
    assert len(set(names.values())) == len(files)
    assert names["plain\\n.png"] == "plain\\n.png"  # a backslash that reads as no escape stays
    labels = FolderLabels(tmp_path, tmp_path / "corrections")
    for i, raw in enumerate(files):
        labels.set(names[raw], 10 + i)
    labelled = load_labelled(tmp_path)
    by_file = {named: int(total) for named, total in zip(labelled.names, labelled.sums, strict=True)}
    assert {raw: by_file[names[raw]] for raw in files} == {raw: 10 + i for i, raw in enumerate(files)}
    assert labelled.skipped == []
    for item in items:  # and every name leads back to its own file
        assert os.path.samefile(named_file(tmp_path, item.name), item.path)
