"""core.inputs.arrays: a new array format is one ``ARRAY_FORMATS`` entry, and the ``.npy`` texts stay as they were.

The claim is proved by registering a second format (``.npz`` holding one array) in the test
only, with its load function defined here, and then using it through every path that takes
an array: listing, reading rows, labelled sets, the Retrain form's count and file dialog,
evaluate's truth and the guard that keeps a CSV from replacing a labels file.

Also the hardening cases of ``.npy`` input: fuzzed headers give only typed one-line errors, and
one bad value spoils only its own row, never the file's scale.
"""

from __future__ import annotations

import io
import os

import numpy as np
import pytest
from helpers.clitools import SAMPLES, one_line_error, run_cli
from helpers.hostile import mutate
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from core.inputs.arrays import ARRAY_FORMATS, ArrayFormat, array_format, is_labels_name, label_twin
from core.inputs.images import ImageReadError
from core.inputs.listing import InputError, list_inputs, load_item
from core.labels.labelled_set import labelled_count, load_labelled, read_truth
from core.predict.prediction_csv import ExportError, check_output_target


def load_npz(path, mmap):
    """An ``.npz`` file's one array (read whole: a zip member cannot be memory-mapped)."""
    with np.load(path, allow_pickle=False) as archive:
        arrays = [archive[key] for key in archive.files]
    return arrays[0] if len(arrays) == 1 else arrays  # several: not an ndarray, refused as "not a single"


@pytest.fixture
def npz(monkeypatch):
    npz_format = ArrayFormat(suffix=".npz", data_name="data{}.npz", labels_name="lab{}.npz", load=load_npz)
    monkeypatch.setitem(ARRAY_FORMATS, ".npz", npz_format)


def images(count: int = 3) -> np.ndarray:
    """Distinct float 0..1 images (the assignment's dtype): each row reads differently, and the
    file's white value (1.0, decided over the whole array) matters."""
    rng = np.random.default_rng(0)
    arr = np.zeros((count, 40, 168), np.float32)
    for i in range(count):
        arr[i, 5:35, 10 + 30 * i : 30 + 30 * i] = rng.uniform(0.3, 1.0, (30, 20))
    return arr


def test_listing_and_rows_of_a_registered_format_equal_the_npy_of_the_same_data(npz, tmp_path):
    data = images()
    np.save(tmp_path / "data0.npy", data)
    np.savez(tmp_path / "data0.npz", x=data)
    npy_items = list_inputs([tmp_path / "data0.npy"])
    npz_items = list_inputs([tmp_path / "data0.npz"])
    assert [item.name for item in npz_items] == [f"{tmp_path / 'data0.npz'}:{i}" for i in range(3)]
    assert [item.index for item in npz_items] == [0, 1, 2]
    rows = [load_item(item, require_digits=False) for item in npz_items]
    assert all(row.dtype == np.uint8 and row.shape == (40, 168) for row in rows)
    for row, same in zip(rows, npy_items, strict=True):
        assert np.array_equal(row, load_item(same, require_digits=False))
    assert not np.array_equal(rows[0], rows[1]) and rows[0].max() > 200  # rows differ; 1.0 read as white


def test_a_registered_format_is_checked_as_npy_is(npz, tmp_path):
    np.savez(tmp_path / "shape.npz", x=np.zeros((3, 40, 160), np.uint8))
    np.savez(tmp_path / "two.npz", x=images(), y=images())
    (tmp_path / "junk.npz").write_text("not a zip")
    refusals = [("shape", "expected shape"), ("two", "not a single .npz array"), ("junk", "not a readable .npz")]
    for name, words in refusals:
        with pytest.raises(InputError, match=words) as info:
            list_inputs([tmp_path / f"{name}.npz"])
        assert "\n" not in str(info.value)


def test_without_its_entry_the_format_is_an_image_file(tmp_path):
    np.savez(tmp_path / "data0.npz", x=images())
    assert array_format(tmp_path / "data0.npz") is None
    assert [item.index for item in list_inputs([tmp_path / "data0.npz"])] == [None]  # tried as one image


