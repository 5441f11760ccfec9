"""core.synth.bank: digit banks from every source, refused with one line when unusable, and the index split."""

from __future__ import annotations

import gzip
import os
import struct

import numpy as np
import pytest
from helpers.clitools import TINY_TRAIN, run_cli
from helpers.clitools import cli_in_process as in_process
from helpers.clitools import one_line_any_stdout as one_line

from core.synth.bank import BUNDLED_BANK, BankError, load_bank
from core.synth.splits import split_indices

# --- digit banks -----------------------------------------------------------------------


def small_mnist(n=30, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), (np.arange(n) % 10).astype(np.uint8)


def write_idx(path, array: np.ndarray, compress=False) -> None:
    """An IDX file as MNIST ships them: 0x0000, type 0x08 (ubyte), ndim, big-endian sizes, data."""
    data = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    data += array.astype(np.uint8).tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(data) if compress else data)


def assert_bank(bank, x, y):
    np.testing.assert_array_equal(bank.x, x)
    np.testing.assert_array_equal(bank.y, y)
    assert bank.y.dtype == np.int64 and bank.x.dtype == np.uint8


def test_bundled_bank():
    bank = load_bank()
    assert BUNDLED_BANK.is_file()
    assert bank.x.shape[1:] == (28, 28) and len(bank.x) == len(bank.y) == len(bank.index)
    assert set(np.unique(bank.y)) == set(range(10))
    assert np.bincount(bank.y).min() >= 100  # a few hundred digits per class


def test_npz_bank_with_and_without_index(tmp_path):
    x, y = small_mnist()
    np.savez_compressed(tmp_path / "plain.npz", x=x, y=y)
    bank = load_bank(tmp_path / "plain.npz")
    assert_bank(bank, x, y)
    np.testing.assert_array_equal(bank.index, np.arange(30))
    np.savez(tmp_path / "indexed.npz", x=x, y=y, index=np.arange(100, 130))
    np.testing.assert_array_equal(load_bank(str(tmp_path / "indexed.npz")).index, np.arange(100, 130))


@pytest.mark.parametrize("compress", [False, True])
def test_idx_files(tmp_path, compress):
    x, y = small_mnist(seed=1)
    ext = ".gz" if compress else ""
    write_idx(tmp_path / f"train-images-idx3-ubyte{ext}", x, compress)
    write_idx(tmp_path / f"train-labels-idx1-ubyte{ext}", y, compress)
    assert_bank(load_bank(tmp_path), x, y)  # the folder
    assert_bank(load_bank(tmp_path / f"train-images-idx3-ubyte{ext}"), x, y)  # the images file itself


def test_torchvision_mnist_folder(tmp_path):
    """torchvision.datasets.MNIST(root) keeps root/MNIST/raw/*-ubyte (and .gz)."""
    x, y = small_mnist(seed=2)
    raw = tmp_path / "MNIST" / "raw"
    write_idx(raw / "train-images-idx3-ubyte", x)
    write_idx(raw / "train-labels-idx1-ubyte", y)
    write_idx(raw / "train-images-idx3-ubyte.gz", x, compress=True)
    write_idx(raw / "train-labels-idx1-ubyte.gz", y, compress=True)
    for folder in (tmp_path, tmp_path / "MNIST", raw):
        assert_bank(load_bank(folder), x, y)


def test_bad_banks_are_refused_with_a_reason(tmp_path):
    x, y = small_mnist()
    cases = {}
    cases["missing"] = tmp_path / "nothing.npz"
    np.savez(tmp_path / "nokeys.npz", a=x)
    cases["no x,y"] = tmp_path / "nokeys.npz"
    np.savez(tmp_path / "shape.npz", x=x[:, :20], y=y)
    cases["wrong shape"] = tmp_path / "shape.npz"
    np.savez(tmp_path / "float.npz", x=x.astype(np.float32), y=y)
    cases["float pixels"] = tmp_path / "float.npz"
    np.savez(tmp_path / "count.npz", x=x, y=y[:-1])
    cases["label count"] = tmp_path / "count.npz"
    (tmp_path / "empty").mkdir()
    cases["empty folder"] = tmp_path / "empty"
    idx = tmp_path / "bad-idx"
    write_idx(idx / "train-images-idx3-ubyte", x)  # no labels file beside it
    cases["labels missing"] = idx
    (tmp_path / "text" / "train-images-idx3-ubyte").parent.mkdir()
    (tmp_path / "text" / "train-images-idx3-ubyte").write_text("not an idx file at all")
    write_idx(tmp_path / "text" / "train-labels-idx1-ubyte", y)
    cases["not idx"] = tmp_path / "text"
    for what, path in cases.items():
        with pytest.raises(BankError) as info:
            load_bank(path)
        assert "\n" not in str(info.value), what


# --- splits ----------------------------------------------------------------------------


def test_split_indices_are_disjoint_and_cover_mnist():
    splits = split_indices()
    sets = {k: set(v.tolist()) for k, v in splits.items()}
    assert not sets["train"] & sets["val"] and not sets["train"] & sets["holdout"] and not sets["val"] & sets["holdout"]
    assert sets["train"] | sets["val"] | sets["holdout"] == set(range(60000))
    assert len(sets["val"]) == len(sets["holdout"]) == 3000
    assert all((np.diff(v) > 0).all() for v in splits.values())  # sorted, no repeats
    np.testing.assert_array_equal(split_indices()["val"], splits["val"])  # fixed, not random per call


# ================================================================ hardening cases (docs/RELIABILITY.md)


BANKS = {
    "label 12": (np.arange(60) % 13, "digit labels must be 0..9, got 10 at index 10 (12 of 60 outside)"),
    "label -1": (-(np.arange(60) % 3), "digit labels must be 0..9, got -1 at index 1 (40 of 60 outside)"),
    "label 0.5": (np.arange(60) % 10 + 0.5, "digit labels must be whole numbers 0..9, got dtype float64"),
    "no digits": (np.zeros(0, np.int64), "the digit bank holds no digits"),
}


@pytest.mark.hardening("issue 14, class 8")
@pytest.mark.parametrize("case", BANKS)
def test_class8_a_digit_bank_with_bad_labels_or_no_digits_gives_one_line(case, tmp_path, capsys):
    from core.train.script import run_cli as train

    labels, reason = BANKS[case]
    digits = np.random.default_rng(0).integers(0, 255, (len(labels), 28, 28), dtype=np.uint8)
    bank = tmp_path / "bank.npz"
    np.savez(bank, x=digits, y=labels)
    line = one_line(*in_process(capsys, "synth", tmp_path / "out", "--count", 3, "--mnist", bank), "synth")
    assert line == f"digitsum synth: error: {bank}: {reason}"
    status = train(["--data", "synthetic:16", "--mnist", str(bank), *TINY_TRAIN, "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 1 and err == [f"digitsum train: error: synthetic data: {bank}: {reason}"]
    assert sorted(os.listdir(tmp_path)) == ["bank.npz", "run"] and not (tmp_path / "run" / "best.safetensors").exists()
    if case == "label 12":  # and once as a real process
        proc = run_cli("synth", tmp_path / "out", "--count", 3, "--mnist", bank)
        assert proc.returncode == 1 and proc.stderr.strip() == f"digitsum synth: error: {bank}: {reason}"