def test_labelled_sets_counts_and_truth_of_a_registered_format(npz, tmp_path):
    np.savez(tmp_path / "data0.npz", x=images())
    np.savez(tmp_path / "lab0.npz", y=np.array([4.0, 5.0, 36.0]))
    assert label_twin(tmp_path / "DATA0.NPZ") == tmp_path / "lab0.npz"  # any case, as data0.npy
    got = load_labelled(tmp_path / "data0.npz")
    assert got.images.shape == (3, 40, 168) and got.sums.tolist() == [4, 5, 36] and got.skipped == []
    assert got.names == [f"{tmp_path / 'data0.npz'}:{i}" for i in range(3)]
    assert labelled_count(tmp_path / "data0.npz") == 3
    assert labelled_count(tmp_path / "absent.npz") == 0

    data = str(tmp_path / "data0.npz")
    truth = read_truth(tmp_path / "lab0.npz", [tmp_path / "elsewhere", data])
    assert truth == {f"{data}:0": (4, None), f"{data}:1": (5, None), f"{data}:2": (36, None)}

    np.savez(tmp_path / "lab0.npz", y=np.array([4, 5]))
    with pytest.raises(InputError, match="3 images but lab0.npz has 2"):
        load_labelled(tmp_path / "data0.npz")
    with pytest.raises(InputError, match="^data0.npz has 3 images but lab0.npz has 2 sums$"):
        read_truth(tmp_path / "lab0.npz", [data])
    with pytest.raises(InputError, match=r"^--labels LAB\.npz needs exactly one data \.npz input$"):
        read_truth(tmp_path / "lab0.npz", [data, data])


def test_the_export_guard_knows_a_registered_formats_labels(npz, tmp_path, monkeypatch):
    dest = tmp_path / "lab0.npz"
    dest.write_text("file,predicted_sum\n")  # text, and not labels by its content: refused by its name only
    assert is_labels_name("lab0.npz") and is_labels_name("LAB_train.NPZ") and not is_labels_name("data0.npz")
    with pytest.raises(ExportError, match="it is a labels file"):
        check_output_target(dest)
    monkeypatch.delitem(ARRAY_FORMATS, ".npz")
    assert check_output_target(dest) is False  # without the entry, an ordinary CSV name


def test_the_retrain_file_dialog_offers_every_format(npz, qtbot, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    from digitsum_gui.retrain.form import TrainForm

    filters = []
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: filters.append(a[3]) or ("", "")))
    form = TrainForm()
    qtbot.addWidget(form)
    form._choose_npy()
    monkeypatch.delitem(ARRAY_FORMATS, ".npz")
    form._choose_npy()
    assert filters == ["Image arrays (data*.npy *.npy data*.npz *.npz)", "Image arrays (data*.npy *.npy)"]


# ---------------------------------------------------------------- .npy: the texts users see


def test_npy_texts_are_as_before(tmp_path):
    np.save(tmp_path / "data0.npy", np.zeros((3, 40, 168), np.uint8))
    np.save(tmp_path / "lab0.npy", np.array([1, 2]))
    (tmp_path / "x.txt").write_text("x")
    data = os.fspath(tmp_path / "data0.npy")
    cases = [
        (lambda: label_twin(tmp_path / "images.png"), "expected a name like data0.npy with lab0.npy beside it"),
        (lambda: read_truth(tmp_path / "lab0.npy", [tmp_path]), "--labels LAB.npy needs exactly one data .npy input"),
        (lambda: read_truth(tmp_path / "lab0.npy", [data]), "data0.npy has 3 images but lab0.npy has 2 sums"),
        (lambda: load_labelled(tmp_path / "x.txt"), "expected a folder with labels.csv or an .npy data file"),
    ]
    for call, text in cases:
        with pytest.raises(InputError) as info:
            call()
        assert str(info.value).endswith(text)
    assert is_labels_name("labels.csv") and is_labels_name("Labels.CSV") and is_labels_name("lab.npy")
    assert not is_labels_name("labels.csv.bak") and not is_labels_name("data0.npy") and not is_labels_name("lab0.npz")


def test_read_truth_reads_labels_csv(tmp_path):
    (tmp_path / "labels.csv").write_text("filename,sum,digits\na.png,7,1222\n")
    assert read_truth(tmp_path / "labels.csv", [tmp_path]) == {"a.png": (7, "1222")}


def test_truth_of_an_array_whose_name_is_not_utf8_matches_its_rows(tmp_path):
    # a name from an old Latin-1 archive: the rows are listed under a readable name, and the
    # truth must be keyed the same way or evaluate would match nothing
    data_name = os.fsdecode(os.fsencode(tmp_path) + b"/data\xe9.npy")  # \udce9: an undecodable byte
    np.save(data_name, images())
    np.save(os.fsdecode(os.fsencode(tmp_path) + b"/lab\xe9.npy"), np.array([4, 5, 36]))
    truth = read_truth(os.fsdecode(os.fsencode(tmp_path) + b"/lab\xe9.npy"), [data_name])
    assert list(truth) == [item.name for item in list_inputs([data_name])]
    assert list(truth)[0].endswith("data\\xe9.npy:0")


def test_a_header_claiming_2_to_the_62_rows_is_one_line_without_numpys_warning(tmp_path):
    header = "{'descr': '|u1', 'fortran_order': False, 'shape': (" + str(2**62) + ", 40, 168), }"
    header += " " * (117 - len(header)) + "\n"
    path = tmp_path / "data0.npy"
    path.write_bytes(b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode())
    proc = run_cli("predict", path, "--output", tmp_path / "out.csv")
    line = one_line_error(proc, "predict")
    assert line.endswith("data0.npy: not a readable .npy array (overflow encountered in scalar multiply)")


# ================================================================ hardening cases (docs/RELIABILITY.md)


NPY_SEEDS = []


for _arr in (
    np.zeros((2, 40, 168), np.uint8),
    np.linspace(0, 1, 2 * 40 * 168, dtype=np.float32).reshape(2, 40, 168),
    np.full((1, 40, 168), 300, np.uint16),
):
    _buf = io.BytesIO()
    np.save(_buf, _arr)
    NPY_SEEDS.append(_buf.getvalue())


@pytest.mark.hardening("issue 6, case 5")
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    seed=st.sampled_from(range(len(NPY_SEEDS))),
    edits=st.lists(st.tuples(st.integers(0, 160), st.integers(0, 255)), min_size=1, max_size=6),
    cut=st.one_of(st.none(), st.integers(0, 30000)),
)
def test_case05_fuzzed_npy_arrays_raise_only_typed_one_line_errors(tmp_path, seed, edits, cut):
    """The image reader's fuzzing is tests/inputs/test_images.py::test_fuzz_*; this is the other reader, .npy
    (mutations in the header, where numpy's own parser raises anything)."""
    path = tmp_path / "data0.npy"
    path.write_bytes(mutate(NPY_SEEDS[seed], edits, cut))
    try:
        items = list_inputs([path])
    except InputError as exc:
        assert "\n" not in str(exc)
        return
    for item in items[:3]:
        try:
            out = load_item(item)
        except ImageReadError as exc:
            assert "\n" not in str(exc)
        else:
            assert out.shape == (40, 168) and out.dtype == np.uint8


def _samples(n: int) -> np.ndarray:
    return np.stack([np.asarray(Image.open(SAMPLES / f"synth_{i:05d}.png")) for i in range(n)])  # uint8 (n, 40, 168)


@pytest.mark.hardening("issue 14, class 3")
def test_class3_one_outlier_spoils_only_its_own_row_and_never_the_files_scale(tmp_path, baseline_model):
    """Real .npy files through one real `digitsum predict`: each poisoned file must give the clean
    file's rows everywhere but on the poisoned rows, which are error rows naming the values."""
    from helpers.clitools import read_csv_bytes

    clean = _samples(12)
    cases = {  # name: (array, row, value put at one pixel, the row's error)
        "float01_inf.npy": (clean / 255.0, 3, np.inf, "image contains NaN or infinite values"),
        "float01_two.npy": (clean / 255.0, 5, 2.0, "values from 0 to 2, outside this file's range 0..1"),
        "float255_inf.npy": (clean.astype(np.float64), 3, np.inf, "image contains NaN or infinite values"),
        "uint16_256.npy": (clean.astype(np.uint16), 7, 256, "values from 0 to 256, outside this file's range 0..255"),
        "int16_negative.npy": (
            clean.astype(np.int16),
            2,
            -1,
            "values from -1 to 255, outside this file's range 0..255",
        ),
    }
    np.save(tmp_path / "clean.npy", clean)
    np.save(tmp_path / "uint16_full.npy", clean.astype(np.uint16) * 257)  # real 16-bit data stays 16-bit
    for name, (arr, row, value, _) in cases.items():
        arr = arr.copy()
        arr[row, 20, 80] = value
        np.save(tmp_path / name, arr)
    names = ["clean.npy", "uint16_full.npy", *cases]
    out = tmp_path / "out.csv"
    proc = run_cli(
        "predict", *[tmp_path / n for n in names], "--model", baseline_model, "--device", "cpu", "--output", out, "-q"
    )
    assert proc.returncode == 0, proc.stderr
    rows = read_csv_bytes(out.read_bytes())[1]
    by_file = {n: rows[12 * k : 12 * (k + 1)] for k, n in enumerate(names)}
    reference = [(r["predicted_sum"], r["confidence"], r["error"]) for r in by_file["clean.npy"]]
    assert all(r[2] == "" for r in reference)
    assert [(r["predicted_sum"], r["confidence"], r["error"]) for r in by_file["uint16_full.npy"]] == reference
    for name, (_, bad, _, reason) in cases.items():
        got = [(r["predicted_sum"], r["confidence"], r["error"]) for r in by_file[name]]
        assert got[bad] == ("", "", reason), (name, got[bad])
        assert got[:bad] + got[bad + 1 :] == reference[:bad] + reference[bad + 1 :], name
